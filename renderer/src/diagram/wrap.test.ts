// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { compactFans } from './compact';
import { buildGraph } from './graph-model';
import { ROW_GAP } from './layout-sizes';
import { guardedNodePort, wideNodePort } from './samples';
import { simpleLayout } from './simple-layout';
import { wrapRows } from './wrap';

describe('wrapRows', () => {
  const g = buildGraph(guardedNodePort());
  const c = compactFans(g.nodes, g.edges);
  const flat = simpleLayout(c);

  it('leaves a row that fits alone', () => {
    const w = wrapRows(c, flat, 100_000);
    expect(w.wraps.size).toBe(0);
    expect(w.positions).toEqual(new Map(flat));
  });

  it('wraps a long walk at a single straight edge, never between the guard and its blackhole', () => {
    const w = wrapRows(c, flat, 1400);
    // KUBE-SERVICES shares its layer with the blackhole: two edges cross in front of it, so the
    // cut falls before KUBE-NODEPORTS.
    expect([...w.wraps.keys()]).toEqual(['np/4->np/5']);
    const ks = w.positions.get('np/4')!;
    const kn = w.positions.get('np/5')!;
    expect(kn.x).toBe(0);
    expect(kn.y).toBeGreaterThan(ks.y);
    const row1Bottom = Math.max(
      ...['np/0', 'np/1', 'np/2', 'np/3', 'np/4', 'blackhole'].map((id) => w.positions.get(id)!.y),
    );
    expect(w.wraps.get('np/4->np/5')).toBeGreaterThan(row1Bottom);
    // The fan stays with its chain.
    expect(w.positions.get('fan:np/8')!.y).toBeGreaterThanOrEqual(kn.y - 200);
    expect(w.positions.get('fan:np/8')!.x).toBeGreaterThan(w.positions.get('np/8')!.x);
    const row2Top = Math.min(...['np/5', 'np/6', 'np/8', 'fan:np/8'].map((id) => w.positions.get(id)!.y));
    expect(row2Top - (w.wraps.get('np/4->np/5') ?? 0)).toBe(ROW_GAP / 2);
  });

  it('never cuts between a chain and its fan', () => {
    const wide = buildGraph(wideNodePort(100));
    const wc = compactFans(wide.nodes, wide.edges);
    const w = wrapRows(wc, simpleLayout(wc), 1400);
    // The fan does not fit on the first row: the service chain goes down with it.
    expect([...w.wraps.keys()]).toEqual(['np/3->np/5']);
    expect(w.positions.get('np/5')?.x).toBe(0);
    expect(Math.abs(w.positions.get('fan:np/5')!.y - w.positions.get('np/5')!.y)).toBeLessThan(10);
  });
});
