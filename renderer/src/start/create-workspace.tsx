// Create a workspace: nodes typed one per line (`name host[:port]` or just a host), or imported
// from ~/.ssh/config; the engine writes the file and opens it.
import { useState } from 'react';
import { api } from '../api/client';
import { useWorkspace } from '../workspace/workspace-store';
import { parseNodeLines } from './node-lines';

export function CreateWorkspace() {
  const create = useWorkspace((s) => s.create);
  const opening = useWorkspace((s) => s.opening);
  const [path, setPath] = useState('');
  const [lines, setLines] = useState('');
  const [user, setUser] = useState('');
  const [error, setError] = useState<string | undefined>();

  const importSsh = async () => {
    const r = await api.sshConfigHosts({});
    if (!r.ok) return setError(r.error.message);
    if (r.value.length === 0) return setError('~/.ssh/config names no concrete hosts');
    setError(undefined);
    setLines(r.value.map((h) => `${h.name} ${h.host}${h.port ? `:${h.port}` : ''}`).join('\n'));
  };

  return (
    <section className="start-card" aria-labelledby="create-h">
      <h2 id="create-h">Create a workspace</h2>
      <form
        className="stack"
        onSubmit={async (e) => {
          e.preventDefault();
          const nodes = parseNodeLines(lines);
          if (!nodes.ok) return setError(nodes.error);
          setError(undefined);
          await create({
            path: path.trim(),
            nodes: nodes.nodes,
            ...(user.trim() ? { user: user.trim() } : {}),
          });
        }}
      >
        <label>
          New file
          <input value={path} onChange={(e) => setPath(e.target.value)} placeholder="/home/me/prod-eu.yaml" />
        </label>
        <label>
          Nodes, one per line: <code>name host[:port]</code>
          <textarea
            value={lines}
            onChange={(e) => setLines(e.target.value)}
            rows={4}
            spellCheck={false}
            aria-invalid={Boolean(error)}
            aria-describedby={error ? 'create-error' : undefined}
          />
        </label>
        <label>
          SSH user (default for every node)
          <input value={user} onChange={(e) => setUser(e.target.value)} placeholder="root" />
        </label>
        <div className="row">
          <button type="button" className="button" onClick={() => void importSsh()}>
            Import from ~/.ssh/config
          </button>
          <button
            type="submit"
            className="button button--primary"
            disabled={opening || !path.trim() || !lines.trim()}
          >
            Create and open
          </button>
        </div>
        {error && (
          <p className="error" role="alert" id="create-error">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}
