// @vitest-environment node
import ELK from 'elkjs/lib/elk.bundled.js';
import { describe, expect, it } from 'vitest';
import { buildGraph } from './graph-model';
import {
  fallbackLayout,
  type LaidOutGraph,
  type LayoutEngine,
  layoutGraph,
  layoutKey,
  relabel,
} from './layout';
import { NODE_SIZE } from './layout-sizes';
import { dnatTrace, guardedNodePort, ipvsNodePort, wideNodePort } from './samples';
import { simpleLayout } from './simple-layout';

const elk: LayoutEngine = new ELK();

function overlaps(g: LaidOutGraph): string[] {
  const bad: string[] = [];
  const ns = [...g.nodes].sort((a, b) => a.x - b.x);
  for (let i = 0; i < ns.length; i++) {
    const a = ns[i]!;
    for (let j = i + 1; j < ns.length; j++) {
      const b = ns[j]!;
      if (b.x >= a.x + a.width) break;
      if (a.y < b.y + b.height && b.y < a.y + a.height) bad.push(`${a.id}/${b.id}`);
    }
  }
  return bad;
}

const centre = (g: LaidOutGraph, id: string) => {
  const n = g.nodes.find((x) => x.id === id)!;
  return { x: n.x + n.width / 2, y: n.y + n.height / 2, n };
};

describe('fallbackLayout (synchronous)', () => {
  it('places every node, without overlaps, the walk on one line, deterministically', () => {
    const g = buildGraph(guardedNodePort(), { showClusterIp: true });
    const a = fallbackLayout(g);
    expect(a.engine).toBe('fallback');
    expect(a.nodes).toHaveLength(g.nodes.length);
    expect(overlaps(a)).toEqual([]);
    // The walk wraps once (before KUBE-NODEPORTS); each part on one line, left to right.
    expect(a.edges.filter((e) => e.wrapY !== undefined).map((e) => e.id)).toEqual(['np/4->np/5']);
    for (const part of [
      ['np/0', 'np/1', 'np/2', 'np/3', 'np/4'],
      ['np/5', 'np/6', 'np/8'],
    ]) {
      expect(new Set(part.map((id) => centre(a, id).y)).size).toBe(1);
      const xs = part.map((id) => centre(a, id).x);
      expect([...xs].sort((p, q) => p - q)).toEqual(xs);
    }
    expect(centre(a, 'np/5').y).toBeGreaterThan(centre(a, 'blackhole').y);
    expect(a.width).toBeLessThanOrEqual(1400);
    const mainBottom = Math.max(...a.nodes.filter((n) => n.row === 'nodeport').map((n) => n.y + n.height));
    expect(Math.min(...a.nodes.filter((n) => n.row === 'cluster-ip').map((n) => n.y))).toBeGreaterThan(
      mainBottom,
    );
    expect(fallbackLayout(g)).toEqual(a);
  });

  // How fast is npm run bench:ui's business; here, that 500 endpoints lay out without overlaps.
  it('lays out 500 endpoints', () => {
    const g = buildGraph(wideNodePort(500));
    const l = fallbackLayout(g);
    expect(overlaps(l)).toEqual([]);
    expect(l.height).toBeGreaterThan(500 * NODE_SIZE.endpoint.height);
  });

  it('survives a cycle', () => {
    const c = {
      boxes: [
        { id: 'a', width: 10, height: 10 },
        { id: 'b', width: 10, height: 10 },
      ],
      links: [
        { id: 'a->b', source: 'a', target: 'b', straight: true },
        { id: 'b->a', source: 'b', target: 'a', straight: true },
      ],
      fans: [],
    };
    expect(simpleLayout(c).size).toBe(2);
  });
});

describe('layoutGraph (elkjs)', () => {
  it('lays out the guarded NodePort with elkjs: no overlaps, straight walk, blackhole after the guard', async () => {
    const g = buildGraph(guardedNodePort(), { showClusterIp: true });
    const l = await layoutGraph(g, { engine: elk });
    expect(l.engine).toBe('elk');
    expect(overlaps(l)).toEqual([]);
    const first = ['np/0', 'np/1', 'np/2', 'np/3', 'np/4'].map((id) => centre(l, id));
    expect(new Set(first.map((p) => Math.round(p.y))).size).toBe(1);
    const second = ['np/5', 'np/6', 'np/8'].map((id) => centre(l, id));
    expect(new Set(second.map((p) => Math.round(p.y))).size).toBe(1);
    expect(l.edges.find((e) => e.id === 'np/4->np/5')?.wrapY).toBeGreaterThan(first[0]!.y);
    const guard = centre(l, 'np/3');
    const hole = centre(l, 'blackhole');
    expect(hole.x).toBeGreaterThan(guard.x);
    expect(hole.y).toBeGreaterThan(guard.y);
    expect(l.width).toBeGreaterThan(0);
  });

  it('lays out 100 endpoints fast, hanging the fan from the service chain', async () => {
    const g = buildGraph(wideNodePort(100));
    await layoutGraph(g, { engine: elk }); // elkjs's first run compiles; measure the second
    const t0 = performance.now();
    const l = await layoutGraph(g, { engine: elk });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(overlaps(l)).toEqual([]);
    expect(Math.abs(centre(l, 'sep/0').y - centre(l, 'np/5').y)).toBeLessThan(1);
  });

  it('falls back when the engine fails or hangs', async () => {
    const g = buildGraph(guardedNodePort());
    const reasons: unknown[] = [];
    const failing: LayoutEngine = { layout: () => Promise.reject(new Error('boom')) };
    const a = await layoutGraph(g, { engine: failing, onFallback: (r) => reasons.push(r) });
    expect(a.engine).toBe('fallback');
    const hanging: LayoutEngine = { layout: () => new Promise(() => undefined) };
    const b = await layoutGraph(g, { engine: hanging, timeoutMs: 20, onFallback: (r) => reasons.push(r) });
    expect(b.engine).toBe('fallback');
    expect(reasons.map(String)).toEqual(['Error: boom', 'Error: layout took longer than 20 ms']);
  });

  it('falls back without a Worker (no engine given, Node has none)', async () => {
    const l = await layoutGraph(buildGraph(ipvsNodePort()));
    expect(l.engine).toBe('fallback');
  });
});

describe('layoutKey / relabel', () => {
  it('keeps positions when only counters or the trace change', () => {
    const np = guardedNodePort();
    const plain = buildGraph(np);
    const traced = buildGraph(np, { trace: dnatTrace(np, 1) });
    expect(layoutKey(traced)).toBe(layoutKey(plain));
    expect(layoutKey(buildGraph(guardedNodePort(5)))).not.toBe(layoutKey(plain));
    const laid = fallbackLayout(plain);
    const again = relabel(laid, traced);
    expect(again.nodes.map((n) => [n.id, n.x, n.y])).toEqual(laid.nodes.map((n) => [n.id, n.x, n.y]));
    expect(again.nodes.find((n) => n.id === 'ep/1')?.lit).toBe(true);
  });
});
