// A harness for looking at the diagram: `npx vite --config renderer/vite.config.ts`, then open
// /src/diagram/demo.html. Query: ?sample=guarded|wide100|wide500|ipvs|dropped &trace=redirect|dnat
// &theme=light|dark &cip=1 &single=1 (one diagram filling the window, for screenshots).
import { StrictMode, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { ChainDiagram } from './chain-diagram';
import {
  dnatTrace,
  droppedNodePort,
  guardedNodePort,
  ipvsNodePort,
  redirectTrace,
  wideNodePort,
} from './samples';
import type { DiagramNodePort, DiagramTrace } from './types';

const SAMPLES: Readonly<Record<string, () => DiagramNodePort>> = {
  guarded: () => guardedNodePort(4),
  wide100: () => wideNodePort(100),
  wide500: () => wideNodePort(500),
  ipvs: ipvsNodePort,
  dropped: droppedNodePort,
};

function traceFor(kind: string | null, np: DiagramNodePort): DiagramTrace | undefined {
  if (kind === 'redirect') return redirectTrace();
  if (kind === 'dnat') return dnatTrace(np, Math.min(2, np.endpoints.length - 1));
  return undefined;
}

function Panel(props: {
  sample: string;
  trace: string | null;
  theme: 'light' | 'dark';
  cip: boolean;
  height: string;
}) {
  const np = useMemo(() => (SAMPLES[props.sample] ?? SAMPLES.guarded!)(), [props.sample]);
  const trace = useMemo(() => traceFor(props.trace, np), [props.trace, np]);
  const [opened, setOpened] = useState<string>();
  return (
    <div style={{ height: props.height, display: 'flex', flexDirection: 'column' }}>
      <div style={{ flex: 1, minHeight: 0 }}>
        <ChainDiagram
          np={np}
          trace={trace}
          theme={props.theme}
          showClusterIp={props.cip}
          onChainClick={setOpened}
        />
      </div>
      {opened && (
        <p data-testid="opened" style={{ margin: '2px 4px', fontSize: 12 }}>
          opened chain: <code>{opened}</code>
        </p>
      )}
    </div>
  );
}

/** One diagram filling the window; with &controls=1, a sample switcher (to time warm layouts). */
function Single(props: { q: URLSearchParams; theme: 'light' | 'dark'; cip: boolean; background: string }) {
  const [sample, setSample] = useState(props.q.get('sample') ?? 'guarded');
  const [trace, setTrace] = useState(props.q.get('trace'));
  return (
    <div
      style={{
        height: '100%',
        padding: 8,
        boxSizing: 'border-box',
        background: props.background,
        display: 'flex',
        flexDirection: 'column',
        gap: 6,
      }}
    >
      {props.q.get('controls') === '1' && (
        <div style={{ display: 'flex', gap: 6 }}>
          {Object.keys(SAMPLES).map((s) => (
            <button key={s} type="button" data-sample={s} onClick={() => setSample(s)}>
              {s}
            </button>
          ))}
          <button type="button" onClick={() => setTrace(trace === 'dnat' ? null : 'dnat')}>
            toggle trace
          </button>
        </div>
      )}
      <div style={{ flex: 1, minHeight: 0 }}>
        <Panel sample={sample} trace={trace} theme={props.theme} cip={props.cip} height="100%" />
      </div>
    </div>
  );
}

function Demo() {
  const q = new URLSearchParams(location.search);
  const theme = q.get('theme') === 'light' ? 'light' : 'dark';
  const cip = q.get('cip') === '1';
  const background = theme === 'dark' ? '#0b0f14' : '#eef1f4';
  if (q.get('single') === '1') return <Single q={q} theme={theme} cip={cip} background={background} />;
  return (
    <div
      style={{
        padding: 12,
        display: 'grid',
        gap: 16,
        background,
        minHeight: '100%',
        boxSizing: 'border-box',
      }}
    >
      <Panel sample="guarded" trace={q.get('trace') ?? 'redirect'} theme={theme} cip={cip} height="480px" />
      <Panel sample="wide100" trace="dnat" theme={theme} cip={cip} height="640px" />
    </div>
  );
}

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <Demo />
    </StrictMode>,
  );
}
