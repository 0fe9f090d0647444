import { describe, expect, it } from 'vitest';
import { fixture } from '../../shared/test-support/dumps';
import { parseScriptOutput } from './sections';
import { guardExcerpt, parseAddresses, parseListening, parseSavedMeta, snapshotFromOutput } from './snapshot';
import { GUARD_LINES, KUBE_NAT, withGuard } from './test-support/dumps';

const KUBE = KUBE_NAT;
const GUARD = GUARD_LINES;

function output(v4: string, extra = ''): string {
  return `%%npg dir /var/lib/nodeport-guard/netns/n1\n%%npg netns n1\n%%npg kube-backend nft\n%%npg uid 0\n%%npg begin v4\n${v4}\n%%npg end v4 0\n%%npg begin addr\n2: eth0    inet 198.18.0.11/16 scope global eth0\\       valid_lft forever\n1: lo    inet 198.19.1.10/32 scope global lo\\       valid_lft forever\n%%npg end addr 0\n%%npg begin listen\n/proc/net/tcp:   1: 0B0012C6:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4049129 1\n/proc/net/udp:10503: 00000000:FFFF 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4050251 2\n\n%%npg end listen 0\n${extra}%%npg now 100\n`;
}

describe('guardExcerpt', () => {
  it('keeps PREROUTING, our chains and jumps into them, without counters', () => {
    const counted = withGuard(KUBE).replace(/^-A /gm, '[3:180] -A ');
    const ex = guardExcerpt(counted);
    expect(ex.split('\n').filter(Boolean)).toEqual([
      ':NPG-PREROUTING -',
      ':NPG-TCP-30001 -',
      GUARD[0],
      '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      ...GUARD.slice(1),
    ]);
    // The same dump without counters gives the same excerpt (the node side reads without -c).
    expect(guardExcerpt(withGuard(KUBE))).toBe(ex);
  });

  it('is empty for a dump without a PREROUTING rule or guard', () => {
    expect(guardExcerpt('*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n')).toBe('');
  });
});

