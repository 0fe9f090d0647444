// The audit log: every apply, rollback and remove from this workspace, newest first, filterable.
import { useEffect, useState } from 'react';
import { useRollout } from './rollout-store';

export function HistoryTab() {
  const s = useRollout();
  const [filter, setFilter] = useState('');
  const load = s.loadHistory;
  useEffect(() => {
    void load();
  }, [load]);
  const q = filter.toLowerCase();
  const entries = (s.history?.entries ?? []).filter(
    (e) =>
      !q ||
      `${e.time} ${e.op} ${e.operator ?? ''} ${e.outcome ?? ''} ${e.nodes.map((n) => `${n.node} ${n.status}`).join(' ')}`
        .toLowerCase()
        .includes(q),
  );
  return (
    <div className="tab-body">
      <div className="row">
        <input
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
          placeholder="Filter: node, op, outcome, operator"
          aria-label="Filter the history"
        />
        <button type="button" className="button" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      {s.history?.warnings.map((w) => (
        <p key={w} className="warning">
          {w}
        </p>
      ))}
      {entries.length === 0 && <p className="muted">No change recorded yet for this workspace.</p>}
      <table className="history" data-testid="history">
        <tbody>
          {entries.map((e) => (
            <tr key={`${e.time} ${e.token}`}>
              <td>{new Date(e.time).toLocaleString()}</td>
              <td>{e.op}</td>
              <td className={e.outcome === 'ok' ? 'ok' : 'bad'}>{e.outcome}</td>
              <td>{e.operator}</td>
              <td>{e.nodes.map((n) => `${n.node}: ${n.status}`).join(', ')}</td>
              <td>
                <code title="plan hash">{e.plan?.slice(0, 12)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
