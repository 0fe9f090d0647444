// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { roundedPath, stepEdge } from './edge-path';

describe('stepEdge', () => {
  it('draws a straight line between nodes on one level, label before the arrow', () => {
    const g = stepEdge(100, 50, 172, 50);
    expect(g.path).toBe('M100,50 L165,50');
    expect(g.arrow).toBe('M164,45.5 L172,50 L164,54.5 Z');
    expect(g).toMatchObject({ labelX: 160, labelY: 50, labelAnchor: 'end' });
  });

  it('steps down a trunk near the source, rounding the corners', () => {
    const g = stepEdge(100, 50, 300, 250);
    expect(g.path).toBe('M100,50 L112,50 Q118,50 118,56 L118,244 Q118,250 124,250 L293,250');
    expect(g.labelY).toBe(250);
  });

  it('steps up as well, and never rounds more than half a segment', () => {
    const g = stepEdge(0, 100, 200, 96);
    expect(g.path).toBe('M0,100 L16,100 Q18,100 18,98 L18,98 Q18,96 20,96 L193,96');
  });

  it('runs a wrapped edge back through the gap between rows, label in the middle of the run', () => {
    const g = stepEdge(1200, 40, 0, 300, { wrapY: 250 });
    expect(g.path.startsWith('M1200,40 L1212,40 Q1218,40 1218,46 L1218,244')).toBe(true);
    expect(g.path.endsWith('Q-18,300 -12.5,300 L-7,300')).toBe(true);
    expect(g).toMatchObject({ labelX: 600, labelY: 250, labelAnchor: 'middle' });
  });
});

describe('stepEdge label at the trunk', () => {
  it('puts the block edge label left of its trunk, level with the target', () => {
    expect(stepEdge(100, 50, 300, 250, { labelAtTrunk: true })).toMatchObject({
      labelX: 112,
      labelY: 250,
      labelAnchor: 'trunk',
    });
  });
});

describe('roundedPath', () => {
  it('is a plain move for one point and drops repeated points', () => {
    expect(roundedPath([[1, 2]])).toBe('M1,2');
    expect(
      roundedPath([
        [0, 0],
        [0, 0],
        [10, 0],
      ]),
    ).toBe('M0,0 L10,0');
  });
});
