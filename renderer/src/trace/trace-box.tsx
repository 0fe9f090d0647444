import type { NodePortView, NpgApi } from '../../../shared/api';
import { useApp } from '../state/store';

const VERDICT_TEXT: Record<string, string> = {
  dnat: 'reaches a pod',
  redirect: 'redirected (blocked)',
  accept: 'accepted unchanged',
  unchanged: 'not NodePort traffic',
  drop: 'dropped',
  unknown: 'cannot tell',
};

/** "Would this source get through?" — the tracer's answer on the loaded rules. */
export function TracePanel({ api, np }: { api: NpgApi; np: NodePortView }) {
  const { traceSrc, traceNode, traceBusy, traceError, trace, setTraceInput, runTrace } = useApp();
  return (
    <section className="trace" aria-label="Trace a packet">
      <h3>
        Trace a packet to {np.port}/{np.protocol}
      </h3>
      <form
        className="trace-form"
        onSubmit={(e) => {
          e.preventDefault();
          void runTrace(api, np);
        }}
      >
        <label>
          Source address
          <input
            value={traceSrc}
            placeholder="198.18.100.10"
            onChange={(e) => setTraceInput(e.target.value, traceNode)}
          />
        </label>
        <label>
          Node address
          <input
            value={traceNode}
            placeholder="198.18.0.11"
            onChange={(e) => setTraceInput(traceSrc, e.target.value)}
          />
        </label>
        <button
          type="submit"
          className="button button--primary"
          disabled={traceBusy || !traceSrc || !traceNode}
        >
          Trace
        </button>
      </form>
      {traceError && (
        <p className="error" role="alert">
          {traceError}
        </p>
      )}
      {trace && (
        <ul className="outcomes" data-testid="trace-outcomes">
          {trace.outcomes.map((o) => (
            <li key={`${o.verdict} ${o.detail}`} className={`outcome outcome--${o.verdict}`}>
              <strong>{VERDICT_TEXT[o.verdict] ?? o.verdict}</strong>{' '}
              <span className="muted">({(o.probability * 100).toFixed(1)}%)</span> {o.detail}
              <div className="hops">{o.hops.map((h) => h.chain).join(' → ')}</div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
