// Step 4 of the diagram pipeline: the component. Model -> layout (in a worker) -> our node and edge
// layers in React Flow's viewport (React Flow pans, zooms and holds the controls), plus the toolbar
// (export), the legend, the overview and a live summary for screen readers.
import '@xyflow/react/dist/style.css';
import './diagram.css';
import { Controls, ReactFlow, ReactFlowProvider, useReactFlow } from '@xyflow/react';
import {
  type KeyboardEvent,
  startTransition,
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
import { edgeLayer } from './edge-layer';
import { download, type ImageKind, renderImage } from './export-image';
import { EdgeLayer, NodeLayer, VISIBLE_ONLY_ABOVE } from './flow-parts';
import { buildGraph } from './graph-model';
import type { GraphModel } from './graph-types';
import { type LaidOutGraph, layoutGraph, layoutKey, prewarmLayout, relabel } from './layout';
import { Overview } from './overview';
import type { DiagramNodePort, DiagramTrace } from './types';
import { fitAllViewport, initialViewport } from './viewport';

export interface ChainDiagramProps {
  readonly np: DiagramNodePort;
  readonly trace?: DiagramTrace;
  /** A chain node was clicked, or focused and Enter pressed. */
  readonly onChainClick?: (chain: string) => void;
  /** Also draw the ClusterIP path (OUTPUT -> KUBE-SERVICES -> KUBE-SVC) as a second row. */
  readonly showClusterIp?: boolean;
  readonly theme: 'light' | 'dark';
}

/** The last layout's time from its start to every node in the DOM and painted, as a User Timing measure. */
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

/** React Flow draws neither nodes nor edges: it pans and zooms ours (see flow-parts.tsx). */
const NO_NODES: never[] = [];
const NO_EDGES: never[] = [];
const MIN_ZOOM = 0.05;

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
      // A transition: React builds the 200-odd nodes of a big fan in slices that leave the page
      // responsive, and swaps them in at once.
      startTransition(() => setLaid({ key, graph: g, startedAt }));
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
  const chainOf = useMemo(() => new Map((shown?.nodes ?? []).map((n) => [n.id, n.chain])), [shown]);

  const rf = useReactFlow();
  const canvas = useRef<HTMLDivElement>(null);
  const [fitsAll, setFitsAll] = useState(true);
  const [layoutMs, setLayoutMs] = useState<number>();
  const [exporting, setExporting] = useState<ImageKind>();

  // The pane's size, kept up to date, so that opening a new layout never has to ask the browser
  // for it: asking right after 200 new nodes arrive would lay them all out then and there.
  const [pane, setPane] = useState<{ readonly width: number; readonly height: number }>();
  useLayoutEffect(() => {
    const el = canvas.current;
    if (!el) return;
    setPane({ width: el.clientWidth, height: el.clientHeight });
    const ro = new ResizeObserver(() => setPane({ width: el.clientWidth, height: el.clientHeight }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const opening = useMemo(() => (laid && pane ? initialViewport(laid.graph, pane) : undefined), [laid, pane]);
  // The view opens once per layout: a later resize keeps wherever the user has moved it.
  const openingNow = useEffectEvent(() => opening);

  // A very large graph is drawn near the view only, except while it is exported.
  const nearViewOnly = (shown?.nodes.length ?? 0) > VISIBLE_ONLY_ABOVE && exporting === undefined;
  // A new layout is drawn in two commits: first the nodes of the opening view, painted at once,
  // then, after that frame, all of them (off-screen ones included: they are reachable by Tab and
  // read aloud). Neither commit, nor the frame after it, has to hold a whole 100-endpoint fan.
  const [whole, setWhole] = useState<Laid>();
  const firstNodes = useMemo(() => {
    if (!shown || !opening || nearViewOnly) return shown?.nodes;
    const x0 = -opening.x / opening.zoom;
    const y0 = -opening.y / opening.zoom;
    const x1 = x0 + (pane?.width ?? 0) / opening.zoom;
    const y1 = y0 + (pane?.height ?? 0) / opening.zoom;
    return shown.nodes.filter((n) => n.x + n.width >= x0 && n.x <= x1 && n.y + n.height >= y0 && n.y <= y1);
  }, [shown, opening, pane, nearViewOnly]);
  const partial =
    laid !== undefined && whole !== laid && (firstNodes?.length ?? 0) < (shown?.nodes.length ?? 0);
  const drawnNodes = partial ? firstNodes : shown?.nodes;
  const edges = useMemo(
    () => (shown && drawnNodes ? edgeLayer({ nodes: drawnNodes, edges: shown.edges }) : undefined),
    [shown, drawnNodes],
  );
  useEffect(() => {
    if (!partial || !laid) return;
    let t: ReturnType<typeof setTimeout> | undefined;
    const frame = requestAnimationFrame(() => {
      t = setTimeout(() => startTransition(() => setWhole(laid)), 0);
    });
    return () => {
      cancelAnimationFrame(frame);
      if (t !== undefined) clearTimeout(t);
    };
  }, [partial, laid]);

  // A new layout: open the viewport on it, then time layout + paint (every node in the DOM, and
  // the frame after the last one).
  useEffect(() => {
    const el = canvas.current;
    const vp = openingNow();
    if (!laid || !el || !vp) return;
    void rf.setViewport({ x: vp.x, y: vp.y, zoom: vp.zoom });
    setFitsAll(vp.fitsAll);
    let cancelled = false;
    // A graph drawn near the view only never has its last node in the DOM: wait for its first.
    const nodes = laid.graph.nodes;
    const awaited = (nodes.length > VISIBLE_ONLY_ABOVE ? nodes[0] : nodes.at(-1))?.id;
    const waitForPaint = async () => {
      for (
        let i = 0;
        i < 120 && awaited && !el.querySelector(`.dg-node[data-id="${CSS.escape(awaited)}"]`);
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
  const onNodeClick = useCallback((id: string) => openLatest.current(id), []);
  const nodeAt = useMemo(() => new Map((shown?.nodes ?? []).map((n) => [n.id, n])), [shown]);
  const nodeAtLatest = useRef(nodeAt);
  useLayoutEffect(() => {
    nodeAtLatest.current = nodeAt;
  });
  // Tab onto a node out of view brings it into view, at the same zoom.
  const onNodeFocus = useCallback(
    (id: string) => {
      const n = nodeAtLatest.current.get(id);
      const el = canvas.current;
      if (!n || !el) return;
      const { x, y, zoom } = rf.getViewport();
      const left = n.x * zoom + x;
      const top = n.y * zoom + y;
      const inView =
        left >= 0 &&
        top >= 0 &&
        left + n.width * zoom <= el.clientWidth &&
        top + n.height * zoom <= el.clientHeight;
      if (!inView) void rf.setCenter(n.x + n.width / 2, n.y + n.height / 2, { zoom });
    },
    [rf],
  );

  // React Flow's own "fit view" knows no nodes (ours are not React Flow's): this one fits the graph.
  const fitView = () => {
    const el = canvas.current;
    if (!shown || !el) return;
    const vp = fitAllViewport(shown, { width: el.clientWidth, height: el.clientHeight }, MIN_ZOOM);
    void rf.setViewport({ x: vp.x, y: vp.y, zoom: vp.zoom });
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== 'Enter') return;
    const id = (e.target as HTMLElement).closest('.dg-node')?.getAttribute('data-id');
    if (id) open(id);
  };

  const [exportError, setExportError] = useState<string>();
  const exportImage = async (kind: ImageKind) => {
    const viewport = canvas.current?.querySelector<HTMLElement>('.react-flow__viewport');
    if (!viewport || !shown) return;
    setExportError(undefined);
    setExporting(kind);
    if (laid) setWhole(laid);
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

  return (
    <section
      className="diagram"
      data-theme={theme}
      data-layout={pending ? 'pending' : (laid?.graph.engine ?? 'pending')}
      data-layout-ms={layoutMs === undefined ? undefined : Math.round(layoutMs)}
      data-exporting={exporting}
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
      {/* biome-ignore lint/a11y/noStaticElementInteractions: Enter on a focused node (a .dg-node, focusable and with a role) opens its chain. */}
      <div className="diagram__canvas" ref={canvas} onKeyDown={onKeyDown}>
        <ReactFlow
          nodes={NO_NODES}
          edges={NO_EDGES}
          colorMode={theme}
          nodesDraggable={false}
          nodesConnectable={false}
          minZoom={MIN_ZOOM}
          maxZoom={2}
          deleteKeyCode={null}
          selectionKeyCode={null}
          multiSelectionKeyCode={null}
        >
          {shown && edges && (
            <EdgeLayer layer={edges} width={shown.width} height={shown.height} nearViewOnly={nearViewOnly} />
          )}
          {drawnNodes && (
            <NodeLayer
              nodes={drawnNodes}
              nearViewOnly={nearViewOnly}
              onOpen={onNodeClick}
              onKeyboardFocus={onNodeFocus}
            />
          )}
          <Controls
            showInteractive={false}
            position="bottom-left"
            orientation="horizontal"
            onFitView={fitView}
          />
          {!fitsAll && shown && (
            <Overview
              nodes={shown.nodes}
              width={shown.width}
              height={shown.height}
              ariaLabel="Overview of the whole diagram"
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
