// The nodes: each one's connection state as it answers, kube-proxy mode and backend, guard state,
// and its error in words beside it. A changed host key is a red refusal naming where the old key is.
// Virtualised, each row following its own node, and "Problems only" for a big fleet.
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useMemo, useRef, useState } from 'react';
import type { NodeStatusView } from '../../../shared/api';
import { useWorkspace } from '../workspace/workspace-store';
import { CredentialPrompts } from './credential-prompt';
import { HostKeyPrompts } from './host-key-prompt';
import { useNodes } from './nodes-store';

/** One empty list, so the selector's answer is stable while no workspace is open. */
const NO_NODES: readonly never[] = [];

function stateText(s: NodeStatusView | undefined): { text: string; tone: string } {
  switch (s?.state) {
    case undefined:
      return { text: 'not read', tone: 'plain' };
    case 'connecting':
      return { text: 'connecting…', tone: 'busy' };
    case 'reading':
      return { text: 'reading…', tone: 'busy' };
    case 'failed':
      return { text: s.errorKind?.startsWith('host-key') ? 'host key refused' : 'unreachable', tone: 'bad' };
    case 'ok': {
      const g = s.summary?.guard;
      return g === 'unhealthy'
        ? { text: 'drift', tone: 'warn' }
        : g === 'healthy'
          ? { text: 'guarded', tone: 'guard' }
          : { text: 'ok', tone: 'ok' };
    }
  }
}

/** Rows are drawn only where the panel shows them: 1,000 nodes cost what 30 do. */
const ROW_ESTIMATE = 48;

/** A node that needs a look: not answered well, or its guard drifted. */
function isProblem(s: NodeStatusView | undefined): boolean {
  return (
    s?.state === 'failed' ||
    (s?.state === 'ok' && (s.summary?.guard === 'unhealthy' || s.summary?.dataplane !== undefined))
  );
}

export function NodesPanel() {
  const nodes = useWorkspace((s) => s.workspace?.nodes ?? NO_NODES);
  const discovering = useNodes((s) => s.discovering);
  const error = useNodes((s) => s.error);
  const discover = useNodes((s) => s.discover);
  const cancel = useNodes((s) => s.cancel);
  // Only the names of the nodes that need a look: the panel re-renders when that set changes, not
  // on every node's event (each row follows its own node).
  const problemKey = useNodes((s) =>
    nodes
      .filter((n) => isProblem(s.statuses[n.name]))
      .map((n) => n.name)
      .join('\n'),
  );
  const problems = useMemo(() => new Set(problemKey ? problemKey.split('\n') : []), [problemKey]);
  const [problemsOnly, setProblemsOnly] = useState(false);
  const shown = useMemo(
    () => (problemsOnly ? nodes.filter((n) => problems.has(n.name)) : nodes),
    [nodes, problems, problemsOnly],
  );
  // Questions above the list move it down: read its offset again when they come and go.
  useNodes((s) => s.prompts.length + s.credentials.length);
  const scroller = useRef<HTMLElement>(null);
  const list = useRef<HTMLUListElement>(null);
  const virtual = useVirtualizer({
    count: shown.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_ESTIMATE,
    overscan: 8,
    scrollMargin: list.current?.offsetTop ?? 0,
  });
  return (
    <section className="nodes" aria-label="Nodes" ref={scroller}>
      <header className="panel-head">
        <h2>Nodes</h2>
        {(problems.size > 0 || problemsOnly) && (
          <button
            type="button"
            className="button"
            aria-pressed={problemsOnly}
            onClick={() => setProblemsOnly((v) => !v)}
            data-testid="nodes-problems-only"
          >
            {problemsOnly ? `Show all ${nodes.length}` : `Problems only (${problems.size})`}
          </button>
        )}
        {discovering ? (
          <button type="button" className="button" onClick={cancel}>
            Cancel
          </button>
        ) : (
          <button
            type="button"
            className="button"
            onClick={() => void discover()}
            title="Read every node again (R)"
          >
            Refresh
          </button>
        )}
      </header>
      <HostKeyPrompts />
      <CredentialPrompts />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <ul
        className="node-list"
        data-testid="node-list"
        ref={list}
        aria-label={`${shown.length} of ${nodes.length} nodes`}
        style={{ height: virtual.getTotalSize(), position: 'relative' }}
      >
        {virtual.getVirtualItems().map((item) => {
          const n = shown[item.index];
          if (n === undefined) return null;
          return (
            <li
              key={n.name}
              data-index={item.index}
              ref={virtual.measureElement}
              style={{
                position: 'absolute',
                top: 0,
                left: 0,
                right: 0,
                transform: `translateY(${item.start - virtual.options.scrollMargin}px)`,
              }}
            >
              <NodeRow node={n} />
            </li>
          );
        })}
      </ul>
      {problemsOnly && shown.length === 0 && <p className="muted">No node needs a look now.</p>}
    </section>
  );
}

interface InventoryNode {
  readonly name: string;
  readonly host: string;
  readonly port?: number;
  readonly user?: string;
}

/** One node's row; it follows that node's status only. */
const NodeRow = memo(function NodeRow({ node: n }: { node: InventoryNode }) {
  const s = useNodes((st) => st.statuses[n.name]);
  const accepted = useNodes((st) => st.accepted[n.name] ?? NO_NODES);
  const st = stateText(s);
  return (
    <div className={`node node--${st.tone}`} data-testid={`node-${n.name}`}>
      <div className="node-line">
        <span className="node-name">{n.name}</span>
        <span className={`pill pill--${st.tone}`}>{st.text}</span>
      </div>
      <div className="node-meta muted">
        {s?.summary
          ? `${s.summary.mode} · ${s.summary.backend} · ${s.summary.families.join('+')} · ${s.summary.nodePorts} NodePorts${s.summary.guard !== 'none' ? ` · guard ${s.summary.guardBackend === 'nft' ? 'nft table' : 'iptables'}${s.summary.guard === 'unhealthy' ? ' (unhealthy)' : ''}` : ''}${s.summary.pending ? ' · confirm pending' : ''}`
          : `${n.user ? `${n.user}@` : ''}${n.host}${n.port ? `:${n.port}` : ''}`}
      </div>
      {accepted.map((k) => (
        // One short line in the node's own row; the full OpenSSH-style line on hover and
        // for screen readers.
        <div
          key={`${k.role} ${k.fingerprint}`}
          className="node-meta muted node-key"
          role="status"
          aria-label={k.message}
          title={k.message}
          data-testid="host-key-accepted"
        >
          {/* What happened first: the fingerprint is what the row's width cuts. */}
          {k.role === 'jump-host' ? 'jump host ' : ''}
          {k.recorded ? 'key added' : 'key trusted once'}: {k.keyType} {k.fingerprint}
        </div>
      ))}
      {s?.summary?.dataplane && (
        // The first clause in the row (who serves the NodePorts); the whole sentence, with what
        // apply will do, on hover and for screen readers.
        <div
          className="node-meta node-dataplane"
          role="note"
          aria-label={s.summary.dataplane.sentence}
          title={s.summary.dataplane.sentence}
          data-testid="node-dataplane"
        >
          {s.summary.dataplane.guardable === 'no' ? 'Not guardable: ' : 'Guard unsure: '}
          {s.summary.dataplane.sentence.split(':')[0]}
        </div>
      )}
      {s?.error && (
        <div
          className={`node-error ${s.errorKind === 'host-key-changed' ? 'node-error--refusal' : ''}`}
          role="note"
        >
          {s.error}
        </div>
      )}
    </div>
  );
});
