import { describe, expect, it } from 'vitest';
import { groupedLineText, groupNodeLines } from './node-lines';

describe('groupNodeLines', () => {
  it('says a warning once with the nodes it holds for, in first-seen order', () => {
    const g = groupNodeLines([
      { node: 'node1', lines: ['node1: tcp/30001: node addresses not allowed', 'node1: only here'] },
      { node: 'node2', lines: ['node2: tcp/30001: node addresses not allowed'] },
      { node: 'node3', lines: ['tcp/30001: no node prefix'] },
    ]);
    expect(g).toEqual([
      { text: 'tcp/30001: node addresses not allowed', nodes: ['node1', 'node2'] },
      { text: 'only here', nodes: ['node1'] },
      { text: 'tcp/30001: no node prefix', nodes: ['node3'] },
    ]);
    expect(groupedLineText({ text: 'x', nodes: ['a', 'b', 'c', 'd', 'e'] })).toBe('a, b, c and 2 more: x');
  });
});
