import { describe, expect, it } from 'vitest';
import { serializeRule } from '../netfilter/serialize';
import { sanitiseCommentText } from '../vocabulary';
import type { Policy } from '../workspace/schema';
import { desiredGuard, familyOf } from './desired';
import { POLICY } from './test-support/fixtures';

function lines(policy: Policy, family: 'ipv4' | 'ipv6') {
  const r = desiredGuard(policy);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  const f = familyOf(r.desired, family)!;
  return { entry: f.entry, rules: f.chains.flatMap((c) => c.rules.map((x) => serializeRule(x))) };
}

describe('desiredGuard', () => {
  it('builds exactly the chains of DESIGN.md (IPv4)', () => {
    expect(lines(POLICY, 'ipv4')).toEqual({
      entry: true,
      rules: [
        '-A NPG-PREROUTING -p tcp -m tcp --dport 30001 -m addrtype --dst-type LOCAL -m comment --comment "nodeport-guard: default/web:http" -j NPG-TCP-30001',
        '-A NPG-TCP-30001 -s 198.18.7.7/32 -m comment --comment "nodeport-guard: allow vpn" -j RETURN',
        '-A NPG-TCP-30001 -s 198.18.100.0/24 -m comment --comment "nodeport-guard: allow office" -j RETURN',
        '-A NPG-TCP-30001 -p tcp -m comment --comment "nodeport-guard: block" -j REDIRECT --to-ports 65535',
      ],
    });
  });

  it('puts v6 entries in the v6 chain, and blocks all of IPv6 when there are none', () => {
    expect(lines(POLICY, 'ipv6').rules.slice(1)).toEqual([
      '-A NPG-TCP-30001 -s 2001:2:0:1::/64 -m comment --comment "nodeport-guard: allow v6 office" -j RETURN',
      '-A NPG-TCP-30001 -p tcp -m comment --comment "nodeport-guard: block" -j REDIRECT --to-ports 65535',
    ]);
    const v4only: Policy = { nodePorts: [{ ...POLICY.nodePorts[0]!, allow: [{ cidr: '198.18.7.7' }] }] };
    expect(lines(v4only, 'ipv6').rules.slice(1)).toEqual([
      '-A NPG-TCP-30001 -p tcp -m comment --comment "nodeport-guard: block" -j REDIRECT --to-ports 65535',
    ]);
  });

  it('audit mode ends with a counting rule that blocks nothing; udp/sctp dispatch by their module', () => {
    const policy: Policy = {
      nodePorts: [
        {
          port: 30002,
          protocol: 'udp',
          mode: 'audit',
          blackholePort: 65535,
          allow: [{ cidr: '198.18.0.0/16' }],
        },
        { port: 30003, protocol: 'sctp', mode: 'enforce', blackholePort: 65000, allow: [] },
      ],
    };
    expect(lines(policy, 'ipv4').rules).toEqual([
      '-A NPG-PREROUTING -p udp -m udp --dport 30002 -m addrtype --dst-type LOCAL -m comment --comment "nodeport-guard: udp/30002" -j NPG-UDP-30002',
      '-A NPG-PREROUTING -p sctp -m sctp --dport 30003 -m addrtype --dst-type LOCAL -m comment --comment "nodeport-guard: sctp/30003" -j NPG-SCTP-30003',
      '-A NPG-UDP-30002 -s 198.18.0.0/16 -m comment --comment "nodeport-guard: allow" -j RETURN',
      '-A NPG-UDP-30002 -p udp -m comment --comment "nodeport-guard: audit"',
      '-A NPG-SCTP-30003 -p sctp -m comment --comment "nodeport-guard: block" -j REDIRECT --to-ports 65000',
    ]);
  });

  it('no guarded port: no entry, no chains', () => {
    expect(lines({ nodePorts: [] }, 'ipv4')).toEqual({ entry: false, rules: [] });
  });

  it('sanitises labels for the comment', () => {
    const policy: Policy = {
      nodePorts: [
        {
          ...POLICY.nodePorts[0]!,
          service: 'ns/"x"',
          allow: [{ cidr: '198.18.0.1', label: `Büro "A" '$(id)' ${'x'.repeat(100)}` }],
        },
      ],
    };
    const rules = lines(policy, 'ipv4').rules;
    expect(rules[0]).toContain('--comment "nodeport-guard: ns/_x_"');
    const allow = rules[1]!;
    expect(allow).not.toMatch(/[$'`\\]|"A"/);
    expect(sanitiseCommentText(`Büro "A"  '$(id)'`)).toBe('B_ro _A_ _(id)_');
    expect(sanitiseCommentText('x'.repeat(100)).length).toBe(64);
  });

  it('rejects bad policies with one line per problem', () => {
    const r = desiredGuard({
      nodePorts: [
        { ...POLICY.nodePorts[0]!, blackholePort: 30001 },
        { ...POLICY.nodePorts[0]!, allow: [{ cidr: '10.0.0.300/24' }] },
        { ...POLICY.nodePorts[0]!, port: 0 },
        { ...POLICY.nodePorts[0]!, port: 30005, protocol: 'icmp' as 'tcp' },
        { ...POLICY.nodePorts[0]!, port: 30006, service: 'a\nb' },
      ],
    });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors.map((e) => e.message)).toEqual([
        'policy.nodePorts[0].blackholePort: 30001 is the guarded port itself',
        'policy.nodePorts[1]: tcp/30001 is already guarded by policy.nodePorts[0]',
        'policy.nodePorts[1].allow[0].cidr: "10.0.0.300/24" is not an IPv4 or IPv6 address or CIDR',
        'policy.nodePorts[2].port: "0" is not a port (1-65535)',
        'policy.nodePorts[3].protocol: "icmp" is not one of tcp, udp, sctp',
        'policy.nodePorts[4].service: "a\\nb" contains a control character',
      ]);
    }
  });

  it('only builds the families asked for', () => {
    const r = desiredGuard(POLICY, { families: ['ipv4'] });
    expect(r.ok && r.desired.families.map((f) => f.family)).toEqual(['ipv4']);
  });
});
