// CIDR matching must agree with ipaddr.js (the reference the rest of the app uses) for every
// address and prefix; the tracer's fast byte compare is only worth it if it is the same answer.
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { cidrContains, parseAddress, parseCidr } from './cidr';

const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
const v6 = fc
  .array(fc.nat(0xffff), { minLength: 8, maxLength: 8 })
  .map((p) => p.map((x) => x.toString(16)).join(':'));

describe('cidr', () => {
  it('agrees with ipaddr.js on random IPv4 addresses and prefixes', () => {
    fc.assert(
      fc.property(v4, v4, fc.integer({ min: 0, max: 32 }), (addr, net, prefix) => {
        const cidr = parseCidr(`${net}/${prefix}`);
        const a = parseAddress(addr);
        expect(cidr && a).toBeTruthy();
        if (!cidr || !a) return;
        expect(cidrContains(cidr, a)).toBe(ipaddr.IPv4.parse(addr).match(ipaddr.IPv4.parse(net), prefix));
      }),
      { numRuns: 1000 },
    );
  });

  it('agrees with ipaddr.js on random IPv6 addresses and prefixes', () => {
    fc.assert(
      fc.property(v6, v6, fc.integer({ min: 0, max: 128 }), (addr, net, prefix) => {
        const cidr = parseCidr(`${net}/${prefix}`);
        const a = parseAddress(addr);
        if (!cidr || !a) throw new Error('parse');
        expect(cidrContains(cidr, a)).toBe(ipaddr.IPv6.parse(addr).match(ipaddr.IPv6.parse(net), prefix));
      }),
      { numRuns: 1000 },
    );
  });

  it('agrees for addresses inside the network (the case random pairs rarely hit)', () => {
    fc.assert(
      fc.property(
        v6,
        fc.integer({ min: 0, max: 128 }),
        fc.array(fc.nat(255), { minLength: 16, maxLength: 16 }),
        (net, prefix, noise) => {
          const base = ipaddr.IPv6.parse(net).toByteArray();
          const mask = ipaddr.IPv6.subnetMaskFromPrefixLength(prefix).toByteArray();
          const inside = base.map(
            (b, i) => (b & (mask[i] ?? 0)) | ((noise[i] ?? 0) & ~(mask[i] ?? 0) & 0xff),
          );
          const addr = ipaddr.fromByteArray(inside).toString();
          const cidr = parseCidr(`${net}/${prefix}`);
          const a = parseAddress(addr);
          if (!cidr || !a) throw new Error('parse');
          expect(cidrContains(cidr, a)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never matches across families, and reads hosts and dotted masks', () => {
    const any4 = parseCidr('0.0.0.0/0');
    const v6addr = parseAddress('::ffff:10.0.0.1');
    expect(any4 && v6addr && cidrContains(any4, v6addr)).toBe(false);
    const host = parseCidr('10.0.0.1');
    expect(host && cidrContains(host, parseAddress('10.0.0.1')!)).toBe(true);
    expect(host && cidrContains(host, parseAddress('10.0.0.2')!)).toBe(false);
    const dotted = parseCidr('10.0.0.0/255.0.255.0');
    expect(dotted && cidrContains(dotted, parseAddress('10.9.0.9')!)).toBe(true);
    expect(dotted && cidrContains(dotted, parseAddress('10.0.9.9')!)).toBe(false);
  });

  it('rejects what iptables never writes', () => {
    for (const bad of ['10.0.0.0/33', '::/129', '10.1', '0x0a.0.0.1', 'fe80::1%eth0', '', '10.0.0.0/', 'x']) {
      expect(parseCidr(bad)).toBeUndefined();
    }
  });
});
