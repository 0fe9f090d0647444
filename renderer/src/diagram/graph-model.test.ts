// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { buildGraph } from './graph-model';
import type { GraphModel } from './graph-types';
import { dnatTrace, droppedNodePort, guardedNodePort, ipvsNodePort, wideNodePort } from './samples';
import type { DiagramNodePort } from './types';

const node = (g: GraphModel, id: string) => {
  const n = g.nodes.find((x) => x.id === id);
  if (!n) throw new Error(`no node ${id}`);
  return n;
};
const edge = (g: GraphModel, source: string, target: string) => {
  const e = g.edges.find((x) => x.source === source && x.target === target);
  if (!e) throw new Error(`no edge ${source} -> ${target}`);
  return e;
};
const rowLabels = (g: GraphModel) => g.nodes.filter((n) => n.id.startsWith('np/')).map((n) => n.label);

describe('buildGraph: the NodePort walk', () => {
  const np = guardedNodePort();
  const g = buildGraph(np);

  it('draws hook, foreign rule, guard, kube-proxy chains in walk order, without KUBE-MARK-* hops', () => {
    expect(rowLabels(g)).toEqual([
      'PREROUTING',
      '-j ACCEPT',
      'NPG-PREROUTING',
      'NPG-TCP-30001',
      'KUBE-SERVICES',
      'KUBE-NODEPORTS',
      np.path[6]?.chain,
      np.path[8]?.chain,
    ]);
    expect(g.nodes.some((n) => n.label === 'KUBE-MARK-MASQ')).toBe(false);
    expect(g.nodes.map((n) => n.kind).slice(0, 8)).toEqual([
      'hook',
      'foreign',
      'guard',
      'guard',
      'kube',
      'kube',
      'kube',
      'kube',
    ]);
  });

  it('puts KUBE-MARK-MASQ as a badge on the step before it', () => {
    const ext = node(g, 'np/6');
    expect(ext.badges.map((b) => b.text)).toEqual(['MASQ']);
    expect(edge(g, 'np/6', 'np/8').label).toBe('4.8k pkts');
  });

  it('shows the foreign rule amber, with its rule and effect', () => {
    const f = node(g, 'np/1');
    expect(f.sublabel).toContain('-j ACCEPT');
    expect(f.badges[0]?.text).toBe('accept');
    expect(f.chain).toBe('PREROUTING');
    expect(edge(g, 'np/0', 'np/1').kind).toBe('foreign');
    expect(edge(g, 'np/1', 'np/2').kind).toBe('foreign');
  });

  it('sends the guard chain to the blackhole with a red block edge counting allow entries', () => {
    const block = edge(g, 'np/3', 'blackhole');
    expect(block.kind).toBe('block');
    expect(block.label).toBe('block: all but 3 allowed');
    expect(node(g, 'blackhole').label).toBe('REDIRECT :65535');
    expect(node(g, 'blackhole').sublabel).toBe('(blackhole)');
    expect(node(g, 'np/3').sublabel).toBe('allows 3 sources');
  });

  it('fans out to one KUBE-SEP and one endpoint per pod, with the probability on the edge', () => {
    expect(g.nodes.filter((n) => n.kind === 'sep')).toHaveLength(4);
    expect(g.nodes.filter((n) => n.kind === 'endpoint').map((n) => n.label)).toEqual(
      np.endpoints.map((e) => e.address),
    );
    expect(edge(g, 'np/8', 'sep/0').label).toBe('25% · 1.2k pkts');
    expect(edge(g, 'sep/0', 'ep/0').label).toBeUndefined();
    expect(node(g, 'sep/0').counters).toEqual({ packets: 1200, bytes: 72_000 });
  });

  it('has unique ids and edges between existing nodes, and no lit or dimmed without a trace', () => {
    const ids = new Set(g.nodes.map((n) => n.id));
    expect(ids.size).toBe(g.nodes.length);
    for (const e of g.edges) {
      expect(ids.has(e.source) && ids.has(e.target)).toBe(true);
    }
    expect(g.nodes.some((n) => n.lit || n.dimmed)).toBe(false);
    expect(g.edges.some((e) => e.lit || e.dimmed)).toBe(false);
  });

  it('adds the ClusterIP row only when asked', () => {
    expect(g.nodes.some((n) => n.row === 'cluster-ip')).toBe(false);
    const withCip = buildGraph(np, { showClusterIp: true });
    const row = withCip.nodes.filter((n) => n.row === 'cluster-ip');
    expect(row.map((n) => n.label)).toEqual(['OUTPUT', 'KUBE-SERVICES', np.path[8]?.chain]);
    expect(row[0]?.sublabel).toBe('to 10.96.12.34:80');
    expect(withCip.edges.filter((e) => e.source.startsWith('cip/'))).toHaveLength(2);
  });
});

