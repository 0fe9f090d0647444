// Step 4 of the diagram pipeline: the component. Model -> layout (in a worker) -> React Flow, plus
// the toolbar (export), the legend and a live summary for screen readers.
import '@xyflow/react/dist/style.css';
import './diagram.css';
import { Controls, MiniMap, ReactFlow, ReactFlowProvider, useReactFlow } from '@xyflow/react';
import {
  type KeyboardEvent,
  useCallback,
  useEffect,
  useEffectEvent,
  useId,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { diagramSummary, exportFileName } from './describe';
import { download, type ImageKind, renderImage } from './export-image';
import { buildGraph } from './graph-model';
import type { GraphModel } from './graph-types';
import { type LaidOutGraph, layoutGraph, layoutKey, prewarmLayout, relabel } from './layout';
import { edgeTypes, miniMapNodeClass, nodeTypes, toFlow } from './to-flow';
import type { DiagramNodePort, DiagramTrace } from './types';
import { initialViewport } from './viewport';

export interface ChainDiagramProps {
  readonly np: DiagramNodePort;
  readonly trace?: DiagramTrace;
  /** A chain node was clicked, or focused and Enter pressed. */
  readonly onChainClick?: (chain: string) => void;
  /** Also draw the ClusterIP path (OUTPUT -> KUBE-SERVICES -> KUBE-SVC) as a second row. */
  readonly showClusterIp?: boolean;
  readonly theme: 'light' | 'dark';
}

/** Past this many nodes only those in view are rendered (export renders them all for a moment). */
const VISIBLE_ONLY_ABOVE = 300;
/** The layout-plus-first-paint time of the last layout, as a User Timing measure. */
export const LAYOUT_MEASURE = 'npg-diagram:layout+paint';
/** The layout alone (worker round trip included), as a User Timing measure. */
export const LAYOUT_ONLY_MEASURE = 'npg-diagram:layout';

// Loading this module means a diagram is coming: get elkjs going in its worker now.
prewarmLayout();

export function ChainDiagram(props: ChainDiagramProps) {
  return (
    <ReactFlowProvider>
      <Diagram {...props} />
    </ReactFlowProvider>
  );
}

interface Laid {
  readonly key: string;
  readonly graph: LaidOutGraph;
  readonly startedAt: number;
}

const LEGEND: readonly { readonly cls: string; readonly text: string }[] = [
  { cls: 'kube', text: 'kube-proxy chain' },
  { cls: 'guard', text: 'our guard chain' },
  { cls: 'block', text: 'block (blackhole)' },
  { cls: 'foreign', text: 'foreign rule' },
  { cls: 'endpoint', text: 'endpoint' },
];

const MINIMAP_STYLE = { width: 150, height: 100 } as const;

const nextFrame = () => new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));

