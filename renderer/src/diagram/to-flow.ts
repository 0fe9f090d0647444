// Step 3 of the diagram pipeline: a laid-out graph as React Flow nodes and edges. The only module
// that knows React Flow's types; the components it registers take our own data.
import type { Edge, EdgeTypes, Node, NodeTypes } from '@xyflow/react';
import { nodeAriaLabel } from './describe';
import { ChainEdge, ChainNode } from './flow-parts';
import type { LaidOutEdge, LaidOutGraph, LaidOutNode } from './layout';

export type ChainNodeData = { node: LaidOutNode };
export type ChainEdgeData = { edge: LaidOutEdge };
export type FlowNode = Node<ChainNodeData, 'chain'>;
export type FlowEdge = Edge<ChainEdgeData, 'chain'>;

export const nodeTypes: NodeTypes = { chain: ChainNode };
export const edgeTypes: EdgeTypes = { chain: ChainEdge };

/** The minimap colours a node by its kind (see diagram.css). */
export function miniMapNodeClass(n: Node): string {
  const kind = (n.data as Partial<ChainNodeData>).node?.kind ?? 'kube';
  return `dg-mini dg-mini--${kind}`;
}

export interface Flow {
  readonly nodes: FlowNode[];
  readonly edges: FlowEdge[];
}

export function toFlow(graph: LaidOutGraph): Flow {
  const nodes = graph.nodes.map(
    (n): FlowNode => ({
      id: n.id,
      type: 'chain',
      position: { x: n.x, y: n.y },
      width: n.width,
      height: n.height,
      data: { node: n },
      draggable: false,
      connectable: false,
      selectable: true,
      focusable: true,
      ariaLabel: nodeAriaLabel(n),
      // A node that is a chain opens it; the others are described, not pressed.
      ariaRole: n.chain ? 'button' : 'group',
      ...(n.lit ? { zIndex: 1 } : {}),
    }),
  );
  const edges = graph.edges.map(
    (e): FlowEdge => ({
      id: e.id,
      type: 'chain',
      source: e.source,
      target: e.target,
      data: { edge: e },
      focusable: false,
      selectable: false,
      zIndex: e.lit ? 1 : 0,
    }),
  );
  return { nodes, edges };
}
