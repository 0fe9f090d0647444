// Step 1 of the diagram pipeline: a NodePort's walk (plus an optional packet trace) as a graph in
// our own types. Pure data in, pure data out; layout and React Flow come later.
import { inertText } from '../../../shared/text/visible';
import { edgeCounters, percent } from './format';
import type {
  GBadge,
  GCounters,
  GEdge,
  GEdgeKind,
  GNode,
  GNodeKind,
  GRow,
  GraphModel,
  GraphOptions,
} from './graph-types';
import { jumpTarget, sameRule } from './rule-text';
import { lightTrace } from './trace-light';
import type { DiagramEndpoint, DiagramNodePort, DiagramStep } from './types';

type Draft<T> = { -readonly [K in keyof T]: T[K] };
type DraftNode = Draft<Omit<GNode, 'badges'>> & { badges: GBadge[] };

/** A step's role in words, the same in the diagram and the text view (chain names differ by mode). */
export const ROLE: Readonly<Record<string, string>> = {
  PREROUTING: 'netfilter hook',
  OUTPUT: 'netfilter hook',
  INPUT: 'netfilter hook',
  POSTROUTING: 'netfilter hook',
  NPG: 'guard chain',
  foreign: 'foreign rule',
  IPVS: 'IPVS virtual service',
  'KUBE-SERVICES': 'services chain',
  'KUBE-NODEPORTS': 'NodePorts chain',
  'KUBE-NODE-PORT': 'NodePort set match',
  'KUBE-EXT': 'external traffic chain',
  'KUBE-SVC': 'service chain',
  'KUBE-SVL': 'local service chain',
  'KUBE-XLB': 'local traffic chain',
  'KUBE-FW': 'load-balancer firewall chain',
  'KUBE-SEP': 'endpoint chain',
};

function nodeKindOf(stepKind: string): GNodeKind {
  switch (stepKind) {
    case 'PREROUTING':
    case 'OUTPUT':
    case 'INPUT':
    case 'POSTROUTING':
      return 'hook';
    case 'NPG':
      return 'guard';
    case 'foreign':
      return 'foreign';
    case 'IPVS':
      return 'ipvs';
    case 'KUBE-SEP':
      return 'sep';
    default:
      return 'kube';
  }
}

const MARK_MASQ = 'KUBE-MARK-MASQ';
const MARK_DROP = 'KUBE-MARK-DROP';
const DEFAULT_BLACKHOLE_PORT = 65535;

/**
 * The NodePort's steps, completed from the rest of the view: foreign rules and the guard that the
 * path does not list are put where they act (right after the hook), so that they are never lost.
 */
function completeSteps(np: DiagramNodePort): DiagramStep[] {
  const steps = [...np.path];
  const extraForeign = np.foreign
    .filter((f) => !steps.some((s) => s.kind === 'foreign' && sameRule(s.via, f.rule)))
    .sort((a, b) => a.position - b.position)
    .map((f): DiagramStep => ({ chain: 'PREROUTING', kind: 'foreign', via: f.rule }));
  const afterHook = steps[0] && nodeKindOf(steps[0].kind) === 'hook' ? 1 : 0;
  steps.splice(afterHook, 0, ...extraForeign);
  if (np.guard && !steps.some((s) => s.kind === 'NPG')) {
    let at = afterHook;
    while (steps[at]?.kind === 'foreign') at++;
    steps.splice(at, 0, { chain: np.guard.chain, kind: 'NPG' });
  }
  return steps;
}

function foreignLabel(step: DiagramStep): string {
  if (step.chain !== 'PREROUTING' && step.chain !== '') return step.chain;
  const target = jumpTarget(step.via);
  return target ? `-j ${target}` : 'foreign rule';
}

class Builder {
  readonly nodes: DraftNode[] = [];
  readonly edges: Draft<GEdge>[] = [];

