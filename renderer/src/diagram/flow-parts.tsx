// The diagram's nodes and edges, drawn in React Flow's viewport (it pans and zooms them) but not
// as React Flow nodes: those cost a store subscription, a ResizeObserver entry, a drag handler and
// a synchronous render each, which a 100-endpoint fan cannot afford. Here a node is one focusable
// box and one to three lines of text, rendered by React like any list (and so interruptibly).
import { useStore, useViewport, ViewportPortal } from '@xyflow/react';
import { type FocusEvent, type MouseEvent, memo } from 'react';
import { nodeAriaLabel } from './describe';
import type { EdgeLabel as EdgeLabelData, EdgeLayer as EdgeLayerData } from './edge-layer';
import { nodeCounters } from './format';
import type { GNodeKind } from './graph-types';
import type { LaidOutNode } from './layout';

/** Kinds drawn small (many of them, or one line says it all): no role line. */
const COMPACT: ReadonlySet<GNodeKind> = new Set(['sep', 'endpoint', 'blackhole', 'reject']);

/** The classes of a node's box: its kind, and whether it is on (or off) the traced way. */
export function nodeClass(n: LaidOutNode): string {
  return `dg-node dg-node--${n.kind}${n.lit ? ' is-lit' : ''}${n.dimmed ? ' is-dimmed' : ''}${n.chain ? ' is-chain' : ''}`;
}

function NodeText({ node: n }: { node: LaidOutNode }) {
  const counters = n.counters ? nodeCounters(n.counters.packets, n.counters.bytes) : undefined;
  // Text that is data (chain names, rules, addresses) can be selected: nopan keeps a drag there
  // from panning the pane.
  const label = <div className="dg-node__label nopan">{n.label}</div>;
  if (COMPACT.has(n.kind)) {
    const sub = counters ?? n.sublabel;
    return (
      <>
        {label}
        {sub && <div className="dg-node__sub">{sub}</div>}
      </>
    );
  }
  return (
    <>
      <div className="dg-node__head">
        <span className="dg-node__role" title={n.role}>
          {n.role}
        </span>
        {n.badges.map((b) => (
          <span key={b.text} className={`dg-badge dg-badge--${b.tone}`} title={b.title}>
            {b.text}
          </span>
        ))}
      </div>
      {label}
      {n.sublabel && (
        <div className={n.kind === 'foreign' ? 'dg-node__sub dg-node__rule nopan' : 'dg-node__sub'}>
          {n.sublabel}
        </div>
      )}
      {counters && <div className="dg-node__counters">{counters}</div>}
    </>
  );
}

const NodeBox = memo(function NodeBox({ node: n }: { node: LaidOutNode }) {
  return (
    // biome-ignore lint/a11y/useAriaPropsSupportedByRole: the role is button or group (below), both named by aria-label.
    <div
      className={nodeClass(n)}
      data-id={n.id}
      style={{
        transform: `translate(${n.x}px, ${n.y}px)`,
        width: n.width,
        height: n.height,
        ...(n.lit ? { zIndex: 1 } : {}),
      }}
      // Every node is reachable with Tab; a chain opens with Enter (see chain-diagram.tsx).
      tabIndex={0}
      role={n.chain ? 'button' : 'group'}
      aria-label={nodeAriaLabel(n)}
      title={n.detail}
    >
      <NodeText node={n} />
    </div>
  );
});

/** Past this many nodes, only those near the view are in the DOM (and so reachable by Tab). */
export const VISIBLE_ONLY_ABOVE = 300;

const paneSize = (s: { width: number; height: number }) => `${s.width}x${s.height}`;

/** The part of the graph in view, one pane's size around it included, in graph coordinates. */
function useViewRect(): { x0: number; y0: number; x1: number; y1: number } {
  const { x, y, zoom } = useViewport();
  const [w, h] = useStore(paneSize).split('x').map(Number) as [number, number];
  return { x0: (-x - w) / zoom, y0: (-y - h) / zoom, x1: (-x + 2 * w) / zoom, y1: (-y + 2 * h) / zoom };
}

