// The shape of a diagram edge: right out of the source, down (or up) a short trunk, right into the
// target, with rounded corners; a wrapped edge runs back left through the gap between rows. Also
// its arrowhead, and where its label sits.

export interface EdgeGeometry {
  /** SVG path of the line. */
  readonly path: string;
  /** SVG path of the filled arrowhead, tip at the target. */
  readonly arrow: string;
  readonly labelX: number;
  readonly labelY: number;
  /**
   * Where (labelX, labelY) is on the label: `end` its bottom right (the label sits on the line,
   * just before the arrow), `middle` its bottom centre (on a long run back), `trunk` its right
   * middle (left of the trunk, level with the target: the block edge, which turns right away).
   */
  readonly labelAnchor: 'end' | 'middle' | 'trunk';
}

const TRUNK = 18;
const RADIUS = 6;
const ARROW_LENGTH = 8;
const ARROW_HALF_WIDTH = 4.5;
const LABEL_GAP = 12;

type Pt = readonly [number, number];
const r1 = (n: number) => Math.round(n * 10) / 10;
const pt = (p: Pt) => `${r1(p[0])},${r1(p[1])}`;

/** An orthogonal polyline with its corners rounded (never more than half a segment). */
export function roundedPath(points: readonly Pt[], radius = RADIUS): string {
  const pts = points.filter((p, i) => i === 0 || p[0] !== points[i - 1]?.[0] || p[1] !== points[i - 1]?.[1]);
  const first = pts[0];
  if (!first) return '';
  const parts = [`M${pt(first)}`];
  for (let i = 1; i < pts.length - 1; i++) {
    const [a, b, c] = [pts[i - 1]!, pts[i]!, pts[i + 1]!];
    const lenIn = Math.hypot(b[0] - a[0], b[1] - a[1]);
    const lenOut = Math.hypot(c[0] - b[0], c[1] - b[1]);
    const r = Math.min(radius, lenIn / 2, lenOut / 2);
    const before: Pt = [b[0] - ((b[0] - a[0]) / lenIn) * r, b[1] - ((b[1] - a[1]) / lenIn) * r];
    const after: Pt = [b[0] + ((c[0] - b[0]) / lenOut) * r, b[1] + ((c[1] - b[1]) / lenOut) * r];
    parts.push(`L${pt(before)}`, `Q${pt(b)} ${pt(after)}`);
  }
  const last = pts.at(-1);
  if (last && pts.length > 1) parts.push(`L${pt(last)}`);
  return parts.join(' ');
}

export interface StepOptions {
  /** Route back through the gap between rows at this y (a wrapped edge). */
  readonly wrapY?: number;
  /** Put the label left of the trunk instead of before the arrow. */
  readonly labelAtTrunk?: boolean;
}

export function stepEdge(
  sx: number,
  sy: number,
  tx: number,
  ty: number,
  options: StepOptions = {},
): EdgeGeometry {
  const { wrapY, labelAtTrunk = false } = options;
  const arrow = `M${r1(tx - ARROW_LENGTH)},${r1(ty - ARROW_HALF_WIDTH)} L${r1(tx)},${r1(ty)} L${r1(tx - ARROW_LENGTH)},${r1(ty + ARROW_HALF_WIDTH)} Z`;
  const end = tx - ARROW_LENGTH + 1;
  if (wrapY !== undefined || end <= sx + 2) {
    // Back to the next row's start: out, down into the gap, left, down, in.
    const gapY = wrapY ?? Math.max(sy, ty) + 2 * TRUNK;
    const out = sx + TRUNK;
    const back = tx - TRUNK;
    const path = roundedPath([
      [sx, sy],
      [out, sy],
      [out, gapY],
      [back, gapY],
      [back, ty],
      [end, ty],
    ]);
    return { path, arrow, labelX: (out + back) / 2, labelY: gapY, labelAnchor: 'middle' };
  }
  if (Math.abs(ty - sy) < 0.5) {
    return {
      path: `M${pt([sx, sy])} L${pt([end, ty])}`,
      arrow,
      labelX: tx - LABEL_GAP,
      labelY: ty,
      labelAnchor: 'end',
    };
  }
  const trunk = sx + Math.min(TRUNK, (end - sx) / 2);
  const path = roundedPath([
    [sx, sy],
    [trunk, sy],
    [trunk, ty],
    [end, ty],
  ]);
  if (labelAtTrunk) return { path, arrow, labelX: trunk - LABEL_GAP / 2, labelY: ty, labelAnchor: 'trunk' };
  return { path, arrow, labelX: tx - LABEL_GAP, labelY: ty, labelAnchor: 'end' };
}