function Diagram({ np, trace, onChainClick, showClusterIp = false, theme }: ChainDiagramProps) {
  const graph = useMemo(() => buildGraph(np, { trace, showClusterIp }), [np, trace, showClusterIp]);
  const key = useMemo(() => layoutKey(graph), [graph]);
  const currentGraph = useEffectEvent(() => graph);
  const [laid, setLaid] = useState<Laid>();

  // Lay out only when the structure changes; counters moving or a new trace keep the positions.
  useEffect(() => {
    let live = true;
    const startedAt = performance.now();
    void layoutGraph(currentGraph(), {
      onFallback: (err) => console.warn('diagram: elkjs layout unavailable, using the simple layout:', err),
    }).then((g) => {
      if (!live) return;
      performance.measure(LAYOUT_ONLY_MEASURE, { start: startedAt, end: performance.now() });
      setLaid({ key, graph: g, startedAt });
    });
    return () => {
      live = false;
    };
  }, [key]);

  const pending = laid?.key !== key;
  // The graph drawn on the current layout: the latest one whose structure matches it. While a new
  // layout is pending it stays as it was, so React Flow does not redraw every node for nothing.
  const [matched, setMatched] = useState<GraphModel>();
  if (laid?.key === key && matched !== graph) setMatched(graph);
  const shown = useMemo(
    () => (laid && matched && layoutKey(matched) === laid.key ? relabel(laid.graph, matched) : laid?.graph),
    [laid, matched],
  );
  const flow = useMemo(() => (shown ? toFlow(shown) : { nodes: [], edges: [] }), [shown]);
  const chainOf = useMemo(() => new Map((shown?.nodes ?? []).map((n) => [n.id, n.chain])), [shown]);

  const rf = useReactFlow();
  const canvas = useRef<HTMLDivElement>(null);
  const [fitsAll, setFitsAll] = useState(true);
  const [layoutMs, setLayoutMs] = useState<number>();

  // A new layout: open the viewport on it, then time layout + first paint.
  useEffect(() => {
    const el = canvas.current;
    if (!laid || !el) return;
    const box = el.getBoundingClientRect();
    const vp = initialViewport(laid.graph, box);
    void rf.setViewport({ x: vp.x, y: vp.y, zoom: vp.zoom });
    setFitsAll(vp.fitsAll);
    let cancelled = false;
    const first = laid.graph.nodes[0]?.id;
    const waitForPaint = async () => {
      for (
        let i = 0;
        i < 120 && first && !el.querySelector(`.react-flow__node[data-id="${CSS.escape(first)}"]`);
        i++
      ) {
        await nextFrame();
      }
      await nextFrame();
      setTimeout(() => {
        if (cancelled) return;
        const end = performance.now();
        performance.measure(LAYOUT_MEASURE, { start: laid.startedAt, end });
        setLayoutMs(end - laid.startedAt);
      }, 0);
    };
    void waitForPaint();
    return () => {
      cancelled = true;
    };
  }, [laid, rf]);

  const open = useCallback(
    (id: string) => {
      const chain = chainOf.get(id);
      if (chain && onChainClick) onChainClick(chain);
    },
    [chainOf, onChainClick],
  );

  // Stable, so that a new `open` does not re-render every node (React Flow passes it to each).
  const openLatest = useRef(open);
  useLayoutEffect(() => {
    openLatest.current = open;
  });
  const onNodeClick = useCallback((_: unknown, node: { readonly id: string }) => {
    // Selecting a chain name's text is not a click on the chain.
    if (!window.getSelection()?.toString()) openLatest.current(node.id);
  }, []);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== 'Enter') return;
    const id = (e.target as HTMLElement).closest('.react-flow__node')?.getAttribute('data-id');
    if (id) open(id);
  };

  const [exporting, setExporting] = useState<ImageKind>();
  const [exportError, setExportError] = useState<string>();
  const exportImage = async (kind: ImageKind) => {
    const viewport = canvas.current?.querySelector<HTMLElement>('.react-flow__viewport');
    if (!viewport || !shown) return;
    setExportError(undefined);
    setExporting(kind);
    try {
      // Let every node render (large graphs render only what is in view), then draw.
      await nextFrame();
      await nextFrame();
      const bg = getComputedStyle(viewport).getPropertyValue('--dg-bg').trim() || '#ffffff';
      const blob = await renderImage(viewport, shown, kind, bg);
      download(blob, exportFileName(np, kind));
    } catch (err) {
      setExportError(`Export failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      setExporting(undefined);
    }
  };

  const summary = useMemo(() => diagramSummary(np, graph, trace), [np, graph, trace]);
  const titleId = useId();
  const many = flow.nodes.length > VISIBLE_ONLY_ABOVE;

  return (
    <section
      className="diagram"
      data-theme={theme}
      data-layout={pending ? 'pending' : (laid?.graph.engine ?? 'pending')}
      data-layout-ms={layoutMs === undefined ? undefined : Math.round(layoutMs)}
      aria-labelledby={titleId}
    >
      <header className="diagram__bar">
        <h3 className="diagram__title" id={titleId}>
          Packet path {np.port}/{np.protocol}
          {np.service ? <span className="diagram__service"> {np.service}</span> : null}
        </h3>
        <ul className="diagram__legend" aria-label="Legend">
          {LEGEND.map((l) => (
            <li key={l.cls}>
              <span className={`diagram__swatch diagram__swatch--${l.cls}`} aria-hidden="true" />
              {l.text}
            </li>
          ))}
          {trace && (
            <li>
              <span className="diagram__swatch diagram__swatch--lit" aria-hidden="true" />
              traced packet
            </li>
          )}
        </ul>
        <div className="diagram__actions">
          <button
            type="button"
            onClick={() => void exportImage('svg')}
            disabled={!shown || exporting !== undefined}
          >
            {exporting === 'svg' ? 'Exporting…' : 'Export SVG'}
          </button>
          <button
            type="button"
            onClick={() => void exportImage('png')}
            disabled={!shown || exporting !== undefined}
          >
            {exporting === 'png' ? 'Exporting…' : 'Export PNG'}
          </button>
        </div>
      </header>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: Enter on a focused node (React Flow's own focusable element) opens its chain. */}
      <div className="diagram__canvas" ref={canvas} onKeyDown={onKeyDown}>
        <ReactFlow
          nodes={flow.nodes}
          edges={flow.edges}
          nodeTypes={nodeTypes}
          edgeTypes={edgeTypes}
          colorMode={theme}
          nodesDraggable={false}
          nodesConnectable={false}
          edgesFocusable={false}
          elementsSelectable
          onNodeClick={onNodeClick}
          onlyRenderVisibleElements={many && exporting === undefined}
          minZoom={0.05}
          maxZoom={2}
          deleteKeyCode={null}
          selectionKeyCode={null}
          multiSelectionKeyCode={null}
        >
          <Controls showInteractive={false} position="bottom-left" orientation="horizontal" />
          {!fitsAll && (
            <MiniMap
              style={MINIMAP_STYLE}
              pannable
              zoomable
              position="bottom-right"
              ariaLabel="Overview of the whole diagram"
              nodeClassName={miniMapNodeClass}
            />
          )}
        </ReactFlow>
        {(pending || !shown) && (
          <div className="diagram__status" role="status">
            Laying out…
          </div>
        )}
      </div>
      <p className="diagram__summary" aria-live="polite">
        {summary}
        {exportError ? ` ${exportError}` : ''}
      </p>
    </section>
  );
}
