// Verify as a grid: nodes x guarded NodePorts; a red cell says why in words. Probes prove it with
// real connections; the watch re-verifies every few seconds and turns a cell red on drift.
import { useState } from 'react';
import { useWorkspace } from '../workspace/workspace-store';
import { useRollout } from './rollout-store';
import { verifyGrid } from './verify-grid';

/** One empty list, so the selector's answer is stable while no workspace is open. */
const NO_NODES: readonly never[] = [];

export function VerifyTab() {
  const s = useRollout();
  const [open, setOpen] = useState<string | undefined>();
  const [from, setFrom] = useState('');
  const nodes = useWorkspace((w) => w.workspace?.nodes ?? NO_NODES);
  const grid = s.verify ? verifyGrid(s.verify) : undefined;
  const reasons = open ? findReasons(grid, open) : undefined;
  return (
    <div className="tab-body">
      <div className="row">
        <button
          type="button"
          className="button"
          disabled={Boolean(s.busy)}
          onClick={() => void s.runVerify()}
        >
          {s.busy === 'verify' ? 'Verifying…' : 'Verify'}
        </button>
        <button
          type="button"
          className="button"
          disabled={Boolean(s.busy)}
          onClick={() => void s.runVerify(true, from || undefined)}
        >
          Verify with probes
        </button>
        <label className="inline">
          from here and
          <select
            value={from}
            onChange={(e) => setFrom(e.target.value)}
            aria-label="Also probe from this node"
          >
            <option value="">no node</option>
            {nodes.map((n) => (
              <option key={n.name} value={n.name}>
                {n.name}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          role="switch"
          aria-checked={s.watching}
          className={`button ${s.watching ? 'button--on' : ''}`}
          data-testid="watch"
          onClick={s.toggleWatch}
        >
          {s.watching ? 'Watching (every 5 s)' : 'Watch for drift'}
        </button>
        {s.verify && (
          <span
            className={`pill pill--${s.verify.status === 'ok' ? 'ok' : 'bad'}`}
            data-testid="verify-status"
          >
            {s.verify.status === 'ok' ? 'all guarded as planned' : s.verify.status} ·{' '}
            {new Date(s.verify.at).toLocaleTimeString()}
          </span>
        )}
      </div>
      {grid && grid.ports.length === 0 && <p className="muted">No NodePort is in the policy yet.</p>}
      {grid && grid.ports.length > 0 && (
        <table className="grid" data-testid="verify-grid">
          <thead>
            <tr>
              <th scope="col">node</th>
              {grid.ports.map((p) => (
                <th key={p} scope="col">
                  {p}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {grid.rows.map((r) => (
              <tr key={r.node}>
                <th
                  scope="row"
                  className={r.status !== 'ok' && r.reasons.length ? 'cell--drift' : ''}
                  title={r.reasons.join('\n')}
                >
                  {r.node}
                </th>
                {r.cells.map((c, i) => {
                  const key = `${r.node} ${grid.ports[i]}`;
                  return (
                    <td key={key}>
                      {c ? (
                        <button
                          type="button"
                          className={`cell cell--${c.status}`}
                          data-testid={`cell-${r.node}-${grid.ports[i]}`}
                          aria-label={`${r.node} ${grid.ports[i]}: ${c.status}${c.reasons.length ? `: ${c.reasons[0]}` : ''}`}
                          onClick={() => setOpen(open === key ? undefined : key)}
                        >
                          {c.status === 'ok' ? '✓' : c.status === 'drift' ? '✕ drift' : '? error'}
                          {c.blocked ? ` · ${c.blocked} blocked` : ''}
                        </button>
                      ) : (
                        <span className="muted">–</span>
                      )}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {reasons && reasons.length > 0 && (
        <ul className="reasons" aria-label={`Why ${open}`}>
          {reasons.map((r) => (
            <li key={r}>{r}</li>
          ))}
        </ul>
      )}
      {s.verify?.probes.length ? (
        <ul className="probes">
          {s.verify.probes.map((p) => (
            <li key={p.line} className={p.ok ? 'ok' : 'bad'}>
              {p.line}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function findReasons(
  grid: ReturnType<typeof verifyGrid> | undefined,
  key: string,
): readonly string[] | undefined {
  if (!grid) return undefined;
  for (const r of grid.rows)
    for (const [i, c] of r.cells.entries())
      if (`${r.node} ${grid.ports[i]}` === key) return [...r.reasons, ...(c?.reasons ?? [])];
  return undefined;
}