  node(n: Omit<DraftNode, 'badges' | 'lit' | 'dimmed'> & { badges?: GBadge[] }): DraftNode {
    const draft: DraftNode = { ...n, badges: n.badges ?? [], lit: false, dimmed: false };
    this.nodes.push(draft);
    return draft;
  }

  edge(source: DraftNode, target: DraftNode, kind: GEdgeKind, label?: string): void {
    const e: Draft<GEdge> = {
      id: `${source.id}->${target.id}`,
      source: source.id,
      target: target.id,
      kind,
      lit: false,
      dimmed: false,
    };
    if (label) e.label = label;
    this.edges.push(e);
  }
}

function counters(packets: number | undefined, bytes: number | undefined): GCounters | undefined {
  if (packets === undefined) return undefined;
  return bytes === undefined ? { packets } : { packets, bytes };
}

/** One row of chain steps: KUBE-MARK-* steps become badges of the step before, not hops. */
function buildRow(
  b: Builder,
  steps: readonly DiagramStep[],
  row: GRow,
  prefix: string,
  np: DiagramNodePort,
): DraftNode[] {
  const spine: DraftNode[] = [];
  steps.forEach((step, i) => {
    const prev = spine.at(-1);
    if (step.kind === MARK_MASQ || step.kind === MARK_DROP) {
      if (!prev) return;
      prev.badges.push(
        step.kind === MARK_MASQ
          ? {
              text: np.masquerade === 'conditional' ? 'MASQ?' : 'MASQ',
              tone: 'info',
              title: `jumps to ${MARK_MASQ}: source NAT (masquerade) ${np.masquerade === 'conditional' ? 'for some sources' : 'for every packet'}`,
            }
          : { text: 'DROP mark', tone: 'bad', title: `jumps to ${MARK_DROP}: the packet is dropped` },
      );
      return;
    }
    const kind = nodeKindOf(step.kind);
    const n = b.node({
      id: `${prefix}/${i}`,
      kind,
      row,
      label: kind === 'foreign' ? foreignLabel(step) : step.chain,
      role: ROLE[step.kind] ?? 'chain',
    });
    // A foreign rule opens the chain it jumps to, or PREROUTING, where it lives.
    if (kind !== 'ipvs') n.chain = step.chain;
    if (kind === 'ipvs') n.label = 'IPVS';
    const c = counters(step.packets, step.bytes);
    if (c) n.counters = c;
    if (step.via) n.detail = step.via;
    if (kind === 'foreign') {
      if (step.via) n.sublabel = step.via;
      const f = np.foreign.find((fr) => sameRule(fr.rule, step.via));
      if (f) n.badges.push({ text: f.effect, tone: 'warn', title: `in front of kube-proxy: ${f.effect}` });
    }
    if (prev) {
      const edgeKind = kind === 'foreign' || prev.kind === 'foreign' ? 'foreign' : 'normal';
      b.edge(prev, n, edgeKind, edgeCounters(step.packets));
    }
    spine.push(n);
  });
  return spine;
}

function addGuard(b: Builder, spine: readonly DraftNode[], np: DiagramNodePort): DraftNode | undefined {
  const guards = spine.filter((n) => n.kind === 'guard');
  const portGuard = guards.find((n) => n.chain === np.guard?.chain) ?? guards.at(-1);
  if (!portGuard) return undefined;
  const allow = np.guard?.allow ?? [];
  if (np.guard) {
    portGuard.sublabel = `allows ${allow.length} source${allow.length === 1 ? '' : 's'}`;
    portGuard.detail = allow.map((a) => (a.label ? `${a.label} ${a.source}` : a.source)).join(', ');
    if (!np.guard.effective) {
      portGuard.badges.push({
        text: 'not effective',
        tone: 'warn',
        title: 'the guard chain exists but packets do not reach it before kube-proxy',
      });
    }
  }
  const port = np.guard?.blockToPort ?? DEFAULT_BLACKHOLE_PORT;
  const hole = b.node({
    id: 'blackhole',
    kind: 'blackhole',
    row: 'nodeport',
    label: `REDIRECT :${port}`,
    sublabel: '(blackhole)',
    role: 'blocked: redirected to a closed port',
  });
  const label = !np.guard
    ? 'block'
    : allow.length === 0
      ? 'block: every source'
      : `block: all but ${allow.length} allowed`;
  b.edge(portGuard, hole, 'block', label);
  return portGuard;
}

