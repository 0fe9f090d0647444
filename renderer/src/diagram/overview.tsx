// The overview in the corner (what React Flow's MiniMap shows, for nodes React Flow does not hold):
// the whole graph small, the part in view unmasked; press or drag on it to move the view there,
// scroll on it to zoom.
import { Panel, useReactFlow, useStore, useViewport } from '@xyflow/react';
import { memo, type PointerEvent, useMemo, useRef, type WheelEvent } from 'react';
import type { LaidOutNode } from './layout';

const WIDTH = 150;
const HEIGHT = 100;
/** Room around the drawing, in minimap pixels. */
const OFFSET = 5;

/** One path per kind: a 100-endpoint fan is a handful of elements here too. */
export function overviewPaths(nodes: readonly LaidOutNode[]): { kind: string; d: string }[] {
  const byKind = new Map<string, string[]>();
  for (const n of nodes) {
    const d = `M${n.x},${n.y}h${n.width}v${n.height}h${-n.width}z`;
    const list = byKind.get(n.kind);
    if (list) list.push(d);
    else byKind.set(n.kind, [d]);
  }
  return [...byKind].map(([kind, ds]) => ({ kind, d: ds.join('') }));
}

const Shapes = memo(function Shapes({ nodes }: { nodes: readonly LaidOutNode[] }) {
  const paths = useMemo(() => overviewPaths(nodes), [nodes]);
  return paths.map((p) => <path key={p.kind} className={`dg-mini dg-mini--${p.kind}`} d={p.d} />);
});

const paneSize = (s: { width: number; height: number }) => `${s.width}x${s.height}`;

export function Overview({
  nodes,
  width,
  height,
  ariaLabel,
}: {
  nodes: readonly LaidOutNode[];
  width: number;
  height: number;
  ariaLabel: string;
}) {
  const rf = useReactFlow();
  const vp = useViewport();
  const [paneW, paneH] = useStore(paneSize).split('x').map(Number) as [number, number];
  const svg = useRef<SVGSVGElement>(null);
  const dragging = useRef(false);

  const view = { x: -vp.x / vp.zoom, y: -vp.y / vp.zoom, w: paneW / vp.zoom, h: paneH / vp.zoom };
  // The whole graph in view: the overview would only cover part of it (the endpoints, bottom right).
  const allInView = view.x <= 0 && view.y <= 0 && view.x + view.w >= width && view.y + view.h >= height;
  const minX = Math.min(0, view.x);
  const minY = Math.min(0, view.y);
  const bw = Math.max(width, view.x + view.w) - minX;
  const bh = Math.max(height, view.y + view.h) - minY;
  const scale = Math.max(bw / WIDTH, bh / HEIGHT, 1e-6);
  const off = OFFSET * scale;
  const x = minX - (WIDTH * scale - bw) / 2 - off;
  const y = minY - (HEIGHT * scale - bh) / 2 - off;
  const w = WIDTH * scale + 2 * off;
  const h = HEIGHT * scale + 2 * off;

  const centreAt = (e: PointerEvent<SVGSVGElement>) => {
    const m = svg.current?.getScreenCTM();
    if (!m) return;
    const p = new DOMPoint(e.clientX, e.clientY).matrixTransform(m.inverse());
    void rf.setCenter(p.x, p.y, { zoom: rf.getZoom() });
  };
  const onWheel = (e: WheelEvent<SVGSVGElement>) => {
    void (e.deltaY < 0 ? rf.zoomIn() : rf.zoomOut());
  };

  if (allInView) return null;
  return (
    <Panel position="bottom-right" className="react-flow__minimap dg-overview">
      <svg
        ref={svg}
        width={WIDTH}
        height={HEIGHT}
        viewBox={`${x} ${y} ${w} ${h}`}
        className="react-flow__minimap-svg"
        role="img"
        aria-label={ariaLabel}
        onPointerDown={(e) => {
          dragging.current = true;
          e.currentTarget.setPointerCapture(e.pointerId);
          centreAt(e);
        }}
        onPointerMove={(e) => {
          if (dragging.current) centreAt(e);
        }}
        onPointerUp={() => {
          dragging.current = false;
        }}
        onPointerCancel={() => {
          dragging.current = false;
        }}
        onWheel={onWheel}
      >
        <Shapes nodes={nodes} />
        <path
          className="react-flow__minimap-mask"
          d={`M${x - off},${y - off}h${w + 2 * off}v${h + 2 * off}h${-w - 2 * off}z M${view.x},${view.y}h${view.w}v${view.h}h${-view.w}z`}
          fillRule="evenodd"
          pointerEvents="none"
        />
      </svg>
    </Panel>
  );
}
