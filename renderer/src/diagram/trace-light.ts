// A packet trace on the graph: the nodes and edges the traced packet went through are lit, the
// rest dimmed. Pure: a graph in, a graph out.
import type { GEdge, GNode, GraphModel } from './graph-types';
import { jumpTarget, sameRule } from './rule-text';
import type { DiagramTrace } from './types';

/**
 * `spine` is the NodePort row's walk, in order (hook, foreign rules, guard, kube-proxy chains):
 * a foreign rule or guard chain before the last lit step that the packet did not match was still
 * passed on the way, so it is neither lit nor dimmed and its edges stay lit.
 */
export function lightTrace(graph: GraphModel, trace: DiagramTrace, spine: readonly string[]): GraphModel {
  const visited = new Set<string>();
  for (const hop of trace.hops) {
    visited.add(hop.chain);
    const target = jumpTarget(hop.rule);
    if (target) visited.add(target);
  }
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const preds = new Map<string, GNode[]>();
  for (const e of graph.edges) {
    const src = byId.get(e.source);
    if (src) preds.set(e.target, [...(preds.get(e.target) ?? []), src]);
  }
  const lit = new Set<string>();
  const predLit = (n: GNode) => (preds.get(n.id) ?? []).some((p) => lit.has(p.id));
  const ended = trace.verdict === 'redirect' || trace.verdict === 'drop';
  const clusterHookVisited = graph.nodes.some(
    (n) => n.row === 'cluster-ip' && n.kind === 'hook' && visited.has(n.chain ?? ''),
  );

  const isLit = (n: GNode): boolean => {
    // The trace is of a packet arriving from outside: the ClusterIP row only if it saw OUTPUT.
    if (n.row === 'cluster-ip' && !clusterHookVisited) return false;
    switch (n.kind) {
      case 'hook':
      case 'kube':
      case 'guard':
      case 'sep':
        return n.chain !== undefined && visited.has(n.chain);
      case 'foreign':
        return (
          trace.hops.some((h) => sameRule(h.rule, n.detail)) ||
          (n.chain !== undefined && n.chain !== 'PREROUTING' && visited.has(n.chain))
        );
      case 'ipvs':
        return !ended && predLit(n);
      case 'endpoint':
        // Without the endpoint's address, a lit KUBE-SEP (its DNAT rule matched) says which one.
        return trace.endpoint !== undefined
          ? trace.endpoint === n.label
          : trace.verdict === 'dnat' &&
              (preds.get(n.id) ?? []).some((p) => p.kind === 'sep' && lit.has(p.id));
      case 'blackhole':
        return trace.verdict === 'redirect' && predLit(n);
      case 'reject':
        return trace.verdict !== 'dnat' && trace.verdict !== 'redirect' && predLit(n);
      default: {
        const unknown: never = n.kind;
        throw new Error(`unknown node kind ${String(unknown)}`);
      }
    }
  };
  // Nodes come in walk order (spine, blackhole, fan), so a predecessor is decided first.
  for (const n of graph.nodes) if (isLit(n)) lit.add(n.id);

  const lastLit = spine.findLastIndex((id) => lit.has(id));
  const passed = new Set(
    spine.filter((id, i) => {
      const kind = byId.get(id)?.kind;
      return i < lastLit && !lit.has(id) && (kind === 'foreign' || kind === 'guard');
    }),
  );
  const onWay = (id: string) => passed.has(id) || lit.has(id);
  return {
    nodes: graph.nodes.map((n): GNode => ({ ...n, lit: lit.has(n.id), dimmed: !onWay(n.id) })),
    edges: graph.edges.map((e): GEdge => {
      const on = onWay(e.source) && onWay(e.target);
      return { ...e, lit: on, dimmed: !on };
    }),
  };
}
