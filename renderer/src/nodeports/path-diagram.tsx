// A NodePort's path as a graph (the diagram), or as text for a quick read or a screen reader;
// a traced packet lights its way. The only place that maps the API's views onto the diagram's.
import { useEffect, useState } from 'react';
import type { NodePortView, TraceOutcomeView, TraceResponse } from '../../../shared/api';
import { inertText } from '../../../shared/text/visible';
import { ChainDiagram } from '../diagram/chain-diagram';
import type { DiagramTrace } from '../diagram/types';
import { PathView } from '../dump/path-view';
import { useViewPrefs } from './view-prefs';

/** Notes under the diagram; the text view lists them all. */
const MAX_NOTES = 8;

/** The traced outcome the diagram lights: the most likely one. */
export function diagramTrace(t: TraceResponse | undefined): DiagramTrace | undefined {
  const best = [...(t?.outcomes ?? [])].sort((a, b) => b.probability - a.probability)[0];
  return best ? traceOf(best) : undefined;
}

function traceOf(o: TraceOutcomeView): DiagramTrace {
  const to = /^DNAT to (\S+)/.exec(o.detail)?.[1];
  return { verdict: o.verdict, detail: o.detail, hops: o.hops, ...(to ? { endpoint: to } : {}) };
}

function useTheme(): 'light' | 'dark' {
  const query = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : undefined;
  const [dark, setDark] = useState(query?.matches ?? true);
  useEffect(() => {
    if (!query) return;
    const on = (e: MediaQueryListEvent) => setDark(e.matches);
    query.addEventListener('change', on);
    return () => query.removeEventListener('change', on);
  }, [query]);
  return dark ? 'dark' : 'light';
}

export function PathDiagram(props: {
  readonly np: NodePortView;
  readonly trace?: TraceResponse;
  readonly onChainClick?: (chain: string) => void;
}) {
  const theme = useTheme();
  const { asText, setAsText, clusterIp, setClusterIp } = useViewPrefs();
  return (
    <div className="path-diagram">
      <div className="row view-toggle">
        <button
          type="button"
          className="chip-button"
          aria-pressed={asText}
          onClick={() => setAsText(!asText)}
        >
          {asText ? 'Show the diagram' : 'Show as text'}
        </button>
        {props.np.clusterIp && !asText && (
          <button
            type="button"
            className="chip-button"
            aria-pressed={clusterIp}
            onClick={() => setClusterIp(!clusterIp)}
          >
            ClusterIP path
          </button>
        )}
      </div>
      {asText ? (
        <PathView np={props.np} onChainClick={props.onChainClick} />
      ) : (
        <>
          <ChainDiagram
            np={props.np}
            trace={diagramTrace(props.trace)}
            onChainClick={props.onChainClick}
            showClusterIp={clusterIp}
            theme={theme}
          />
          {/* What the walk noticed beside the path (a filter INPUT rule on this port, and whether
              it takes effect in this mode), as the text view says it. */}
          {props.np.notes.length > 0 && (
            <ul className="notes" aria-label={`Notes on ${props.np.port}/${props.np.protocol}`}>
              {props.np.notes.slice(0, MAX_NOTES).map((n) => (
                <li key={n}>{inertText(n)}</li>
              ))}
              {props.np.notes.length > MAX_NOTES && (
                <li className="muted">and {props.np.notes.length - MAX_NOTES} more (Show as text)</li>
              )}
            </ul>
          )}
        </>
      )}
    </div>
  );
}
