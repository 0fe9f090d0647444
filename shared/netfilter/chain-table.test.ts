// ChainTable: names as ids keyed by text offsets; the same name anywhere in the text is one id.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChainTable } from './chain-table.js';

/** `names` joined by blanks, and each name's offsets. */
function layout(names: readonly string[]): { text: string; at: [number, number][] } {
  const at: [number, number][] = [];
  let text = '';
  for (const n of names) {
    at.push([text.length, text.length + n.length]);
    text += `${n} `;
  }
  return { text, at };
}

describe('ChainTable', () => {
  it('gives one id per distinct name, in order of first mention', () => {
    const { text, at } = layout(['KUBE-SVC-A', 'KUBE-SEP-B', 'KUBE-SVC-A', 'X', 'KUBE-SEP-B']);
    const t = new ChainTable(text, 1);
    const ids = at.map(([s, e]) => t.intern(s, e));
    expect(ids).toEqual([0, 1, 0, 2, 1]);
    expect(t.size).toBe(3);
    expect([0, 1, 2].map((id) => t.name(id))).toEqual(['KUBE-SVC-A', 'KUBE-SEP-B', 'X']);
    expect(t.findName('KUBE-SEP-B')).toBe(1);
    expect(t.findName('KUBE-SEP-')).toBe(-1);
    expect(t.find(at[3]![0], at[3]![1])).toBe(2);
    expect(t.startsWith(0, 'KUBE-SVC-')).toBe(true);
    expect(t.startsWith(2, 'XY')).toBe(false);
    expect(t.is(2, 'X')).toBe(true);
    expect(t.is(1, 'KUBE-SEP')).toBe(false);
  });

  it('agrees with a Map on any names, through growth and collisions', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[A-Z0-9-]{1,12}$/), { maxLength: 400 }), (names) => {
        const { text, at } = layout(names);
        const t = new ChainTable(text, 2);
        const map = new Map<string, number>();
        names.forEach((n, i) => {
          const id = t.intern(at[i]![0], at[i]![1]);
          if (!map.has(n)) map.set(n, map.size);
          expect(id).toBe(map.get(n));
        });
        for (const [n, id] of map) {
          expect(t.findName(n)).toBe(id);
          expect(t.name(id)).toBe(n);
        }
        expect(t.findName('not-a-chain-name')).toBe(-1);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses a new name beyond ASCII, and finds no such name', () => {
    const { text, at } = layout(['KUBE-É', 'KUBE-E']);
    const t = new ChainTable(text, 4);
    expect(t.intern(at[0]![0], at[0]![1])).toBe(-1);
    expect(t.intern(at[1]![0], at[1]![1])).toBe(0);
    expect(t.findName('KUBE-É')).toBe(-1);
    expect(t.size).toBe(1);
  });
});
