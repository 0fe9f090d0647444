import { describe, expect, it } from 'vitest';
import { ChainIds } from './chain-ids';

describe('ChainIds', () => {
  it('finds a name by its offsets in a text and as a whole string alike', () => {
    const ids = new ChainIds();
    const text = '-A KUBE-SVC-ABCDEFGHIJKLMNOP -j KUBE-SEP-ABCDEFGHIJKLMNOP';
    const svc = ids.intern(text, 3, 28);
    const sep = ids.intern(text, 32, text.length);
    expect([svc, sep]).toEqual([0, 1]);
    expect(ids.find('KUBE-SVC-ABCDEFGHIJKLMNOP', 0, 25)).toBe(svc);
    expect(ids.intern('KUBE-SEP-ABCDEFGHIJKLMNOP', 0, 25)).toBe(sep);
    expect(ids.find('KUBE-SEP-ABCDEFGHIJKLMNOQ', 0, 25)).toBe(-1);
    expect(ids.size).toBe(2);
  });

  it('tells apart names alike at both ends, and grows', () => {
    const ids = new ChainIds();
    const names = Array.from({ length: 20_000 }, (_, i) => `C${i}-SAME-END`);
    names.push('PREROUTING', 'NPG-TCP-30001', 'ünïcödé-chain', '');
    const order = names.map((_, i) => i);
    expect(names.map((n) => ids.intern(n, 0, n.length))).toEqual(order);
    expect(names.map((n) => ids.find(` ${n} `, 1, n.length + 1))).toEqual(order);
    expect(ids.size).toBe(names.length);
  });
});