describe('buildGraph: other shapes', () => {
  it('says no endpoints in red; a local-only service drops', () => {
    const g = buildGraph(droppedNodePort());
    const end = node(g, 'reject');
    expect(end.kind).toBe('reject');
    expect(end.label).toBe('no local endpoints: dropped');
    expect(node(g, 'np/3').badges.map((b) => b.text)).toEqual(['DROP mark', 'local only']);
    const plain = buildGraph({ ...wideNodePort(0), noEndpoints: true });
    expect(node(plain, 'reject').label).toBe('no endpoints: rejected');
  });

  it('goes from IPVS straight to the endpoints in ipvs mode', () => {
    const g = buildGraph(ipvsNodePort());
    expect(rowLabels(g)).toEqual(['PREROUTING', 'KUBE-SERVICES', 'KUBE-NODE-PORT', 'IPVS']);
    expect(node(g, 'np/4').kind).toBe('ipvs');
    expect(node(g, 'np/2').badges[0]?.text).toBe('MASQ');
    expect(g.nodes.some((n) => n.kind === 'sep')).toBe(false);
    expect(edge(g, 'np/4', 'ep/1').label).toBe('50% · 1.2k pkts');
  });

  it('draws the guard and foreign rules the path does not list', () => {
    const base = wideNodePort(1);
    const np: DiagramNodePort = {
      ...base,
      guard: { chain: 'NPG-TCP-30080', allow: [], effective: false, blockToPort: 65000 },
      foreign: [{ position: 3, effect: 'drop', rule: '-A PREROUTING -p tcp -j DROP' }],
    };
    const g = buildGraph(np);
    expect(rowLabels(g).slice(0, 4)).toEqual(['PREROUTING', '-j DROP', 'NPG-TCP-30080', 'KUBE-SERVICES']);
    expect(node(g, 'np/2').badges[0]?.text).toBe('not effective');
    expect(edge(g, 'np/2', 'blackhole').label).toBe('block: every source');
    expect(node(g, 'blackhole').label).toBe('REDIRECT :65000');
  });
});

describe('buildGraph: size', () => {
  it('handles 100 endpoints', () => {
    const g = buildGraph(wideNodePort(100));
    expect(g.nodes.filter((n) => n.kind === 'endpoint')).toHaveLength(100);
    expect(g.nodes).toHaveLength(5 + 200);
    expect(g.edges).toHaveLength(4 + 200);
  });

  it('handles 500 endpoints with a trace quickly', () => {
    const np = wideNodePort(500);
    const t0 = performance.now();
    const g = buildGraph(np, { trace: dnatTrace(np, 499) });
    expect(performance.now() - t0).toBeLessThan(500);
    expect(new Set(g.nodes.map((n) => n.id)).size).toBe(5 + 1000);
    expect(node(g, 'ep/499').lit).toBe(true);
  });
});

describe('buildGraph: text from the node is shown inert', () => {
  it('escapes bidi and control characters in labels and rules; the chain, a key, stays as it is', () => {
    const np = guardedNodePort();
    const hostile = 'KUBE-SVC-\u202eLIVE';
    const step = np.path[8]!;
    const g = buildGraph({
      ...np,
      path: np.path.map((s) => (s === step ? { ...s, chain: hostile, via: `-A X -j ${hostile}` } : s)),
    });
    const n = g.nodes.find((x) => x.chain === hostile);
    expect(n?.label).toBe('KUBE-SVC-\\u202eLIVE');
    expect(g.nodes.every((x) => !/[\u202e]/.test(`${x.label}${x.sublabel ?? ''}${x.detail ?? ''}`))).toBe(
      true,
    );
  });
});
