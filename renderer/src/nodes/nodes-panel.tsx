// The nodes: each one's connection state as it answers, kube-proxy mode and backend, guard state,
// and its error in words beside it. A changed host key is a red refusal naming where the old key is.
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

export function NodesPanel() {
  const nodes = useWorkspace((s) => s.workspace?.nodes ?? NO_NODES);
  const statuses = useNodes((s) => s.statuses);
  const discovering = useNodes((s) => s.discovering);
  const error = useNodes((s) => s.error);
  const accepted = useNodes((s) => s.accepted);
  const discover = useNodes((s) => s.discover);
  const cancel = useNodes((s) => s.cancel);
  return (
    <section className="nodes" aria-label="Nodes">
      <header className="panel-head">
        <h2>Nodes</h2>
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
      <ul className="node-list" data-testid="node-list">
        {nodes.map((n) => {
          const s = statuses[n.name];
          const st = stateText(s);
          return (
            <li key={n.name} className={`node node--${st.tone}`} data-testid={`node-${n.name}`}>
              <div className="node-line">
                <span className="node-name">{n.name}</span>
                <span className={`pill pill--${st.tone}`}>{st.text}</span>
              </div>
              <div className="node-meta muted">
                {s?.summary
                  ? `${s.summary.mode} · ${s.summary.backend} · ${s.summary.families.join('+')} · ${s.summary.nodePorts} NodePorts${s.summary.pending ? ' · confirm pending' : ''}`
                  : `${n.user ? `${n.user}@` : ''}${n.host}${n.port ? `:${n.port}` : ''}`}
              </div>
              {(accepted[n.name] ?? []).map((k) => (
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
              {s?.error && (
                <div
                  className={`node-error ${s.errorKind === 'host-key-changed' ? 'node-error--refusal' : ''}`}
                  role="note"
                >
                  {s.error}
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
