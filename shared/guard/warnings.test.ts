import { describe, expect, it } from 'vitest';
import type { Policy } from '../workspace/schema';
import { type KubeProxyInfo, planNode } from './plan';
import { desiredOf, KUBE_NAT_V4, POLICY, stateOf } from './test-support/fixtures';
import { type PlanChecks, portIssues } from './warnings';

function issues(
  checks: PlanChecks,
  policy: Policy = POLICY,
  kubeProxy: KubeProxyInfo = { mode: 'iptables', backend: 'nft' },
  families: readonly ('ipv4' | 'ipv6')[] = ['ipv4', 'ipv6'],
) {
  const p = planNode({
    node: 'node-1',
    current: [stateOf(KUBE_NAT_V4)],
    desired: desiredOf(policy, families),
    kubeProxy,
    checks,
  });
  return { warnings: p.warnings.map((w) => w.message), errors: p.errors.map((e) => e.message) };
}

describe('plan warnings', () => {
  it('names addresses the allow-list leaves out', () => {
    const r = issues({
      appHostAddresses: ['198.18.100.5', '198.18.200.1'],
      nodeAddresses: ['198.18.7.7', '198.18.0.11', '198.18.0.12', '2001:2:0:1::11', '2001:2::12'],
      podCidrs: ['198.18.100.0/23', '198.18.100.128/25', '2001:2:0:1::/64'],
      healthCheckRanges: ['35.191.0.0/16'],
    });
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([
      "node-1: tcp/30001: this machine's address 198.18.200.1 is not allowed: probes from here will be refused",
      'node-1: tcp/30001: node addresses not allowed (node-to-node and hairpin traffic will be blocked): 198.18.0.11, 198.18.0.12, 2001:2::12',
      'node-1: tcp/30001: pod CIDR 198.18.100.0/23 is only partly allowed: pods reaching the NodePort via a node address will be blocked',
      'node-1: tcp/30001: load-balancer health-check range 35.191.0.0/16 is not (fully) allowed: the LB may mark this node unhealthy',
    ]);
  });

  it('an empty allow-list is an error unless allowEmpty', () => {
    const empty: Policy = { nodePorts: [{ ...POLICY.nodePorts[0]!, allow: [] }] };
    expect(issues({}, empty).errors).toEqual([
      'node-1: tcp/30001: the allow-list is empty: every source will be blocked (confirm with the allow-empty option)',
    ]);
    const ok = issues({ allowEmpty: true }, empty);
    expect(ok.errors).toEqual([]);
    expect(ok.warnings).toEqual(['node-1: tcp/30001: the allow-list is empty: every source will be blocked']);
  });

  it('a listener on the blackhole port is an error', () => {
    const r = issues({
      listeningPorts: [
        { protocol: 'tcp', port: 22 },
        { protocol: 'tcp', port: 65535 },
      ],
    });
    expect(r.errors).toEqual([
      'node-1: tcp/30001: something listens on blackhole port tcp/65535: blocked clients would reach it; pick another blackholePort',
    ]);
    expect(issues({ listeningPorts: [{ protocol: 'udp', port: 65535 }] }).errors).toEqual([]);
  });

  it('IPv6: a v4-only list blocks v6 clients; an unguarded v6 family stays open', () => {
    const v4only: Policy = { nodePorts: [{ ...POLICY.nodePorts[0]!, allow: [{ cidr: '198.18.7.7' }] }] };
    expect(issues({}, v4only).warnings).toEqual([
      'node-1: tcp/30001: the allow-list has no IPv6 entry: every IPv6 client will be blocked',
    ]);
    // Known not to be served over v6 on this node: nothing to say.
    expect(issues({ ipv6NodePorts: [] }, v4only).warnings).toEqual([]);
    expect(
      issues({ ipv6NodePorts: [{ protocol: 'tcp', port: 30001 }] }, v4only, undefined, ['ipv4']).warnings,
    ).toEqual([
      'node-1: tcp/30001: the NodePort is served over IPv6 but IPv6 is not guarded on this node: it stays open over IPv6',
    ]);
  });

  it('kube-proxy in nftables mode is refused; unknown backend is a warning', () => {
    expect(issues({}, POLICY, { mode: 'nftables', backend: 'nft' }).errors[0]).toMatch(
      /^node-1: kube-proxy runs in nftables mode/,
    );
    expect(issues({}, POLICY, { mode: 'iptables', backend: 'unknown' }).warnings[0]).toMatch(
      /backend .* is unknown/,
    );
  });

  it('bad check inputs are reported, not thrown', () => {
    expect(issues({ nodeAddresses: ['node-2'] }).warnings).toEqual([
      'node-1: nodeAddresses[0]: "node-2" is not an IPv4 or IPv6 address or CIDR (character "n" is not allowed); not checked',
    ]);
  });
});

