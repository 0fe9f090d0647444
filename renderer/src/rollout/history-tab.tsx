// The audit log: every apply, rollback and remove from this workspace, newest first, filterable
// by node, port, op or any text of the plan; each entry opens its plan as the plan tab showed it.
// Entries written before plans were kept show their plan's hash instead.
import { Fragment, useEffect, useId, useState } from 'react';
import type { HistoryEntryView } from '../../../shared/api';
import { filterHistory, planSummary } from './history-filter';
import { useRollout } from './rollout-store';

function PlanLines(props: { readonly entry: HistoryEntryView }) {
  return (
    <>
      {(props.entry.plans ?? []).map((g) => (
        <div key={g.nodes.join(',')}>
          <p className="muted">
            {g.nodes.join(', ')} ({g.diff.length ? `${g.diff.length} lines` : 'nothing to do'})
          </p>
          {g.diff.length > 0 && (
            <pre className="diff">
              {g.diff.map((l, i) => {
                const t = l.trimStart();
                return (
                  // biome-ignore lint/suspicious/noArrayIndexKey: diff lines repeat; their order is their identity
                  <span key={i} className={t.startsWith('+') ? 'add' : t.startsWith('-') ? 'del' : ''}>
                    {l}
                    {'\n'}
                  </span>
                );
              })}
            </pre>
          )}
        </div>
      ))}
    </>
  );
}

function Entry(props: {
  readonly entry: HistoryEntryView;
  readonly open: boolean;
  readonly setOpen: (open: boolean) => void;
}) {
  const { entry: e, open, setOpen } = props;
  const id = useId();
  const summary = planSummary(e);
  return (
    <Fragment>
      <tr>
        <td>{new Date(e.time).toLocaleString()}</td>
        <td>{e.op}</td>
        <td className={e.outcome === 'ok' ? 'ok' : 'bad'}>{e.outcome}</td>
        <td>{e.operator}</td>
        <td>{e.nodes.map((n) => `${n.node}: ${n.status}`).join(', ')}</td>
        <td>
          {summary ? (
            <button
              type="button"
              className="chip-button"
              aria-expanded={open}
              aria-controls={id}
              aria-label={`Plan of the ${e.op} at ${new Date(e.time).toLocaleString()}`}
              onClick={() => setOpen(!open)}
            >
              {open ? '▾' : '▸'} plan: {summary}
            </button>
          ) : (
            <code title="plan hash (this entry was recorded before plans were kept)">
              {e.plan?.slice(0, 12)}
            </code>
          )}
        </td>
      </tr>
      {summary && open && (
        <tr className="history-plan" id={id}>
          <td colSpan={6}>
            <PlanLines entry={e} />
          </td>
        </tr>
      )}
    </Fragment>
  );
}

export function HistoryTab() {
  const s = useRollout();
  const [filter, setFilter] = useState('');
  const load = s.loadHistory;
  useEffect(() => {
    void load();
  }, [load]);
  const all = s.history?.entries ?? [];
  const entries = filterHistory(all, filter);
  // Held here, not per row: narrowing the filter and widening it again keeps a plan open.
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const keyOf = (e: HistoryEntryView) => `${e.time} ${e.token}`;
  const toggle = (key: string, on: boolean) =>
    setOpen((s) => {
      const next = new Set(s);
      if (on) next.add(key);
      else next.delete(key);
      return next;
    });
  return (
    <div className="tab-body">
      <div className="row">
        <input
          type="search"
          className="history-filter"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
          placeholder="Filter: node, port, op, outcome, any text of the plan"
          aria-label="Filter the history"
        />
        <button type="button" className="button" onClick={() => void load()}>
          Refresh
        </button>
        {filter && (
          <span className="muted" aria-live="polite">
            {entries.length} of {all.length}
          </span>
        )}
      </div>
      {s.history?.warnings.map((w) => (
        <p key={w} className="warning">
          {w}
        </p>
      ))}
      {all.length === 0 && <p className="muted">No change recorded yet for this workspace.</p>}
      {all.length > 0 && entries.length === 0 && (
        <p className="muted">No entry matches “{filter}”: every word must occur in the entry or its plan.</p>
      )}
      <table className="history" data-testid="history">
        <tbody>
          {entries.map((e) => (
            <Entry
              key={keyOf(e)}
              entry={e}
              open={open.has(keyOf(e))}
              setOpen={(on) => toggle(keyOf(e), on)}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}
