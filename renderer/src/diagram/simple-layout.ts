// The synchronous fallback layout, used when the elkjs worker cannot run or answer.
import type { Box, CompactGraph } from './compact';
import { LAYER_GAP, NODE_GAP, type Point, type Positions } from './layout-sizes';

/**
 * The fallback: layers by longest path from a source, boxes of a layer stacked in model order
 * from the top, a fan's anchor level with its source. O(boxes + links); no crossing reduction,
 * which the NodePort graph (a chain, then a fan) hardly needs.
 */
export function simpleLayout(compact: CompactGraph): Positions {
  const { boxes, links } = compact;
  const layer = new Map<string, number>(boxes.map((b) => [b.id, 0]));
  const out = new Map<string, string[]>();
  const indeg = new Map<string, number>(boxes.map((b) => [b.id, 0]));
  for (const l of links) {
    if (!layer.has(l.source) || !layer.has(l.target)) continue;
    out.set(l.source, [...(out.get(l.source) ?? []), l.target]);
    indeg.set(l.target, (indeg.get(l.target) ?? 0) + 1);
  }
  // Kahn's order; a box left in a cycle keeps the layer it has reached.
  const queue = boxes.filter((b) => indeg.get(b.id) === 0).map((b) => b.id);
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i]!;
    for (const t of out.get(id) ?? []) {
      layer.set(t, Math.max(layer.get(t) ?? 0, (layer.get(id) ?? 0) + 1));
      const d = (indeg.get(t) ?? 1) - 1;
      indeg.set(t, d);
      if (d === 0) queue.push(t);
    }
  }
  const layers: Box[][] = [];
  for (const b of boxes) {
    const l = layer.get(b.id) ?? 0;
    layers[l] = [...(layers[l] ?? []), b];
  }
  // The first box of every layer on one line (the walk); the others stacked below it.
  const anchor = (b: Box) => b.anchorY ?? b.height / 2;
  const line = Math.max(0, ...layers.map((bs) => (bs[0] ? anchor(bs[0]) : 0)));
  const pos = new Map<string, Point>();
  let x = 0;
  for (const bs of layers) {
    if (!bs) continue;
    let y = 0;
    bs.forEach((b, i) => {
      const top = i === 0 ? line - anchor(b) : y;
      pos.set(b.id, { x, y: top });
      y = top + b.height + NODE_GAP;
    });
    x += Math.max(0, ...bs.map((b) => b.width)) + LAYER_GAP;
  }
  return pos;
}
