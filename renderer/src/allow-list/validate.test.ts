import { describe, expect, it } from 'vitest';
import type { Chip } from './types';
import { canonicalCidr, chipName, cleanLabel, findCovering, validateEntry, wouldBlock } from './validate';

const list: Chip[] = [
  { cidr: '198.18.100.0/24', label: 'office' },
  { cidr: '35.191.0.0/16', label: 'lb-hc' },
  { cidr: '2001:2::/48', label: 'vpn6' },
];

function ok(text: string, entries: readonly Chip[] = []) {
  const r = validateEntry(text, entries);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(text)} to be valid, got: ${r.message}`);
  return r;
}

const messages = (r: { notes: readonly { message: string }[] }) => r.notes.map((n) => n.message);

function bad(text: string, entries: readonly Chip[] = []) {
  const r = validateEntry(text, entries);
  if (r.ok) throw new Error(`expected ${JSON.stringify(text)} to be refused, got ${r.cidr}`);
  return r;
}

describe('validateEntry', () => {
  it('accepts an IPv4 address as its /32', () => {
    expect(ok('198.18.100.7').cidr).toBe('198.18.100.7/32');
    expect(ok('198.18.100.7').notes).toEqual([{ kind: 'spelling', message: 'adds 198.18.100.7/32' }]);
  });

  it('accepts a CIDR as written without notes', () => {
    expect(ok('198.18.100.0/24')).toEqual({ ok: true, cidr: '198.18.100.0/24', notes: [] });
  });

  it('accepts IPv6 CIDRs and addresses, canonically spelled', () => {
    expect(ok('2001:2::/48').cidr).toBe('2001:2::/48');
    expect(ok('2001:0002:0000::1').cidr).toBe('2001:2::1/128');
    expect(ok('2001:2::ABCD/128').cidr).toBe('2001:2::abcd/128');
  });

  it('trims surrounding blanks', () => {
    expect(ok(' 198.18.1.1 ').cidr).toBe('198.18.1.1/32');
    expect(ok('\t2001:2::/48\n').cidr).toBe('2001:2::/48');
  });

  it('refuses host bits with the network (and the single address) as suggestions', () => {
    const r = bad('198.18.100.7/24');
    expect(r.reason).toBe('host-bits');
    expect(r.message).toBe('host bits set: did you mean 198.18.100.0/24?');
    expect(r.suggestions).toEqual(['198.18.100.0/24', '198.18.100.7/32']);
    expect(bad('2001:2::5/48').message).toBe('host bits set: did you mean 2001:2::/48?');
  });

  it.each([
    ['300.1.1.1'],
    ['a;b'],
    ['198.18.1'],
    ['010.0.0.1'],
    ['10'],
    ['198.18.1.1/33'],
    ['2001:2::/129'],
    ['198.18.1.1/24/1'],
    ['fe80::1%eth0'],
    ['198.18.1.1 198.18.1.2'],
    ['example.com'],
  ])('refuses %j', (text) => {
    const r = bad(text);
    expect(r.reason).toBe('invalid');
    expect(r.message).toMatch(/not an IPv4 or IPv6 address or CIDR|allows 0-/);
  });

  it('names the offending character', () => {
    expect(bad('a;b').message).toContain('character ";" is not allowed');
  });

  it('refuses empty and blank input', () => {
    expect(bad('').reason).toBe('empty');
    expect(bad('   ').reason).toBe('empty');
    expect(bad('').message).toBe('type an IPv4 or IPv6 address or CIDR');
  });

  it('refuses duplicates, by canonical CIDR, naming the entry', () => {
    expect(bad('198.18.100.0/24', list)).toMatchObject({
      reason: 'duplicate',
      message: 'already in the list (office)',
    });
    const r = bad('198.18.100.7/32', [{ cidr: '198.18.100.7' }]);
    expect(r.reason).toBe('duplicate');
    expect(r.message).toBe('already in the list as 198.18.100.7');
    expect(bad('2001:0002::/48', list).reason).toBe('duplicate');
  });

  it('notes an entry covered by an existing one (still allowed to add)', () => {
    const r = ok('198.18.100.7', list);
    expect(r.cidr).toBe('198.18.100.7/32');
    expect(r.notes).toContainEqual({
      kind: 'covered',
      message: 'covered by an existing entry: 198.18.100.0/24 (office); adding it changes nothing',
    });
    expect(ok('2001:2:0:1::/64', list).notes[0]?.message).toMatch(
      /^covered by an existing entry: 2001:2::\/48 \(vpn6\)/,
    );
  });

  it('notes existing entries the new one covers', () => {
    const r = ok('198.18.0.0/15', list);
    expect(r.notes).toEqual([
      { kind: 'covers', message: 'covers an existing entry: 198.18.100.0/24 (office)' },
    ]);
    const two = ok('0.0.0.0/0', list);
    expect(messages(two)).toContain('covers 2 existing entries: 198.18.100.0/24 (office) and 1 more');
    expect(messages(two)).toContain('allows every IPv4 source: the guard blocks nobody over IPv4');
  });

  it('does not mix families when checking cover', () => {
    expect(messages(ok('::/0', [{ cidr: '198.18.0.0/16' }]))).toEqual([
      'allows every IPv6 source: the guard blocks nobody over IPv6',
    ]);
  });

  it('turns an IPv4-mapped IPv6 address into the IPv4 it means, and says so', () => {
    const r = ok('::ffff:198.18.0.7');
    expect(r.cidr).toBe('198.18.0.7/32');
    expect(r.notes[0]?.kind).toBe('ipv4-mapped');
    expect(r.notes[0]?.message).toMatch(/IPv4-mapped/);
  });

  it('ignores entries of the list that are not addresses', () => {
    expect(messages(ok('198.18.100.7', [{ cidr: 'garbage' }]))).toEqual(['adds 198.18.100.7/32']);
  });
});

describe('wouldBlock', () => {
  it('blocks what no entry covers, IPv4 and IPv6', () => {
    expect(wouldBlock(list, '198.18.100.7')).toBe(false);
    expect(wouldBlock(list, '198.18.101.7')).toBe(true);
    expect(wouldBlock(list, '35.191.8.1')).toBe(false);
    expect(wouldBlock(list, '2001:2::1')).toBe(false);
    expect(wouldBlock(list, '2001:3::1')).toBe(true);
  });

  it('never matches across families', () => {
    expect(wouldBlock([{ cidr: '::/0' }], '198.18.1.1')).toBe(true);
    expect(wouldBlock([{ cidr: '0.0.0.0/0' }], '2001:2::1')).toBe(true);
  });

  it('an empty list blocks everything', () => {
    expect(wouldBlock([], '198.18.1.1')).toBe(true);
    expect(wouldBlock([], '2001:2::1')).toBe(true);
  });

  it('judges a CIDR source: blocked unless one entry admits all of it', () => {
    expect(wouldBlock(list, '198.18.100.128/25')).toBe(false);
    expect(wouldBlock(list, '198.18.0.0/16')).toBe(true);
  });

  it('treats an IPv4-mapped source as the IPv4 address', () => {
    expect(wouldBlock(list, '::ffff:198.18.100.9')).toBe(false);
  });

  it('gives false for a source it cannot read', () => {
    expect(wouldBlock(list, 'not-an-address')).toBe(false);
  });

  it('uses the entries as given, even when not canonical', () => {
    expect(wouldBlock([{ cidr: ' 198.18.100.7/24 ' }], '198.18.100.200')).toBe(false);
  });

  it('stays fast on a 1,000-entry list', () => {
    const big: Chip[] = Array.from({ length: 1000 }, (_, i) => ({ cidr: `10.${i >> 8}.${i & 255}.0/24` }));
    const t = performance.now();
    for (let i = 0; i < 200; i++) wouldBlock(big, `192.0.2.${i}`);
    for (let i = 0; i < 200; i++) validateEntry(`192.0.2.${i}`, big);
    expect(performance.now() - t).toBeLessThan(1000);
    expect(findCovering(big, '10.3.231.9')).toEqual({ cidr: '10.3.231.0/24' });
  });
});

describe('helpers', () => {
  it('names chips with their label', () => {
    expect(chipName({ cidr: '198.18.100.0/24', label: 'office' })).toBe('198.18.100.0/24 (office)');
    expect(chipName({ cidr: '198.18.100.7/32' })).toBe('198.18.100.7/32');
  });

  it('canonicalises CIDRs', () => {
    expect(canonicalCidr('198.18.100.7')).toBe('198.18.100.7/32');
    expect(canonicalCidr('198.18.100.7/24')).toBe('198.18.100.0/24');
    expect(canonicalCidr('x')).toBeUndefined();
  });

  it('cleans labels: control characters, blanks, length', () => {
    expect(cleanLabel('  office ')).toBe('office');
    expect(cleanLabel('a\tb\u0000c\nd')).toBe('a b c d');
    expect(cleanLabel('   ')).toBeUndefined();
    expect(cleanLabel('x'.repeat(300))).toHaveLength(200);
  });
});
