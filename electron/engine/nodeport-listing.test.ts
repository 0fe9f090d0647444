import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inspectDump } from './inspect';
import { nodePortsFromChain, nodePortsFromIpsets } from './nodeport-listing';

const fixture = (name: string) => readFileSync(`e2e/lab/fixtures/${name}`, 'utf8');

/** The (port, protocol) pairs the full topology finds: what a plan read's listing must agree with. */
function fromTopology(dump: string, ipset?: string): { port: number; protocol: string }[] {
  const r = inspectDump({
    text: dump,
    source: 'fixture',
    ...(ipset ? { ipsets: { text: ipset, source: 'ipset' } } : {}),
  });
  if (!r.ok) throw new Error(r.message);
  const seen = new Map(r.value.topology.nodePorts.map((n) => [`${n.protocol}/${n.port}`, n]));
  return [...seen.values()]
    .map((n) => ({ port: n.port, protocol: n.protocol }))
    .sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
}

function chainOnly(save: string): string {
  return save
    .split('\n')
    .filter((l) => l.startsWith('-A KUBE-NODEPORTS '))
    .join('\n');
}

describe('NodePorts from a plan read', () => {
  it('KUBE-NODEPORTS as `iptables -S` prints it gives the ports the full topology finds (v4, v6, both layouts)', () => {
    for (const [s, save] of [
      ['iptables-v4-current.iptables-t-nat-S.txt', 'iptables-v4-current.iptables-save-t-nat.txt'],
      ['iptables-v4-legacy.iptables-t-nat-S.txt', 'iptables-v4-legacy.iptables-save-t-nat.txt'],
      ['iptables-v6-current.ip6tables-t-nat-S.txt', 'iptables-v6-current.ip6tables-save-t-nat.txt'],
    ] as const) {
      const listed = nodePortsFromChain(chainOnly(fixture(s)));
      expect(listed.length).toBeGreaterThan(0);
      expect(listed).toEqual(fromTopology(fixture(save)));
    }
  });

  it('ipvs mode: the NodePort ipsets of the family asked for', () => {
    const v4 = nodePortsFromIpsets(fixture('ipvs-v4.ipset-list.txt'), 'ipv4');
    expect(v4).toEqual(fromTopology(fixture('ipvs-v4.iptables-save.txt'), fixture('ipvs-v4.ipset-list.txt')));
    expect(v4?.length).toBeGreaterThan(0);
    const v6 = nodePortsFromIpsets(fixture('ipvs-v6.ipset-list.txt'), 'ipv6');
    expect(v6).toEqual(
      fromTopology(fixture('ipvs-v6.ip6tables-save.txt'), fixture('ipvs-v6.ipset-list.txt')),
    );
    expect(nodePortsFromIpsets(fixture('ipvs-v4.ipset-list.txt'), 'ipv6')).toEqual([]);
  });

  it('ignores what is not a NodePort rule and says when the ipset text is unreadable', () => {
    expect(
      nodePortsFromChain(
        '-N KUBE-NODEPORTS\n-A KUBE-NODEPORTS -p tcp -m tcp --dport 70000 -j X\n-A KUBE-SERVICES -p tcp --dport 30001 -j Y\n',
      ),
    ).toEqual([]);
    expect(nodePortsFromIpsets('Name: broken\nType\n', 'ipv4')).toBeUndefined();
  });
});
