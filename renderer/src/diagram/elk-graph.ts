// Our compact graph as elkjs's JSON graph, and elkjs's answer as positions.
import type { ElkNode } from 'elkjs/lib/elk-api.js';
import type { CompactGraph } from './compact';
import { LAYER_GAP, NODE_GAP, type Point, type Positions } from './layout-sizes';

export const ELK_OPTIONS: Readonly<Record<string, string>> = {
  'elk.algorithm': 'layered',
  'elk.direction': 'RIGHT',
  // React Flow draws the edges; ELK's routes are not used, and polyline routing adds no tracks.
  'elk.edgeRouting': 'POLYLINE',
  // Sources first and everything as far left as it can go: the blackhole sits right after the
  // guard, not at the far end with the endpoints.
  'elk.layered.layering.strategy': 'LONGEST_PATH_SOURCE',
  'elk.layered.spacing.nodeNodeBetweenLayers': String(LAYER_GAP),
  'elk.layered.spacing.edgeNodeBetweenLayers': '0',
  'elk.spacing.nodeNode': String(NODE_GAP),
  'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
  'elk.layered.crossingMinimization.forceNodeModelOrder': 'true',
  'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
  'elk.padding': '[top=0,left=0,bottom=0,right=0]',
};

/**
 * Every box gets one port on each side, where the edge layer starts and ends its edges (the middle
 * of the left and right sides; a fan's anchor), so that an edge elkjs draws straight is straight on
 * screen too.
 */
export function toElkGraph(compact: CompactGraph): ElkNode {
  return {
    id: 'root',
    layoutOptions: { ...ELK_OPTIONS },
    children: compact.boxes.map(
      (b): ElkNode => ({
        id: b.id,
        width: b.width,
        height: b.height,
        layoutOptions: { 'elk.portConstraints': 'FIXED_POS' },
        ports: [
          { id: `${b.id}:in`, x: 0, y: b.anchorY ?? b.height / 2, width: 0, height: 0, layoutOptions: WEST },
          { id: `${b.id}:out`, x: b.width, y: b.height / 2, width: 0, height: 0, layoutOptions: EAST },
        ],
      }),
    ),
    edges: compact.links.map((l) => ({
      id: l.id,
      sources: [`${l.source}:out`],
      targets: [`${l.target}:in`],
      ...(l.straight ? { layoutOptions: { 'elk.layered.priority.straightness': '10' } } : {}),
    })),
  };
}

const WEST = { 'elk.port.side': 'WEST' };
const EAST = { 'elk.port.side': 'EAST' };

export function positionsFromElk(result: ElkNode): Positions {
  const out = new Map<string, Point>();
  for (const c of result.children ?? []) out.set(c.id, { x: c.x ?? 0, y: c.y ?? 0 });
  return out;
}
