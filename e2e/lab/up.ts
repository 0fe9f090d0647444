// Build the lab: bridge, node and client namespaces, kube-proxy's rules, pods, sshd, known_hosts
// and the workspace file. Idempotent: a healthy lab with the same options is left as it is;
// anything else (other options, leftovers of a crash) is torn down first.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { labDown } from './down';
import { loadKubeProxy } from './kube-proxy-node';
import { createBridge, createClient, createNode, linkExists } from './network';
import { podServerConfig } from './pods/pod-config';
import {
  ensureLabKey,
  ensurePrivsepDir,
  ensureUsers,
  knownHostsText,
  prepareNodeSshd,
  sshBanner,
  sshdRunning,
  startSshd,
} from './sshd';
import { type LabState, type NodeProcesses, paths, readState, STATE_DIR, writeState } from './state';
import { type LabStatus, labStatus } from './status';
import { listNetns } from './sys/netns';
import { isAlive, startDaemon, waitFor } from './sys/processes';
import { BRIDGE, type LabNode, type LabOptions, type LabTopology, labTopology } from './topology';
import { writeWorkspace } from './workspace';

const POD_SERVER = resolve(dirname(fileURLToPath(import.meta.url)), 'pods', 'pod-server.ts');

/**
 * The pod server as one plain .mjs in the state dir: `node file.mjs` starts in ~0.1 s where
 * `node --import tsx` needs over a second on a busy machine, times every node.
 */
async function bundlePodServer(): Promise<string> {
  await build({
    entryPoints: [POD_SERVER],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: paths.podServerJs,
    logLevel: 'silent',
  });
  return paths.podServerJs;
}

function sameOptions(a: LabOptions, b: LabOptions): boolean {
  return (
    a.nodes === b.nodes &&
    a.clients === b.clients &&
    a.mode === b.mode &&
    a.layout === b.layout &&
    a.ipv6 === b.ipv6
  );
}

/** Is everything `up` builds still there and running? */
export async function labHealthy(state: LabState, topo: LabTopology): Promise<boolean> {
  const namespaces = new Set(await listNetns());
  if (![...topo.nodes, ...topo.clients].every((x) => namespaces.has(x.netns))) return false;
  if (!(await linkExists(BRIDGE))) return false;
  for (const node of topo.nodes) {
    const p = state.processes[node.name];
    if (!(await sshdRunning(p?.sshd))) return false;
    if (p?.pods === undefined || !(await isAlive(p.pods, STATE_DIR))) return false;
  }
  try {
    await readFile(paths.workspace);
  } catch {
    return false;
  }
  return true;
}

async function startPods(topo: LabTopology, node: LabNode, script: string): Promise<number> {
  const config = podServerConfig(topo, node, paths.podsReady(node.name));
  await writeFile(paths.podsConfig(node.name), `${JSON.stringify(config, null, 2)}\n`);
  const pid = await startDaemon(
    node.netns,
    [process.execPath, script, paths.podsConfig(node.name)],
    paths.podsLog(node.name),
  );
  await waitFor(
    `pods of ${node.name} (see ${paths.podsLog(node.name)})`,
    async () => {
      if (!(await isAlive(pid)))
        throw new Error(`pod server of ${node.name} exited; see ${paths.podsLog(node.name)}`);
      return readFile(paths.podsReady(node.name)).then(
        () => true,
        () => false,
      );
    },
    8000,
    50,
  );
  return pid;
}

interface BuiltNode {
  readonly node: LabNode;
  readonly hostKey: string;
  readonly pods: number;
  readonly sshd: number;
}

async function buildNode(topo: LabTopology, node: LabNode, podServer: Promise<string>): Promise<BuiltNode> {
  await mkdir(paths.nodeDir(node.name), { recursive: true, mode: 0o755 });
  await createNode(topo, node);
  await loadKubeProxy(topo, node);
  const hostKey = await prepareNodeSshd(node);
  const [pods, sshd] = await Promise.all([startPods(topo, node, await podServer), startSshd(node)]);
  return { node, hostKey, pods, sshd };
}

async function readRequiredState(): Promise<LabState> {
  const state = await readState();
  if (!state) throw new Error(`state file ${paths.stateFile} vanished while the lab was being built`);
  return state;
}

export async function labUp(
  options: LabOptions,
  log: (line: string) => void = () => undefined,
): Promise<LabStatus> {
  if (process.getuid?.() !== 0) throw new Error('the lab needs root (network namespaces, iptables, sshd)');
  const topo = labTopology(options);
  const existing = await readState();
  if (existing && sameOptions(existing.options, topo.options) && (await labHealthy(existing, topo))) {
    log('lab is already up');
    return labStatus(topo, paths.workspace);
  }
  await labDown(log);
  const started = Date.now();
  await mkdir(STATE_DIR, { recursive: true, mode: 0o755 });
  const createdPrivsepDir = await ensurePrivsepDir();
  // Written before anything exists, so `down` finds what a crash in the middle leaves.
  await writeState({
    version: 1,
    options: topo.options,
    createdAt: new Date().toISOString(),
    processes: {},
    createdPrivsepDir,
  });
  await Promise.all([ensureUsers(), ensureLabKey(), createBridge(topo.options.ipv6)]);
  await Promise.all(topo.clients.map((c) => createClient(topo, c)));
  // Nodes are built in parallel. If `up` dies half-way, the PIDs are not in the state file yet,
  // but `down` still finds the processes: they are whatever runs inside the lab namespaces.
  const podServer = bundlePodServer();
  podServer.catch(() => undefined); // awaited (and reported) by every buildNode
  const built = await Promise.all(topo.nodes.map((node) => buildNode(topo, node, podServer)));
  const processes: Record<string, NodeProcesses> = {};
  for (const b of built) {
    processes[b.node.name] = { sshd: b.sshd, pods: b.pods };
    log(
      `${b.node.name} up (${b.node.ipv4}${b.node.ipv6 ? `, ${b.node.ipv6}` : ''}): sshd ${b.sshd}, pods ${b.pods}`,
    );
  }
  await writeState({ ...(await readRequiredState()), processes });
  await writeFile(paths.knownHosts, knownHostsText(built), { mode: 0o644 });
  const workspace = await writeWorkspace(topo);
  for (const node of topo.nodes) {
    if (!(await sshBanner(node.ipv4)))
      throw new Error(`sshd of ${node.name} does not answer on ${node.ipv4}:22`);
  }
  log(
    `lab up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${topo.nodes.length} nodes, ${topo.options.mode} mode; workspace ${workspace}`,
  );
  return labStatus(topo, workspace);
}