describe('ports that are probably not the NodePort meant', () => {
  const at = (port: number, protocol: 'tcp' | 'udp' = 'tcp'): Policy => ({
    nodePorts: [{ ...POLICY.nodePorts[0]!, port, protocol }],
  });
  const ssh = [
    { node: 'node-1', port: 22 },
    { node: 'node-2', port: 22 },
    { node: 'node-3', port: 2222 },
  ];

  it("offline: a node's SSH port (tcp only) and a port outside the range, one line each", () => {
    expect(portIssues({ port: 22, protocol: 'tcp' }, { sshPorts: ssh })).toEqual([
      {
        kind: 'port-is-ssh',
        text: 'tcp/22: 22 is the SSH port of node-1, node-2: the guard would cut off SSH from every source it does not allow',
      },
      {
        kind: 'port-outside-nodeport-range',
        text: 'tcp/22: 22 is outside the NodePort range 30000-32767, so no Service can expose it as a NodePort',
      },
    ]);
    expect(portIssues({ port: 22, protocol: 'udp' }, { sshPorts: ssh }).map((i) => i.kind)).toEqual([
      'port-outside-nodeport-range',
    ]);
    expect(portIssues({ port: 30001, protocol: 'tcp' }, { sshPorts: ssh })).toEqual([]);
    expect(portIssues({ port: 32767, protocol: 'tcp' }, {})).toEqual([]);
    expect(portIssues({ port: 32768, protocol: 'tcp' }, {}).map((i) => i.kind)).toEqual([
      'port-outside-nodeport-range',
    ]);
    // A cluster with another --service-node-port-range says so in the workspace.
    expect(
      portIssues({ port: 20000, protocol: 'tcp' }, { nodePortRange: { from: 20000, to: 22767 } }),
    ).toEqual([]);
    expect(
      portIssues({ port: 30001, protocol: 'tcp' }, { nodePortRange: { from: 20000, to: 22767 } }),
    ).toEqual([
      {
        kind: 'port-outside-nodeport-range',
        text: 'tcp/30001: 30001 is outside the NodePort range 20000-22767, so no Service can expose it as a NodePort',
      },
    ]);
  });

  it('plan: per node, "not a NodePort on this node" from its own list, and its own SSH port named', () => {
    const nodePorts = [{ port: 30001, protocol: 'tcp' as const }];
    expect(issues({ nodePorts, sshPorts: ssh }, at(22)).warnings).toEqual([
      'node-1: tcp/22: 22 is the SSH port of this node, node-2: the guard would cut off SSH from every source it does not allow',
      'node-1: tcp/22: 22 is not a NodePort on this node',
    ]);
    expect(issues({ nodePorts, sshPorts: ssh }, at(2222)).warnings).toEqual([
      'node-1: tcp/2222: 2222 is the SSH port of node-3: the guard would cut off SSH from every source it does not allow',
      'node-1: tcp/2222: 2222 is not a NodePort on this node',
    ]);
    expect(issues({ nodePorts }, at(30001)).warnings).toEqual([]);
    // udp/30001 is not tcp/30001.
    expect(issues({ nodePorts }, at(30001, 'udp')).warnings).toContain(
      'node-1: udp/30001: 30001 is not a NodePort on this node',
    );
    // No list from the node (or kube-proxy in a mode whose list we do not read): the range stands in.
    expect(issues({}, at(30002)).warnings).toEqual([]);
    expect(issues({ nodePorts: [] }, at(30002), { mode: 'nftables', backend: 'nft' }).warnings).not.toContain(
      'node-1: tcp/30002: 30002 is not a NodePort on this node',
    );
    expect(issues({ nodePorts: [] }, at(30002), { mode: 'ipvs', backend: 'nft' }).warnings).toContain(
      'node-1: tcp/30002: 30002 is not a NodePort on this node',
    );
    const kinds = planNode({
      node: 'node-1',
      current: [stateOf(KUBE_NAT_V4)],
      desired: desiredOf(at(8080), ['ipv4']),
      kubeProxy: { mode: 'iptables', backend: 'nft' },
      checks: {},
    }).warnings.map((w) => w.kind);
    expect(kinds).toContain('port-outside-nodeport-range');
  });
});
