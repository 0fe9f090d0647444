// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { compactFans } from './compact';
import { positionsFromElk, toElkGraph } from './elk-graph';
import { buildGraph } from './graph-model';
import { guardedNodePort } from './samples';

describe('toElkGraph / positionsFromElk', () => {
  const g = buildGraph(guardedNodePort());
  const e = toElkGraph(compactFans(g.nodes, g.edges));

  it('lays out left to right, one port per side, the walk straighter than the block edge', () => {
    expect(e.layoutOptions?.['elk.direction']).toBe('RIGHT');
    expect(e.children?.find((x) => x.id === 'np/0')?.ports?.map((p) => p.id)).toEqual([
      'np/0:in',
      'np/0:out',
    ]);
    expect(e.edges?.[0]).toMatchObject({ sources: ['np/0:out'], targets: ['np/1:in'] });
    const block = e.edges?.find((x) => x.id === 'np/3->blackhole');
    expect(block?.layoutOptions).toBeUndefined();
    expect(e.edges?.[0]?.layoutOptions?.['elk.layered.priority.straightness']).toBe('10');
  });

  it('reads positions back', () => {
    const p = positionsFromElk({ id: 'root', children: [{ id: 'a', x: 3, y: 4 }, { id: 'b' }] });
    expect([...p]).toEqual([
      ['a', { x: 3, y: 4 }],
      ['b', { x: 0, y: 0 }],
    ]);
  });
});
