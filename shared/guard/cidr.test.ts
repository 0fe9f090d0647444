import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidrContains, compareCidrs, parseCidr, toCidr } from './cidr';

function ok(text: string) {
  const r = parseCidr(text, 'x');
  if (!r.ok) throw new Error(r.error.message);
  return r;
}

describe('parseCidr', () => {
  it.each([
    ['198.18.0.7', '198.18.0.7/32', 'ipv4'],
    ['198.18.0.0/15', '198.18.0.0/15', 'ipv4'],
    ['0.0.0.0/0', '0.0.0.0/0', 'ipv4'],
    ['2001:2::1', '2001:2::1/128', 'ipv6'],
    ['2001:0002:0:0:0:0:0:0/48', '2001:2::/48', 'ipv6'],
    ['2001:2:0:1:0:0:0:1/128', '2001:2:0:1::1/128', 'ipv6'],
    ['2001:2::ABCD/128', '2001:2::abcd/128', 'ipv6'],
    ['::/0', '::/0', 'ipv6'],
  ])('%s -> %s', (input, cidr, family) => {
    const r = ok(input);
    expect(r.value.cidr).toBe(cidr);
    expect(r.value.family).toBe(family);
    expect(r.notes).toEqual([]);
  });

  it('clears host bits and says so', () => {
    const r = ok('10.0.0.5/24');
    expect(r.value.cidr).toBe('10.0.0.0/24');
    expect(r.notes).toEqual([{ kind: 'host-bits-cleared', from: '10.0.0.5/24', to: '10.0.0.0/24' }]);
    expect(ok('2001:2::5/48').value.cidr).toBe('2001:2::/48');
  });

  it('turns IPv4-mapped IPv6 into the IPv4 it means', () => {
    const r = ok('::ffff:198.18.0.7');
    expect(r.value.cidr).toBe('198.18.0.7/32');
    expect(r.notes[0]?.kind).toBe('ipv4-mapped');
    expect(ok('::ffff:198.18.0.0/120').value.cidr).toBe('198.18.0.0/24');
    expect(ok('::FFFF:C612:7/128').value.cidr).toBe('198.18.0.7/32');
    // Below /96 the range is not only mapped addresses: it stays IPv6.
    expect(ok('::ffff:0:0/95').value.family).toBe('ipv6');
  });

  it('names the value and the field in one line', () => {
    const r = parseCidr('10.0.0.300/24', 'policy.nodePorts[2].allow[5].cidr');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.message).toBe(
        'policy.nodePorts[2].allow[5].cidr: "10.0.0.300/24" is not an IPv4 or IPv6 address or CIDR',
      );
    }
  });

  it.each([
    '',
    '10.0.0.300/24',
    '10/8', // ipaddr.js alone would read 0.0.0.10
    '010.0.0.1', // ... and this as octal 8.0.0.1
    '0x0a.0.0.1',
    '10.1',
    '1.2.3.4/33',
    '2001:2::/129',
    '1.2.3.4/08',
    '1.2.3.4/',
    '1.2.3.4/24/8',
    'fe80::1%eth0',
    '::ffff:010.0.0.1',
    ' 198.18.0.1',
    '198.18.0.1\n',
    '198.18.0.1;reboot',
    '$(reboot)',
    '`id`',
    '198.18.0.1 -j ACCEPT',
    '"198.18.0.1"',
    'example.com',
    ':::',
  ])('rejects %j', (input) => {
    const r = parseCidr(input, 'f');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.message.startsWith('f: ')).toBe(true);
      expect(r.error.message).not.toContain('\n');
    }
  });

  it('says which character is not allowed', () => {
    const r = parseCidr('198.18.0.1;reboot');
    expect(!r.ok && r.error.message).toContain('character ";" is not allowed');
    const p = parseCidr('198.18.0.0/33');
    expect(!p.ok && p.error.message).toContain('prefix length 33; IPv4 allows 0-32');
  });

  it('normalised output parses to itself without notes (property)', () => {
    const v4 = fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, p]) => `${a}/${p}`);
    const v6 = fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([a, p]) => `${a}/${p}`);
    fc.assert(
      fc.property(fc.oneof(v4, v6), (text) => {
        const first = parseCidr(text);
        if (!first.ok) return true; // fc.ipV6 may produce forms we reject (e.g. mapped with octal-like parts)
        const again = ok(first.value.cidr);
        expect(again.value).toEqual(first.value);
        expect(again.notes).toEqual([]);
        return true;
      }),
    );
  });

  it('never accepts a value with characters outside the address alphabet (property)', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = parseCidr(s);
        return !r.ok || /^[0-9a-fA-F:./]+$/.test(s);
      }),
    );
  });
});

describe('cidrContains / compareCidrs', () => {
  const c = (t: string) => toCidr(t)!;
  it('contains nested, not disjoint or other family', () => {
    expect(cidrContains(c('198.18.0.0/15'), c('198.19.4.0/24'))).toBe(true);
    expect(cidrContains(c('198.19.4.0/24'), c('198.18.0.0/15'))).toBe(false);
    expect(cidrContains(c('198.18.0.0/24'), c('198.18.1.0/24'))).toBe(false);
    expect(cidrContains(c('::/0'), c('198.18.0.0/24'))).toBe(false);
    expect(cidrContains(c('2001:2::/48'), c('2001:2:0:5::/64'))).toBe(true);
  });
  it('sorts v4 before v6, by address, wider first', () => {
    const list = ['2001:2::/48', '198.18.0.0/24', '198.18.0.0/16', '10.0.0.1', '9.0.0.0/8'].map(c);
    expect(list.sort(compareCidrs).map((x) => x.cidr)).toEqual([
      '9.0.0.0/8',
      '10.0.0.1/32',
      '198.18.0.0/16',
      '198.18.0.0/24',
      '2001:2::/48',
    ]);
  });
});