describe('snapshotFromOutput', () => {
  it("in kube-proxy's nftables mode takes the NodePorts from its own table (nft -j), not from iptables", () => {
    // What READ_SCRIPT prints on such a node: iptables holds kubelet's chains only; nft.v4 the table.
    const nft = fixture('corpus/nftables-k8s-test-overall.nft-j.json').trim();
    const text = output(
      '*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT',
      `%%npg begin nft.v4\n${nft}\n%%npg end nft.v4 0\n%%npg kube-proxy-nftables yes\n`,
    );
    const r = snapshotFromOutput('node1', parseScriptOutput(text), 'full');
    if (!r.ok) throw new Error(r.message);
    expect(r.snapshot.mode).toBe('nftables');
    const topo = r.snapshot.families[0]!.topology!;
    expect(topo.mode).toBe('nftables');
    // The corpus README's answer: NodePorts 3001 (ns2/svc2, ETP Local), 3002 (ns5/svc5), 3003 (ns3/svc3).
    expect(topo.nodePorts.map((n) => [n.port, n.service, n.externalTrafficPolicyLocal])).toEqual([
      [3001, 'ns2/svc2:p80', true],
      [3002, 'ns5/svc5:p80', false],
      [3003, 'ns3/svc3:p80', false],
    ]);
    expect(r.snapshot.families[0]!.nodePorts).toEqual([
      { port: 3001, protocol: 'tcp' },
      { port: 3002, protocol: 'tcp' },
      { port: 3003, protocol: 'tcp' },
    ]);
  });

  it('a kube-proxy table that does not read fails the node in one line naming the listing', () => {
    const text = output(
      '*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT',
      '%%npg begin nft.v4\n{"nftables": [{"table": 7}]}\n%%npg end nft.v4 0\n%%npg kube-proxy-nftables yes\n',
    );
    const r = snapshotFromOutput('node1', parseScriptOutput(text), 'full');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toMatch(/^node1 nft -j list table ip kube-proxy/);
      expect(r.message).not.toContain('\n');
    }
  });

  it('reads state, mode, addresses (no loopback), listeners, families', () => {
    const r = snapshotFromOutput('node1', parseScriptOutput(output(withGuard(KUBE))), 'full');
    if (!r.ok) throw new Error(r.message);
    const s = r.snapshot;
    expect(s.mode).toBe('iptables');
    expect(s.toolBackend).toBe('nft');
    expect(s.kubeBackend).toBe('nft');
    expect(s.guardFamilies).toEqual(['ipv4']);
    expect(s.addresses).toEqual(['198.18.0.11']);
    expect(s.listening).toEqual([
      { protocol: 'tcp', port: 22 },
      { protocol: 'udp', port: 65535 },
    ]);
    expect(s.families[0]!.state.chains.map((c) => c.name)).toEqual(['NPG-PREROUTING', 'NPG-TCP-30001']);
    expect(s.families[0]!.state.entryJumps).toHaveLength(1);
  });

  it('an IPv4 read failure is one line naming node and tool', () => {
    const text =
      '%%npg begin v4\n\n%%npg end v4 1\n%%npg begin v4.stderr\niptables-save v1.8.9 (nf_tables): Permission denied (you must be root)\n\n%%npg end v4.stderr 0\n';
    const r = snapshotFromOutput('node2', parseScriptOutput(text), 'full');
    expect(r).toEqual({
      ok: false,
      message:
        'node2: iptables-save failed (exit 1): iptables-save v1.8.9 (nf_tables): Permission denied (you must be root)',
    });
  });

  it('reads a pending commit-confirmed change and the saved meta', () => {
    const extra =
      '%%npg begin state:pending/token\nabcdef0123456789\n\n%%npg end state:pending/token 0\n%%npg begin state:pending/deadline\n160\n\n%%npg end state:pending/deadline 0\n';
    const r = snapshotFromOutput('node1', parseScriptOutput(output(KUBE, extra)), 'nat');
    if (!r.ok) throw new Error(r.message);
    expect(r.snapshot.pending).toEqual({ token: 'abcdef0123456789', deadline: 160 });
    expect(parseSavedMeta('{"op":"apply","token":"ab","time":"t"}\n')).toEqual({
      op: 'apply',
      token: 'ab',
      time: 't',
    });
    expect(parseSavedMeta('garbage')).toBeUndefined();
  });
});

describe('parsers', () => {
  it('listening sockets from /proc/net and ip output', () => {
    // Lines as grep prints them from a lab node (the last two: a connected TCP socket, a UDP one).
    const proc = [
      '/proc/net/tcp:   0: 0A1013C6:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4050249 1 00000000d60ad6c5 100 0 0 10 0',
      '/proc/net/tcp6:   1: 00000000000000000000000000000000:FFFF 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4049129 1 000000002f6231e1 100 0 0 10 0',
      '/proc/net/udp:10503: 0A1013C6:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4050251 2 000000000d4859d5 0',
      '/proc/net/tcp:   2: 1A0012C6:0016 1A0012C6:D431 01 00000000:00000000 00:00000000 00000000     0        0 4049130 1',
      '/proc/net/udp6: 7: 00000000000000000000000000000000:7531 00000000000000000000000000000000:0000 01 00000000:00000000 00:00000000 00000000     0        0 1 2',
      'not a line',
    ].join('\n');
    expect(parseListening(proc)).toEqual([
      { protocol: 'tcp', port: 8080 },
      { protocol: 'tcp', port: 65535 },
      { protocol: 'udp', port: 5353 },
    ]);
    expect(
      parseAddresses(
        '3: eth1    inet6 2001:2::11/64 scope global \\       valid_lft forever\n3: eth1    inet6 fe80::1/64 scope link',
      ),
    ).toEqual(['2001:2::11']);
  });
});
