// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { buildGraph } from './graph-model';
import type { GraphModel } from './graph-types';
import { dnatTrace, guardedNodePort, ipvsNodePort, redirectTrace } from './samples';
import { lightTrace } from './trace-light';

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

describe('buildGraph: a trace lights its way and dims the rest', () => {
  const np = guardedNodePort();

  it('lights the block edge for a redirect', () => {
    const g = buildGraph(np, { trace: redirectTrace() });
    expect(edge(g, 'np/3', 'blackhole')).toMatchObject({ lit: true, dimmed: false });
    expect(node(g, 'blackhole').lit).toBe(true);
    expect(node(g, 'np/4')).toMatchObject({ label: 'KUBE-SERVICES', lit: false, dimmed: true });
    expect(edge(g, 'np/3', 'np/4')).toMatchObject({ lit: false, dimmed: true });
    // The foreign rule did not match, but the packet went past it.
    expect(node(g, 'np/1')).toMatchObject({ lit: false, dimmed: false });
    expect(edge(g, 'np/0', 'np/1').lit).toBe(true);
    expect(g.nodes.filter((n) => n.kind === 'endpoint').every((n) => n.dimmed)).toBe(true);
  });

  it('lights the endpoint a DNAT went to and nothing else of the fan', () => {
    const g = buildGraph(np, { trace: dnatTrace(np, 2), showClusterIp: true });
    expect(node(g, 'ep/2').lit).toBe(true);
    expect(node(g, 'sep/2').lit).toBe(true);
    expect(edge(g, 'np/8', 'sep/2').lit).toBe(true);
    expect(edge(g, 'sep/2', 'ep/2').lit).toBe(true);
    expect(node(g, 'ep/1').dimmed).toBe(true);
    expect(edge(g, 'np/3', 'blackhole').dimmed).toBe(true);
    expect(node(g, 'np/6').lit).toBe(true);
    expect(g.nodes.filter((n) => n.row === 'cluster-ip').every((n) => n.dimmed)).toBe(true);
  });

  it('finds the endpoint through its KUBE-SEP when the trace does not name it', () => {
    const t = dnatTrace(np, 1);
    const g = buildGraph(np, { trace: { ...t, endpoint: undefined } });
    expect(g.nodes.filter((n) => n.kind === 'endpoint' && n.lit).map((n) => n.id)).toEqual(['ep/1']);
  });
});

describe('lightTrace on its own', () => {
  it('lights IPVS when the packet reached it, and no endpoint it cannot name', () => {
    const plain = buildGraph(ipvsNodePort());
    const spine = plain.nodes.filter((n) => n.id.startsWith('np/')).map((n) => n.id);
    const g = lightTrace(
      plain,
      {
        verdict: 'accept',
        detail: 'to IPVS',
        hops: [
          { chain: 'PREROUTING', rule: '-A PREROUTING -j KUBE-SERVICES' },
          { chain: 'KUBE-SERVICES', rule: '-A KUBE-SERVICES -j KUBE-NODE-PORT' },
        ],
      },
      spine,
    );
    expect(node(g, 'np/4').lit).toBe(true);
    expect(g.nodes.filter((n) => n.kind === 'endpoint').every((n) => n.dimmed)).toBe(true);
    expect(plain.nodes.every((n) => !n.lit && !n.dimmed)).toBe(true);
  });
});
