// The running lab, as test code sees it: its topology (from the state file), status, probes,
// kube-proxy actions, faults, and up/down. The one import for *.lab.test.ts anywhere in the repo:
//   import { currentLab, probeLab, fault, ... } from '../../e2e/lab/lab';
import { type ProbeRequest, type ProbeResult, probe } from './probe';
import { paths, readState } from './state';
import { type LabStatus, labStatus } from './status';
import { findNode, type LabNode, type LabTopology, labTopology } from './topology';

export { labDown } from './down';
export { FAULTS, type FaultName, fault } from './faults';
export {
  loadKubeProxy,
  nodeNftTable,
  nodeRules,
  restartKubeProxy,
  resyncKubeProxy,
} from './kube-proxy-node';
export { mapLimit, nodeConntrack, nodeIptables, nodeNft, withPreroutingRule } from './lab-helpers';
export { dumpNode, type NodeDump } from './node-dump';
export type { ProbeOutcome, ProbeRequest, ProbeResult } from './probe';
export { paths, STATE_DIR } from './state';
export type { LabStatus } from './status';
export { expectedWithoutGuard, type LabNode, type LabOptions, type LabTopology } from './topology';
export { labUp } from './up';

/** The running lab's topology; throws when the lab is not up. */
export async function currentLab(): Promise<LabTopology> {
  const state = await readState();
  if (!state) throw new Error('the lab is not up: run `npm run lab:up` (as root)');
  return labTopology(state.options);
}

export async function currentStatus(): Promise<LabStatus> {
  return labStatus(await currentLab(), paths.workspace);
}

/** Absolute path of the workspace file lab:up wrote. */
export function workspacePath(): string {
  return paths.workspace;
}

export async function probeLab(req: ProbeRequest): Promise<ProbeResult> {
  return probe(await currentLab(), req);
}

export async function labNode(ref: string): Promise<LabNode> {
  const node = findNode(await currentLab(), ref);
  if (!node) throw new Error(`no lab node ${ref}`);
  return node;
}
