// A long walk wraps onto the next row, as text does: PREROUTING ... KUBE-SERVICES, then
// KUBE-NODEPORTS ... the endpoints below it. Cuts fall only where one straight edge crosses (never
// between a chain and its fan), and the crossing edge is routed back through the gap between rows.
import type { CompactGraph } from './compact';
import { type Point, type Positions, ROW_GAP } from './layout-sizes';

export interface Wrapped {
  readonly positions: Map<string, Point>;
  /** Link id -> the y of the gap the wrapped edge runs back through. */
  readonly wraps: Map<string, number>;
}

interface Layer {
  readonly x: number;
  readonly right: number;
  readonly ids: string[];
  readonly hasFan: boolean;
}

export function wrapRows(compact: CompactGraph, positions: Positions, maxWidth: number): Wrapped {
  const boxes = new Map(compact.boxes.map((b) => [b.id, b]));
  const fanIds = new Set(compact.fans.map((f) => f.id));
  // Layers: boxes that share an x (both layouts align a layer's boxes on the left).
  const byX = new Map<number, string[]>();
  for (const [id, p] of positions) {
    if (!boxes.has(id)) continue;
    const x = Math.round(p.x);
    byX.set(x, [...(byX.get(x) ?? []), id]);
  }
  const layers: Layer[] = [...byX.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([x, ids]) => ({
      x,
      ids,
      right: Math.max(...ids.map((id) => x + (boxes.get(id)?.width ?? 0))),
      hasFan: ids.some((id) => fanIds.has(id)),
    }));
  const layerOf = new Map<string, number>();
  layers.forEach((l, i) => {
    for (const id of l.ids) layerOf.set(id, i);
  });
  const crossing = (i: number) =>
    compact.links.filter((l) => (layerOf.get(l.source) ?? 0) < i && (layerOf.get(l.target) ?? 0) >= i);
  const cuttable = (i: number) => {
    const c = crossing(i);
    return c.length === 1 && c[0]?.straight === true && !layers[i]?.hasFan;
  };

  const starts = [0];
  let candidate = -1;
  layers.forEach((layer, i) => {
    const start = starts.at(-1) ?? 0;
    if (i > start && cuttable(i)) candidate = i;
    const x0 = layers[start]?.x ?? 0;
    if (layer.right - x0 > maxWidth && candidate > start) {
      starts.push(candidate);
      candidate = -1;
    }
  });

  const out = new Map<string, Point>(positions);
  const wraps = new Map<string, number>();
  let top: number | undefined;
  starts.forEach((start, r) => {
    const end = starts[r + 1] ?? layers.length;
    const ids = layers.slice(start, end).flatMap((l) => l.ids);
    const ys = ids.map((id) => positions.get(id)?.y ?? 0);
    const minY = Math.min(...ys);
    const maxY = Math.max(...ids.map((id) => (positions.get(id)?.y ?? 0) + (boxes.get(id)?.height ?? 0)));
    const rowTop = top ?? minY;
    const dx = (layers[0]?.x ?? 0) - (layers[start]?.x ?? 0);
    const dy = rowTop - minY;
    for (const id of ids) {
      const p = positions.get(id);
      if (p) out.set(id, { x: p.x + dx, y: p.y + dy });
    }
    if (r > 0) {
      const link = crossing(start)[0];
      if (link) wraps.set(link.id, rowTop - ROW_GAP / 2);
    }
    top = rowTop + (maxY - minY) + ROW_GAP;
  });
  return { positions: out, wraps };
}
