// The cluster workspace: what exists (NodePorts, nodes) on the left, how a packet goes in the
// middle, what the engineer changes on the right, what happens on the nodes at the bottom.
import { useEffect } from 'react';
import { ClusterNodePorts } from '../nodeports/cluster-nodeports';
import { useLive } from '../nodeports/live-store';
import { PathPanel } from '../nodeports/path-panel';
import { useSelection } from '../nodeports/selection-store';
import { NodesPanel } from '../nodes/nodes-panel';
import { useNodes } from '../nodes/nodes-store';
import { PolicyPanel } from '../policy/policy-panel';
import { usePolicy } from '../policy/policy-store';
import { RolloutDrawer } from '../rollout/rollout-drawer';
import { useRollout } from '../rollout/rollout-store';
import { useWorkspace } from './workspace-store';

export function nodeCounts(statuses: Readonly<Record<string, { state: string }>>, total: number) {
  const list = Object.values(statuses);
  return {
    ok: list.filter((s) => s.state === 'ok').length,
    failed: list.filter((s) => s.state === 'failed').length,
    busy: list.filter((s) => s.state === 'connecting' || s.state === 'reading').length,
    total,
  };
}

export function WorkspaceSummary() {
  const ws = useWorkspace((s) => s.workspace);
  const statuses = useNodes((s) => s.statuses);
  const cluster = useNodes((s) => s.cluster);
  if (!ws) return null;
  const c = nodeCounts(statuses, ws.nodes.length);
  const modes = [...new Set(Object.values(statuses).flatMap((s) => (s.summary ? [s.summary.mode] : [])))];
  return (
    <span className="summary" data-testid="summary" aria-live="polite">
      {ws.name} · {c.total} nodes: {c.ok} ok{c.failed ? `, ${c.failed} unreachable` : ''}
      {c.busy ? `, ${c.busy} reading` : ''}
      {modes.length ? ` · ${modes.join(', ')}` : ''}
      {cluster ? ` · ${cluster.nodePorts.length} NodePorts` : ''}
    </span>
  );
}

export function WorkspaceScreen() {
  const path = useWorkspace((s) => s.workspace?.path);
  const discover = useNodes((s) => s.discover);

  // A new workspace starts clean and reads its nodes in the background.
  useEffect(() => {
    if (!path) return;
    useNodes.getState().reset();
    useSelection.getState().reset();
    useLive.getState().reset();
    usePolicy.getState().reset();
    useRollout.getState().reset();
    void discover();
  }, [path, discover]);

  return (
    <main className="layout layout--workspace">
      <aside className="sidebar">
        <ClusterNodePorts />
        <NodesPanel />
      </aside>
      <section className="content" aria-label="Packet path">
        <PathPanel />
      </section>
      <aside className="right">
        <PolicyPanel />
      </aside>
      <RolloutDrawer />
    </main>
  );
}
