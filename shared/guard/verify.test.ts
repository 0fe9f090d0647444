import { describe, expect, it } from 'vitest';
import { serializeRule } from '../netfilter/serialize';
import type { Policy } from '../workspace/schema';
import { familyOf } from './desired';
import { entryJumpRule } from './rules';
import { desiredOf, KUBE_NAT_V4, KUBE_NAT_V6, POLICY, parseDump, withGuard } from './test-support/fixtures';
import { type FamilyRead, overallStatus, verifyNode } from './verify';

const ENTRY = serializeRule(entryJumpRule());
function guardLines(policy: Policy, family: 'ipv4' | 'ipv6'): string[] {
  const f = familyOf(desiredOf(policy), family)!;
  return [...(f.entry ? [ENTRY] : []), ...f.chains.flatMap((c) => c.rules.map((r) => serializeRule(r)))];
}
const V4 = guardLines(POLICY, 'ipv4');
const V6 = guardLines(POLICY, 'ipv6');
const good6: FamilyRead = { family: 'ipv6', ruleset: parseDump(withGuard(KUBE_NAT_V6, V6), 'ipv6') };

function verify(v4dump: string, extra: Partial<Parameters<typeof verifyNode>[0]> = {}) {
  return verifyNode({
    node: 'node-1',
    desired: desiredOf(POLICY),
    reads: [{ family: 'ipv4', ruleset: parseDump(v4dump) }, good6],
    ...extra,
  });
}
const messages = (v: ReturnType<typeof verify>) =>
  v.findings.filter((f) => f.severity !== 'info').map((f) => f.message);

