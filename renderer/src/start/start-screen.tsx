// The start screen: reopen a recent workspace, open a file, create one from nodes typed in (or
// imported from ~/.ssh/config), or load a dump for offline analysis.
import { useEffect, useState } from 'react';
import { useWorkspace } from '../workspace/workspace-store';
import { CreateWorkspace } from './create-workspace';

export function StartScreen() {
  const recent = useWorkspace((s) => s.recent);
  const open = useWorkspace((s) => s.open);
  const opening = useWorkspace((s) => s.opening);
  const error = useWorkspace((s) => s.error);
  const showDump = useWorkspace((s) => s.showDump);
  const loadStart = useWorkspace((s) => s.loadStart);
  const [path, setPath] = useState('');
  useEffect(() => {
    void loadStart();
  }, [loadStart]);

  return (
    <main className="start">
      <section className="start-card" aria-labelledby="open-h">
        <h2 id="open-h">Open a cluster workspace</h2>
        {recent.length > 0 && (
          <ul className="recent" aria-label="Recent workspaces">
            {recent.map((r) => (
              <li key={r.path}>
                <button type="button" className="link-button" onClick={() => void open(r.path)}>
                  {r.path}
                </button>
                <span className="muted"> {new Date(r.openedAt).toLocaleString()}</span>
              </li>
            ))}
          </ul>
        )}
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (path.trim()) void open(path.trim());
          }}
        >
          <label className="grow">
            Workspace file
            <input
              value={path}
              onChange={(e) => setPath(e.target.value)}
              placeholder="/path/to/cluster.yaml"
              data-testid="workspace-path"
              aria-invalid={Boolean(error)}
              aria-describedby={error ? 'open-error' : undefined}
            />
          </label>
          <button type="submit" className="button button--primary" disabled={opening || !path.trim()}>
            {opening ? 'Opening…' : 'Open'}
          </button>
        </form>
        {error && (
          <p className="error" role="alert" id="open-error" data-testid="start-error">
            {error}
          </p>
        )}
      </section>
      <CreateWorkspace />
      <section className="start-card" aria-labelledby="dump-h">
        <h2 id="dump-h">Offline: read one node's rules</h2>
        <p className="muted">
          Load an iptables-save dump or a ticket excerpt; nothing connects to a cluster.
        </p>
        <button type="button" className="button" onClick={showDump} data-testid="open-dump">
          Load a dump…
        </button>
      </section>
    </main>
  );
}
