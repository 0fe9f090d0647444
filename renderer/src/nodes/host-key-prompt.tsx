// An unknown host key asks once, with its SHA256 fingerprint, beside the node list: trust once,
// trust always (recorded in known_hosts) or reject. It never blocks the rest of the window.
import { useNodes } from './nodes-store';

export function HostKeyPrompts() {
  const prompts = useNodes((s) => s.prompts);
  const answer = useNodes((s) => s.answer);
  if (prompts.length === 0) return null;
  return (
    <div className="prompts">
      {prompts.map((p) => (
        <section
          key={p.requestId}
          className="prompt"
          role="alertdialog"
          aria-labelledby={`hk-${p.requestId}`}
          data-testid="host-key-prompt"
        >
          <h3 id={`hk-${p.requestId}`}>
            Unknown host key: {p.role === 'node' ? p.node : `jump host ${p.host} (for ${p.node})`}
          </h3>
          <p className="muted">
            {p.host}:{p.port} presents a {p.keyType} key that known_hosts does not have. Compare it with the
            key the node shows (<code>ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub</code>).
          </p>
          <code className="fingerprint">{p.fingerprint}</code>
          <div className="row">
            <button
              type="button"
              className="button button--primary"
              onClick={() => void answer(p.requestId, 'always')}
            >
              Trust always
            </button>
            <button type="button" className="button" onClick={() => void answer(p.requestId, 'once')}>
              Trust once
            </button>
            <button
              type="button"
              className="button button--danger"
              onClick={() => void answer(p.requestId, 'reject')}
            >
              Reject
            </button>
          </div>
        </section>
      ))}
    </div>
  );
}
