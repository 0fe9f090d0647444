import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AllowEntry } from '../workspace/schema';
import { coverage, findAllowing, normaliseAllowList } from './allow-list';
import { cidrContains, toCidr } from './cidr';

const P = 'policy.nodePorts[0].allow';

function norm(entries: readonly AllowEntry[]) {
  const r = normaliseAllowList(entries, P);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r;
}

describe('normaliseAllowList', () => {
  it('splits by family and sorts', () => {
    const r = norm([
      { cidr: '2001:2::/48', label: 'v6' },
      { cidr: '198.19.0.1', label: 'b' },
      { cidr: '198.18.0.0/24', label: 'a' },
    ]);
    expect(r.list.ipv4.map((x) => [x.value.cidr, x.label, x.path])).toEqual([
      ['198.18.0.0/24', 'a', `${P}[2]`],
      ['198.19.0.1/32', 'b', `${P}[1]`],
    ]);
    expect(r.list.ipv6.map((x) => x.value.cidr)).toEqual(['2001:2::/48']);
    expect(r.notes).toEqual([]);
  });

  it('drops duplicates (also different spellings) and covered entries, and reports them', () => {
    const r = norm([
      { cidr: '198.18.0.0/24', label: 'first' },
      { cidr: '198.18.0.9/24', label: 'same net' },
      { cidr: '198.18.0.7', label: 'inside' },
      { cidr: '198.18.0.0/16', label: 'wide' },
    ]);
    expect(r.list.ipv4.map((x) => [x.value.cidr, x.label])).toEqual([['198.18.0.0/16', 'wide']]);
    const kinds = r.notes.map((n) => [n.kind, n.path]);
    expect(kinds).toEqual([
      ['host-bits-cleared', `${P}[1]`],
      ['covered', `${P}[0]`],
      ['covered', `${P}[1]`],
      ['covered', `${P}[2]`],
    ]);
    const dup = norm([{ cidr: '198.18.0.1' }, { cidr: '198.18.0.1/32' }]);
    expect(dup.notes).toEqual([
      {
        kind: 'duplicate',
        path: `${P}[1]`,
        cidr: '198.18.0.1/32',
        keptPath: `${P}[0]`,
        message: `${P}[1].cidr: 198.18.0.1/32 duplicates ${P}[0]; dropped`,
      },
    ]);
  });

  it('collects every error, naming field and value', () => {
    const r = normaliseAllowList(
      [
        { cidr: '198.18.0.1' },
        { cidr: '10.0.0.300/24' },
        { cidr: '1.2.3.4', label: 'a\nb' },
        { cidr: '1;ls' },
      ],
      P,
    );
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors.map((e) => e.message)).toEqual([
        `${P}[1].cidr: "10.0.0.300/24" is not an IPv4 or IPv6 address or CIDR`,
        `${P}[2].label: "a\\nb" contains a control character`,
        `${P}[3].cidr: "1;ls" is not an IPv4 or IPv6 address or CIDR (character ";" is not allowed)`,
      ]);
    }
  });

  it('notes an entry that allows a whole family', () => {
    const r = norm([{ cidr: '0.0.0.0/0' }, { cidr: '198.18.0.0/24' }]);
    expect(r.notes.map((n) => n.kind)).toEqual(['covered', 'allows-all']);
  });

  it('matches a quadratic reference on random lists (property)', () => {
    const entry = fc.oneof(
      fc
        .tuple(
          fc.integer({ min: 0, max: 3 }),
          fc.integer({ min: 0, max: 255 }),
          fc.integer({ min: 14, max: 32 }),
        )
        .map(([a, b, p]) => ({ cidr: `198.${18 + (a % 2)}.${b}.${a * 7}/${p}` })),
      fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 44, max: 128 })).map(([a, p]) => ({
        cidr: `2001:2:${a.toString(16)}::${a}/${p}`,
      })),
    );
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 40 }), (entries) => {
        const r = norm(entries);
        const kept = [...r.list.ipv4, ...r.list.ipv6].map((x) => x.value);
        const all = entries.map((e) => toCidr(e.cidr)!);
        // every input is admitted by some kept entry
        for (const c of all) expect(kept.some((k) => cidrContains(k, c))).toBe(true);
        // kept entries are pairwise disjoint
        for (const a of kept) for (const b of kept) if (a !== b) expect(cidrContains(a, b)).toBe(false);
        // nothing lost or invented: kept + dropped = inputs
        const dropped = r.notes.filter((n) => n.kind === 'duplicate' || n.kind === 'covered').length;
        expect(kept.length + dropped).toBe(entries.length);
        // deterministic regardless of input order
        const again = norm([...entries].reverse());
        expect([...again.list.ipv4, ...again.list.ipv6].map((x) => x.value.cidr)).toEqual(
          kept.map((k) => k.cidr),
        );
      }),
    );
  });

  it('normalises 1,000 entries quickly', () => {
    const entries: AllowEntry[] = [];
    for (let i = 0; i < 1000; i++) {
      entries.push(
        i % 2
          ? { cidr: `198.${18 + (i % 2)}.${(i * 37) % 256}.${i % 256}/${24 + (i % 9)}` }
          : { cidr: `2001:2::${i.toString(16)}` },
      );
    }
    const t0 = performance.now();
    const r = norm(entries);
    const ms = performance.now() - t0;
    expect(r.list.ipv4.length + r.list.ipv6.length).toBeGreaterThan(100);
    expect(ms).toBeLessThan(500);
  });
});

describe('coverage / findAllowing', () => {
  const list = norm([
    { cidr: '198.18.0.0/17' },
    { cidr: '198.18.128.0/17' },
    { cidr: '198.19.0.0/24', label: 'x' },
  ]).list;
  it('sees a range covered by several entries', () => {
    expect(coverage(list, toCidr('198.18.0.0/16')!)).toBe('all');
    expect(coverage(list, toCidr('198.19.0.0/16')!)).toBe('part');
    expect(coverage(list, toCidr('203.0.113.0/24')!)).toBe('none');
    expect(coverage(list, toCidr('198.19.0.5')!)).toBe('all');
  });
  it('finds the admitting entry', () => {
    expect(findAllowing(list, toCidr('198.19.0.5')!)?.label).toBe('x');
    expect(findAllowing(list, toCidr('2001:2::1')!)).toBeUndefined();
  });
});