function NodesNearView({ nodes }: { nodes: readonly LaidOutNode[] }) {
  const r = useViewRect();
  return nodes
    .filter((n) => n.x + n.width >= r.x0 && n.x <= r.x1 && n.y + n.height >= r.y0 && n.y <= r.y1)
    .map((n) => <NodeBox key={n.id} node={n} />);
}

function LabelsNearView({ labels }: { labels: readonly EdgeLabelData[] }) {
  const r = useViewRect();
  return labels
    .filter((l) => l.x >= r.x0 && l.x <= r.x1 && l.y >= r.y0 && l.y <= r.y1)
    .map((l) => <Label key={l.id} label={l} />);
}

const nodeIdOf = (target: EventTarget): string | undefined =>
  (target as Element).closest?.('.dg-node')?.getAttribute('data-id') ?? undefined;

/** Every node, in the viewport above the edges. Clicks and focus are handled here, once. */
export const NodeLayer = memo(function NodeLayer({
  nodes,
  nearViewOnly,
  onOpen,
  onKeyboardFocus,
}: {
  nodes: readonly LaidOutNode[];
  /** Only the nodes near the view (a very large graph; see VISIBLE_ONLY_ABOVE). */
  nearViewOnly: boolean;
  /** A node was clicked (not a text selection made on it). */
  onOpen: (id: string) => void;
  /** A node got the keyboard focus (Tab): bring it into view. */
  onKeyboardFocus: (id: string) => void;
}) {
  const onClick = (e: MouseEvent) => {
    const id = nodeIdOf(e.target);
    // Selecting a chain name's text is not a click on the chain.
    if (id && !window.getSelection()?.toString()) onOpen(id);
  };
  const onFocus = (e: FocusEvent) => {
    const id = nodeIdOf(e.target);
    if (id && (e.target as Element).matches(':focus-visible')) onKeyboardFocus(id);
  };
  return (
    <ViewportPortal>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: the nodes inside are the buttons (role, tabIndex, Enter); this only delegates their clicks and focus. */}
      {/* biome-ignore lint/a11y/useKeyWithClickEvents: Enter on a node is handled by the diagram's canvas. */}
      <div className="dg-nodes" onClick={onClick} onFocus={onFocus}>
        {nearViewOnly ? <NodesNearView nodes={nodes} /> : nodes.map((n) => <NodeBox key={n.id} node={n} />)}
      </div>
    </ViewportPortal>
  );
});

/** Every edge, in the viewport under the nodes: one SVG of a few paths, then the labels. */
const Label = memo(function Label({ label: l }: { label: EdgeLabelData }) {
  return (
    <div className={l.className} style={{ transform: l.transform }}>
      {l.text}
    </div>
  );
});

export const EdgeLayer = memo(function EdgeLayer({
  layer,
  width,
  height,
  nearViewOnly,
}: {
  layer: EdgeLayerData;
  width: number;
  height: number;
  /** Only the labels near the view (the lines are a few paths whatever the size). */
  nearViewOnly: boolean;
}) {
  return (
    <ViewportPortal>
      <div className="dg-edges">
        <svg
          className="dg-edges__svg"
          aria-hidden="true"
          width={Math.max(1, width)}
          height={Math.max(1, height)}
        >
          {layer.strokes.map((s) => (
            <g key={s.className} className={s.className}>
              <path d={s.line} className="dg-edge__line" fill="none" />
              <path d={s.arrow} className="dg-edge__arrow" />
            </g>
          ))}
        </svg>
        {nearViewOnly ? (
          <LabelsNearView labels={layer.labels} />
        ) : (
          layer.labels.map((l) => <Label key={l.id} label={l} />)
        )}
      </div>
    </ViewportPortal>
  );
});
