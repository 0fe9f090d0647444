// Step 3b of the diagram pipeline: every edge of a laid-out graph as a few SVG paths and one label
// each. Edges that look alike share one path: a 100-endpoint fan is one stroke and one fill, not
// 200 elements, and React Flow never has to measure a node to find where its edges start.
import { type EdgeGeometry, stepEdge } from './edge-path';
import type { LaidOutEdge, LaidOutGraph, LaidOutNode } from './layout';

/** All edges of one look: their lines (stroked) and arrowheads (filled), each as one path. */
export interface EdgeStroke {
  /** `dg-edge dg-edge--<kind>` plus `is-lit` / `is-dimmed`: the classes diagram.css styles. */
  readonly className: string;
  readonly line: string;
  readonly arrow: string;
}

export interface EdgeLabel {
  readonly id: string;
  readonly className: string;
  readonly text: string;
  /** The edge's label point, in graph coordinates (for leaving out labels far from the view). */
  readonly x: number;
  readonly y: number;
  /** The label's box moved so that its anchor (see EdgeGeometry) lands on the edge's label point. */
  readonly transform: string;
}

export interface EdgeLayer {
  /** Dimmed first, lit last: later paths are drawn on top. */
  readonly strokes: readonly EdgeStroke[];
  readonly labels: readonly EdgeLabel[];
}

const LABEL_SHIFT: Readonly<Record<EdgeGeometry['labelAnchor'], string>> = {
  end: 'translate(-100%, calc(-100% - 1px))',
  middle: 'translate(-50%, calc(-100% - 1px))',
  trunk: 'translate(-100%, -50%)',
};

const stateClass = (e: LaidOutEdge): string =>
  `dg-edge--${e.kind}${e.lit ? ' is-lit' : ''}${e.dimmed ? ' is-dimmed' : ''}`;

/** Drawing order of a look: dimmed under plain under lit. */
const layerOf = (e: LaidOutEdge): number => (e.lit ? 2 : e.dimmed ? 0 : 1);

/** An edge leaves its source's right side and enters its target's left side, both at mid-height. */
export function edgeLayer(graph: Pick<LaidOutGraph, 'nodes' | 'edges'>): EdgeLayer {
  const at = new Map<string, LaidOutNode>(graph.nodes.map((n) => [n.id, n]));
  const looks = new Map<string, { layer: number; line: string[]; arrow: string[] }>();
  const labels: EdgeLabel[] = [];
  for (const e of graph.edges) {
    const s = at.get(e.source);
    const t = at.get(e.target);
    if (!s || !t) continue;
    const g = stepEdge(s.x + s.width, s.y + s.height / 2, t.x, t.y + t.height / 2, {
      ...(e.wrapY === undefined ? {} : { wrapY: e.wrapY }),
      labelAtTrunk: e.kind === 'block',
    });
    const state = stateClass(e);
    let look = looks.get(state);
    if (!look) {
      look = { layer: layerOf(e), line: [], arrow: [] };
      looks.set(state, look);
    }
    look.line.push(g.path);
    look.arrow.push(g.arrow);
    if (e.label) {
      labels.push({
        id: e.id,
        className: `dg-edge-label ${state}`,
        text: e.label,
        x: g.labelX,
        y: g.labelY,
        transform: `${LABEL_SHIFT[g.labelAnchor]} translate(${g.labelX}px, ${g.labelY}px)`,
      });
    }
  }
  const strokes = [...looks]
    .sort((a, b) => a[1].layer - b[1].layer)
    .map(([state, look]) => ({
      className: `dg-edge ${state}`,
      line: look.line.join(' '),
      arrow: look.arrow.join(' '),
    }));
  return { strokes, labels };
}
