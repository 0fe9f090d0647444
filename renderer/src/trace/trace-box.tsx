// "Would this source get through?": the tracer's answer, in words, with the rule that decides.
// The same box serves a loaded dump and a live node; the caller runs the trace.
import type { TraceResponse } from '../../../shared/api';

const VERDICT_TEXT: Record<string, string> = {
  dnat: 'reaches a pod',
  redirect: 'redirected (blocked)',
  accept: 'accepted unchanged',
  unchanged: 'not NodePort traffic',
  drop: 'dropped',
  unknown: 'cannot tell',
};

export interface TraceBoxProps {
  readonly target: string;
  readonly src: string;
  readonly dst: string;
  /** Live nodes know their own address: the field may stay empty. */
  readonly dstOptional?: boolean;
  readonly busy: boolean;
  readonly error?: string;
  readonly result?: TraceResponse;
  onChange(src: string, dst: string): void;
  onTrace(): void;
}

export function verdictLine(o: TraceResponse['outcomes'][number]): string {
  const pct = `${(o.probability * 100).toFixed(o.probability === 1 ? 0 : 1)}%`;
  return `${VERDICT_TEXT[o.verdict] ?? o.verdict} (${pct}): ${o.detail}`;
}

export function TraceBox(props: TraceBoxProps) {
  const { target, src, dst, dstOptional, busy, error, result, onChange, onTrace } = props;
  return (
    <section className="trace" aria-label="Trace a packet">
      <form
        className="trace-form"
        onSubmit={(e) => {
          e.preventDefault();
          onTrace();
        }}
      >
        <strong className="trace-title">Trace to {target}</strong>
        <label>
          Source address
          <input
            value={src}
            placeholder="198.18.100.10"
            aria-invalid={Boolean(error)}
            aria-describedby={error ? 'trace-error' : undefined}
            onChange={(e) => onChange(e.target.value, dst)}
          />
        </label>
        <label>
          Node address
          <input
            value={dst}
            placeholder={dstOptional ? "the node's own" : '198.18.0.11'}
            onChange={(e) => onChange(src, e.target.value)}
          />
        </label>
        <button
          type="submit"
          className="button button--primary"
          disabled={busy || !src || (!dst && !dstOptional)}
        >
          {busy ? 'Tracing…' : 'Trace'}
        </button>
      </form>
      {error && (
        <p className="error" role="alert" id="trace-error">
          {error}
        </p>
      )}
      {result && (
        <ul className="outcomes" data-testid="trace-outcomes" aria-live="polite">
          {result.outcomes.map((o) => (
            <li key={`${o.verdict} ${o.detail}`} className={`outcome outcome--${o.verdict}`}>
              <strong>{VERDICT_TEXT[o.verdict] ?? o.verdict}</strong>{' '}
              <span className="muted">({(o.probability * 100).toFixed(1)}%)</span> {o.detail}
              <details className="hops">
                <summary>the rules on the way ({o.hops.length})</summary>
                {o.hops
                  .map((h) => `${h.chain}${h.line !== undefined ? ` (line ${h.line})` : ''}`)
                  .join(' → ')}
              </details>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