function addEndpoints(b: Builder, from: DraftNode | undefined, np: DiagramNodePort): void {
  if (!from) return;
  if (np.localOnly) {
    from.badges.push({
      text: 'local only',
      tone: 'info',
      title: 'externalTrafficPolicy Local: only endpoints on this node',
    });
  }
  if (np.noEndpoints) {
    const dropped = from.badges.some((x) => x.text === 'DROP mark');
    const none = b.node({
      id: 'reject',
      kind: 'reject',
      row: 'nodeport',
      label: dropped ? 'no local endpoints: dropped' : 'no endpoints: rejected',
      role: 'no endpoints',
    });
    b.edge(from, none, 'normal');
    return;
  }
  const viaSep = from.kind !== 'ipvs';
  np.endpoints.forEach((ep: DiagramEndpoint, i) => {
    const share = percent(ep.probability);
    const c = counters(ep.packets, ep.bytes);
    const edgeLabel = [share, edgeCounters(ep.packets)].filter(Boolean).join(' · ');
    const sep =
      viaSep && ep.chain
        ? b.node({
            id: `sep/${i}`,
            kind: 'sep',
            row: 'nodeport',
            chain: ep.chain,
            label: ep.chain,
            role: ROLE['KUBE-SEP'] ?? 'endpoint chain',
          })
        : undefined;
    const end = b.node({
      id: `ep/${i}`,
      kind: 'endpoint',
      row: 'nodeport',
      label: ep.address,
      role: 'pod endpoint',
    });
    end.sublabel = `${share} of new connections`;
    if (sep) {
      if (c) sep.counters = c;
      b.edge(from, sep, 'normal', edgeLabel);
      b.edge(sep, end, 'normal');
    } else {
      if (c) end.counters = c;
      b.edge(from, end, 'normal', edgeLabel);
    }
  });
}

function addClusterIp(b: Builder, np: DiagramNodePort): DraftNode[] {
  const cip = np.clusterIp;
  if (!cip || cip.path.length === 0) return [];
  const row = buildRow(b, cip.path, 'cluster-ip', 'cip', np);
  const first = row[0];
  if (first) {
    const target = cip.port === undefined ? cip.address : withPort(cip.address, cip.port);
    first.sublabel = `to ${target}`;
    first.detail = `Traffic from this node to ClusterIP ${target}`;
  }
  return row;
}

function withPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The graph of one NodePort: its chain walk, guard, foreign rules, endpoints, and trace. */
export function buildGraph(np: DiagramNodePort, options: GraphOptions = {}): GraphModel {
  const b = new Builder();
  const spine = buildRow(b, completeSteps(np), 'nodeport', 'np', np);
  addGuard(b, spine, np);
  addEndpoints(b, spine.at(-1), np);
  if (options.showClusterIp) addClusterIp(b, np);
  // Chain names, rules and comments come from a node: shown inert (chain stays as is: it is a key).
  const nodes = b.nodes.map((n) => ({
    ...n,
    label: inertText(n.label),
    ...(n.sublabel === undefined ? {} : { sublabel: inertText(n.sublabel) }),
    ...(n.detail === undefined ? {} : { detail: inertText(n.detail) }),
  }));
  const graph: GraphModel = { nodes, edges: b.edges };
  return options.trace
    ? lightTrace(
        graph,
        options.trace,
        spine.map((n) => n.id),
      )
    : graph;
}
