// The engine in-process on the running lab, for lab tests: a private copy of the lab's workspace,
// one session over all nodes, and `change` (prepare + runChanges). `close` removes the guard from
// every node, closes the session and deletes the copy.
import { expect } from 'vitest';
import { currentLab, type LabTopology, workspacePath } from '../../../e2e/lab/lab';
import type { Policy } from '../../../shared/workspace/schema';
import { localStore } from '../local-store';
import { prepare } from '../prepare';
import { type RunChangesResult, runChanges } from '../run-changes';
import { openSession, type Session } from '../session';
import { loadWorkspace } from '../workspace-file';
import { copyLabWorkspace, type LabWorkspace } from './lab-workspace';

export interface LabEngine {
  readonly topo: LabTopology;
  readonly ws: LabWorkspace;
  readonly session: Session;
  change(
    op: 'apply' | 'remove',
    policy: Policy,
    extra?: { killEstablished?: boolean },
  ): Promise<RunChangesResult>;
  close(): Promise<void>;
}

export async function openLabEngine(): Promise<LabEngine> {
  const topo = await currentLab();
  const ws = await copyLabWorkspace(workspacePath());
  const loaded = await loadWorkspace(ws.path);
  if (!loaded.ok) throw new Error(loaded.message);
  const opened = await openSession(loaded.value, { sshConfigPath: null });
  if (!opened.ok) throw new Error(opened.message);
  const session = opened.session;
  const change: LabEngine['change'] = async (op, policy, extra = {}) => {
    const prepared = await prepare(session, op, policy);
    expect(prepared.unplanned).toEqual([]);
    return runChanges(session, prepared.changes, {
      store: localStore(ws.path),
      workspacePath: ws.path,
      ...extra,
    });
  };
  return {
    topo,
    ws,
    session,
    change,
    close: async () => {
      await change('remove', { nodePorts: [] }).catch(() => undefined);
      await session.close();
      await ws.cleanup();
    },
  };
}
