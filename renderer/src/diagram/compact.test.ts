// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { compactFans, expandFans } from './compact';
import { buildGraph } from './graph-model';
import { FAN_LABEL_SPACE, NODE_SIZE } from './layout-sizes';
import { guardedNodePort, ipvsNodePort } from './samples';

describe('compactFans / expandFans', () => {
  const g = buildGraph(guardedNodePort());
  const c = compactFans(g.nodes, g.edges);

  it('replaces the KUBE-SEPs and endpoints by one box per fan', () => {
    expect(c.fans).toHaveLength(1);
    expect(c.fans[0]?.rows).toEqual([0, 1, 2, 3].map((i) => [`sep/${i}`, `ep/${i}`]));
    expect(c.boxes.some((b) => b.id.startsWith('sep/') || b.id.startsWith('ep/'))).toBe(false);
    expect(c.links.filter((l) => l.target === 'fan:np/8')).toHaveLength(1);
    expect(c.links.find((l) => l.target === 'blackhole')?.straight).toBe(false);
  });

  it('stacks the fan rows in order, KUBE-SEP then endpoint', () => {
    const pos = expandFans(c, new Map([['fan:np/8', { x: 1000, y: 50 }]]));
    expect(pos.get('sep/0')).toEqual({ x: 1000 + FAN_LABEL_SPACE, y: 50 });
    expect(pos.get('sep/1')?.y).toBeGreaterThan(50 + NODE_SIZE.sep.height);
    expect(pos.get('ep/3')?.x).toBeGreaterThan(1000 + FAN_LABEL_SPACE + NODE_SIZE.sep.width);
  });

  it('hangs an ipvs fan straight from IPVS, without KUBE-SEP column', () => {
    const ig = buildGraph(ipvsNodePort());
    const ic = compactFans(ig.nodes, ig.edges);
    expect(ic.fans[0]?.rows).toEqual([
      [undefined, 'ep/0'],
      [undefined, 'ep/1'],
    ]);
    expect(ic.fans[0]?.sepWidth).toBe(0);
  });
});