describe('verifyNode', () => {
  it('ok when the node holds exactly the policy', () => {
    const v = verify(withGuard(KUBE_NAT_V4, V4));
    expect(v.status).toBe('ok');
    expect(messages(v)).toEqual([]);
    expect(v.ports.map((p) => [p.port, p.status])).toEqual([[30001, 'ok']]);
  });

  it('entry jump behind KUBE-SERVICES after a kube-proxy restart is drift', () => {
    const v = verify(withGuard(KUBE_NAT_V4, V4, { entryFirst: false }));
    expect(v.status).toBe('drift');
    expect(messages(v)).toEqual([
      "node-1: IPv4: entry jump at PREROUTING 2 is behind kube-proxy's KUBE-SERVICES jump at 1: the guard is bypassed (kube-proxy restarted?)",
    ]);
    expect(v.ports[0]?.status).toBe('drift');
  });

  it('names a rule deleted by hand and a rule added by hand', () => {
    const deleted = verify(
      withGuard(
        KUBE_NAT_V4,
        V4.filter((l) => !l.includes('vpn')),
      ),
    );
    expect(messages(deleted)).toEqual([
      'node-1: tcp/30001 (IPv4): rule missing from NPG-TCP-30001: -A NPG-TCP-30001 -s 198.18.7.7/32 -m comment --comment "nodeport-guard: allow vpn" -j RETURN',
    ]);
    const added = verify(
      withGuard(KUBE_NAT_V4, [
        ...V4.slice(0, 2),
        '-A NPG-TCP-30001 -s 198.51.100.0/24 -j RETURN',
        ...V4.slice(2),
      ]),
    );
    expect(messages(added)).toEqual([
      'node-1: tcp/30001 (IPv4): rule in NPG-TCP-30001 not in the policy: -A NPG-TCP-30001 -s 198.51.100.0/24 -j RETURN',
    ]);
    expect(added.ports[0]?.findings[0]).toMatchObject({
      kind: 'rule-unexpected',
      family: 'ipv4',
      chain: 'NPG-TCP-30001',
    });
  });

  it('missing entry, duplicates, missing dispatch, stray chains', () => {
    expect(messages(verify(withGuard(KUBE_NAT_V4, V4.slice(1))))).toEqual([
      'node-1: IPv4: entry jump to NPG-PREROUTING missing from PREROUTING: nothing is guarded',
    ]);
    expect(messages(verify(withGuard(KUBE_NAT_V4, [ENTRY, ...V4])))).toEqual([
      'node-1: IPv4: entry jump present 2 times (PREROUTING 1, 2)',
    ]);
    const noDispatch = verify(
      withGuard(
        KUBE_NAT_V4,
        V4.filter((l) => !l.startsWith('-A NPG-PREROUTING')),
      ),
    );
    expect(noDispatch.findings[0]).toMatchObject({
      kind: 'rule-missing',
      chain: 'NPG-PREROUTING',
      port: 30001,
    });
    const stray = verify(withGuard(KUBE_NAT_V4, [...V4, '-A NPG-UDP-30009 -j RETURN']));
    expect(messages(stray)).toEqual([
      'node-1: udp/30009 (IPv4): chain NPG-UDP-30009 exists but is not in the policy',
    ]);
  });

  it('checks the IPv6 side too', () => {
    const v = verifyNode({
      node: 'node-1',
      desired: desiredOf(POLICY),
      reads: [
        { family: 'ipv4', ruleset: parseDump(withGuard(KUBE_NAT_V4, V4)) },
        { family: 'ipv6', ruleset: parseDump(KUBE_NAT_V6, 'ipv6') },
      ],
    });
    expect(messages(v)).toEqual([
      'node-1: IPv6: entry jump to NPG-PREROUTING missing from PREROUTING: nothing is guarded',
      'node-1: IPv6: chain NPG-PREROUTING missing',
      'node-1: tcp/30001 (IPv6): chain NPG-TCP-30001 missing',
    ]);
  });

  it('a table that could not be read is an error (exit 2: could not check)', () => {
    const v = verify(withGuard(KUBE_NAT_V4, V4), {
      reads: [{ family: 'ipv4', error: 'ssh: connection refused' }, good6],
      listeningPorts: [{ protocol: 'tcp', port: 65535 }],
    });
    expect(v.status).toBe('error');
    expect(messages(v)).toEqual([
      'node-1: IPv4: could not read the nat table: ssh: connection refused',
      'node-1: tcp/30001: something listens on blackhole port tcp/65535: blocked clients reach it',
    ]);
    expect(overallStatus([verify(withGuard(KUBE_NAT_V4, V4)), v])).toBe('error');
  });

  it('a blackhole listener or the guard in the other backend fails the check (exit 1), it does not stop it', () => {
    const listener = verify(withGuard(KUBE_NAT_V4, V4), {
      listeningPorts: [{ protocol: 'tcp', port: 65535 }],
    });
    expect(listener.status).toBe('drift');
    expect(listener.findings.map((f) => f.kind)).toEqual(['blackhole-listener']);
    const backends = verify(withGuard(KUBE_NAT_V4, V4), { backends: { guard: 'legacy', kubeProxy: 'nft' } });
    expect(backends.status).toBe('drift');
    expect(messages(backends)).toEqual([
      'node-1: the guard is in iptables-legacy but kube-proxy uses iptables-nft: the two do not order against each other',
    ]);
  });

  it('reports the block rule counters per port and family', () => {
    const dump = withGuard(KUBE_NAT_V4, V4).replace(/^(-A NPG-TCP-30001 -p tcp .*)$/m, '[7:420] $1');
    const v = verify(dump.replace(/^-A /gm, '[0:0] -A '));
    expect(v.ports[0]?.counters).toEqual([{ family: 'ipv4', counters: { packets: 7, bytes: 420 } }]);
    expect(v.findings.find((f) => f.kind === 'counters')?.message).toBe(
      'node-1: tcp/30001 (IPv4): 7 connections blocked over IPv4',
    );
  });
});

describe('against the lab recording of a guarded node', () => {
  it('finds the recorded guard equal to the policy it was written from', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(
      new URL('../../e2e/lab/fixtures/iptables-v4-current-npg-guard.iptables-save.txt', import.meta.url),
      'utf8',
    );
    const policy: Policy = {
      nodePorts: [
        {
          ...POLICY.nodePorts[0]!,
          allow: [
            { cidr: '198.18.100.8/30', label: 'office' },
            { cidr: '198.18.100.13', label: 'vpn' },
          ],
        },
      ],
    };
    const v = verifyNode({
      node: 'node1',
      desired: desiredOf(policy, ['ipv4']),
      reads: [{ family: 'ipv4', ruleset: parseDump(text) }],
    });
    expect(messages(v)).toEqual([]);
    expect(v.status).toBe('ok');
  });
});
