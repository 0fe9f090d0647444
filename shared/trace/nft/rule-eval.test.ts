// One rule's statements against the packet, through small rulesets in nft's own syntax: what nft
// matches, what it does not (an IPv4 field of an IPv6 packet, another protocol's port), and what
// the tracer will not guess.
import { describe, expect, it } from 'vitest';
import { parseNftText } from '../../nftables/read';
import type { Packet } from '../types';
import { applyMarkSet } from './mark-set';
import { traceNftPacket } from './walk';

/** The verdict of one nat prerouting chain holding `rules` (in an inet table), for `packet`. */
function verdictOf(rules: string, packet: Partial<Packet> = {}, local = ['198.18.0.11', '2001:2::11']) {
  const r = parseNftText(`table inet t {
  set s4 { type ipv4_addr; flags interval; elements = { 198.18.100.0/28, 198.18.102.1-198.18.102.9 } }
  map m { type inet_proto . inet_service : verdict; elements = { tcp . 30001 : goto hit, udp . 30000-30009 : goto hit } }
  chain p {
    type nat hook prerouting priority -110; policy accept;
${rules}
  }
  chain hit { redirect to :1 }
}`);
  if (!r.ok) throw new Error(r.error.message);
  const p: Packet = { src: '198.18.101.5', dst: '198.18.0.11', protocol: 'tcp', dport: 30001, ...packet };
  const t = traceNftPacket({ ruleset: r.ruleset, packet: p, localAddresses: local });
  return t.outcomes.map((o) => {
    const v = o.verdict;
    if (v.kind === 'redirect') return `redirect ${v.toPort}${v.toPorts ? `-${v.toPorts.to}` : ''}`;
    if (v.kind === 'unknown') return `unknown: ${v.reason}`;
    return v.kind;
  });
}

describe('matches', () => {
  it('interval sets: prefixes, ranges, and `!=`', () => {
    const rule = 'ip saddr != @s4 redirect to :2';
    expect(verdictOf(rule)).toEqual(['redirect 2']);
    expect(verdictOf(rule, { src: '198.18.100.15' })).toEqual(['accept']);
    expect(verdictOf(rule, { src: '198.18.102.9' })).toEqual(['accept']);
    expect(verdictOf(rule, { src: '198.18.102.10' })).toEqual(['redirect 2']);
  });

  it("an IPv6 packet has no `ip saddr`: the rule fails, even negated (nft's implicit nfproto)", () => {
    expect(verdictOf('ip saddr != @s4 redirect to :2', { src: '2001:2::5', dst: '2001:2::11' })).toEqual([
      'accept',
    ]);
    expect(
      verdictOf('ip6 saddr != 2001:2::/64 redirect to :2', { src: '2001:3::5', dst: '2001:2::11' }),
    ).toEqual(['redirect 2']);
  });

  it('a port of another protocol does not match; `th dport` does', () => {
    expect(verdictOf('udp dport 30001 redirect to :2')).toEqual(['accept']);
    expect(verdictOf('th dport 30000-30009 redirect to :2')).toEqual(['redirect 2']);
    expect(verdictOf('meta l4proto { udp, tcp } th dport != 30001 redirect to :2')).toEqual(['accept']);
  });

  it('concatenated maps with ranges, fib, ct state and interface names', () => {
    expect(verdictOf('meta l4proto . th dport vmap @m')).toEqual(['redirect 1']);
    expect(verdictOf('meta l4proto . th dport vmap @m', { protocol: 'udp', dport: 30005 })).toEqual([
      'redirect 1',
    ]);
    expect(verdictOf('meta l4proto . th dport vmap @m', { dport: 30005 })).toEqual(['accept']);
    expect(verdictOf('fib daddr type local redirect to :2', { dst: '198.18.0.12' })).toEqual(['accept']);
    expect(verdictOf('fib daddr type != local redirect to :2', { dst: '198.18.0.12' })).toEqual([
      'redirect 2',
    ]);
    expect(verdictOf('ct state new redirect to :2')).toEqual(['redirect 2']);
    expect(verdictOf('ct state established,related redirect to :2')).toEqual(['accept']);
    expect(verdictOf('iifname "eth*" redirect to :2', { inInterface: 'eth0' })).toEqual(['redirect 2']);
    expect(verdictOf('iifname "eth*" redirect to :2')[0]).toMatch(/^unknown: .*interface is not given/);
  });

  it('redirect without a port keeps the destination port; a range is kept as one', () => {
    expect(verdictOf('redirect')).toEqual(['redirect 30001']);
    expect(verdictOf('redirect to :1000-2000')).toEqual(['redirect 1000-2000']);
  });

  it('does not guess: an unknown set, a statement it does not model', () => {
    expect(verdictOf('ip saddr @nope redirect to :2')[0]).toMatch(/^unknown: @nope: no such set/);
    expect(verdictOf('ip dscp cs1 redirect to :2')[0]).toMatch(/^unknown: .*ip dscp is not modelled/);
    expect(verdictOf('log prefix "x" redirect to :2')).toEqual(['redirect 2']);
    expect(verdictOf('numgen random mod 4000000000 vmap { 0 : accept }')[0]).toMatch(
      /more than 65536 values/,
    );
  });
});

describe('applyMarkSet', () => {
  const unknown = { value: 0, known: 0 };
  it('reads the forms nft prints', () => {
    expect(applyMarkSet(unknown, 'mark set mark or 0x4000')).toEqual({ value: 0x4000, known: 0x4000 });
    expect(applyMarkSet(unknown, 'meta mark set meta mark | 0x00004000')).toEqual({
      value: 0x4000,
      known: 0x4000,
    });
    expect(applyMarkSet(unknown, 'meta mark set 0x1')).toEqual({ value: 1, known: 0xffff_ffff });
    expect(applyMarkSet({ value: 0x4001, known: 0xffff_ffff }, 'mark set mark and 0xffffbfff')).toEqual({
      value: 1,
      known: 0xffff_ffff,
    });
    expect(applyMarkSet({ value: 0x4000, known: 0x4000 }, 'mark set mark xor 0x4000')).toEqual({
      value: 0,
      known: 0x4000,
    });
    expect(applyMarkSet(unknown, 'ct mark set 0x1')).toBe(unknown);
    expect(applyMarkSet(unknown, 'meta mark set jhash ip saddr mod 2')).toBeUndefined();
  });
});
