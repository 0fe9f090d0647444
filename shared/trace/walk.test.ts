import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIpsetList } from '../kube/ipset-parse';
import { findTable, type Table } from '../netfilter';
import { fixture, parseOk } from '../test-support/dumps';
import { type Packet, type Trace, type TraceInput, tracePacket } from '.';

function natOf(text: string): Table {
  const nat = findTable(parseOk(text).ruleset, 'nat');
  if (!nat) throw new Error('no nat table');
  return nat;
}

const NODE = '198.18.0.11';
const NODE6 = '2001:2::11';

function trace(
  nat: Table,
  packet: Partial<Packet> & { src: string },
  extra: Partial<TraceInput> = {},
): Trace {
  const p: Packet = { dst: NODE, protocol: 'tcp', dport: 30001, ...packet };
  return tracePacket({ nat, packet: p, localAddresses: [p.dst], ...extra });
}

const sum = (t: Trace) => t.branches.reduce((a, b) => a + b.probability, 0);
const dnats = (t: Trace) =>
  t.outcomes.map((o) =>
    o.verdict.kind === 'dnat' ? [o.verdict.destination, Number(o.probability.toFixed(6))] : o.verdict.kind,
  );

describe('kube-proxy iptables mode (real dumps)', () => {
  const current = natOf(fixture('iptables-v4-current.iptables-save.txt'));

  it('DNATs a NodePort packet to every endpoint with its probability', () => {
    const t = trace(current, { src: '203.0.113.9' });
    expect(t.summary).toBe('dnat');
    expect(dnats(t)).toEqual([
      ['198.19.1.10:8080', 0.25],
      ['198.19.1.11:8080', 0.25],
      ['198.19.2.10:8080', 0.25],
      ['198.19.3.10:8080', 0.25],
    ]);
    expect(sum(t)).toBeCloseTo(1, 12);
    const first = t.branches[0];
    expect(first?.hops.map((h) => `${h.chain}#${h.position} ${h.action}`)).toEqual([
      'PREROUTING#1 jump',
      'KUBE-SERVICES#8 jump',
      'KUBE-NODEPORTS#5 jump',
      'KUBE-EXT-CDGGSHYLG3RE2FKL#1 jump',
      'KUBE-MARK-MASQ#1 mark',
      'KUBE-EXT-CDGGSHYLG3RE2FKL#2 jump',
      'KUBE-SVC-CDGGSHYLG3RE2FKL#2 jump',
      'KUBE-SEP-VIDHDKFRU7YAZMR5#2 verdict',
    ]);
    expect(first?.hops[6]?.probability).toBe(0.25);
    expect(first?.mark).toEqual({ value: 0x4000, known: 0x4000 });
    expect(first?.notes.join()).toMatch(/KUBE-MARK-MASQ/);
  });

  it('follows UDP and SCTP NodePorts', () => {
    expect(dnats(trace(current, { src: '203.0.113.9', protocol: 'udp', dport: 30002 }))).toEqual([
      ['198.19.2.11:5353', 0.5],
      ['198.19.3.11:5353', 0.5],
    ]);
    expect(dnats(trace(current, { src: '203.0.113.9', protocol: 'sctp', dport: 30005 }))).toEqual([
      ['198.19.1.13:9000', 1],
    ]);
    // The TCP NodePort is not open for UDP.
    expect(trace(current, { src: '203.0.113.9', protocol: 'udp', dport: 30001 }).summary).toBe('accept');
  });

  it('sends externalTrafficPolicy Local traffic to the local endpoint without masquerade', () => {
    const t = trace(current, { src: '203.0.113.9', dport: 30003 });
    expect(dnats(t)).toEqual([['198.19.1.12:8080', 1]]);
    expect(t.branches[0]?.mark.known).toBe(0);
    // From the node itself (addrtype --src-type LOCAL) it goes to the cluster-wide chain, masqueraded.
    const fromNode = trace(current, { src: NODE, dport: 30003 });
    expect(fromNode.outcomes).toHaveLength(3);
    expect(fromNode.branches.every((b) => b.mark.value === 0x4000)).toBe(true);
  });

  it('leaves a NodePort without endpoints unchanged (filter rejects it later)', () => {
    const t = trace(current, { src: '203.0.113.9', dport: 30004 });
    expect(t.outcomes.map((o) => o.verdict)).toEqual([{ kind: 'accept', by: 'policy', policyKnown: true }]);
  });

  it('leaves a packet for another node alone (addrtype LOCAL in KUBE-SERVICES)', () => {
    const t = tracePacket({
      nat: current,
      packet: { src: '203.0.113.9', dst: '198.18.0.12', protocol: 'tcp', dport: 30001 },
      localAddresses: [NODE],
    });
    expect(t.summary).toBe('accept');
  });

  it('DNATs a ClusterIP packet', () => {
    const t = trace(
      current,
      { src: '198.19.1.50', dst: '198.19.128.10', dport: 80 },
      { localAddresses: [NODE] },
    );
    expect(t.summary).toBe('dnat');
    expect(t.outcomes).toHaveLength(4);
  });

  it('walks the legacy layout through KUBE-XLB', () => {
    const legacy = natOf(fixture('iptables-v4-legacy.iptables-save.txt'));
    expect(dnats(trace(legacy, { src: '203.0.113.9', dport: 30003 }))).toEqual([['198.19.1.12:8080', 1]]);
    expect(sum(trace(legacy, { src: '203.0.113.9' }))).toBeCloseTo(1, 12);
  });

  it('walks IPv6 with [addr]:port destinations', () => {
    const v6 = natOf(fixture('iptables-v6-current.ip6tables-save.txt'));
    const t = trace(v6, { src: '2001:2:0:200::5', dst: NODE6, protocol: 'udp', dport: 30002 });
    expect(dnats(t)).toEqual([
      ['[2001:2:0:102::b]:5353', 0.5],
      ['[2001:2:0:103::b]:5353', 0.5],
    ]);
  });

  it('walks past Calico and flannel chains', () => {
    const noisy = natOf(fixture('iptables-v4-current-cni-noise.iptables-save.txt'));
    const t = trace(noisy, { src: '203.0.113.9' });
    expect(t.summary).toBe('dnat');
    expect(t.branches[0]?.hops.slice(0, 2).map((h) => h.chain)).toEqual(['PREROUTING', 'cali-PREROUTING']);
  });

  it("starts kube-proxy's restore input (no PREROUTING) at KUBE-SERVICES, with a warning", () => {
    const restore = natOf(fixture('iptables-v4-current.kube-proxy-restore.txt'));
    const t = trace(restore, { src: '203.0.113.9' });
    expect(t.summary).toBe('dnat');
    expect(t.warnings.join()).toMatch(/starts at KUBE-SERVICES/);
    const other = trace(restore, { src: '203.0.113.9', dport: 1 });
    expect(other.outcomes[0]?.verdict).toEqual({ kind: 'accept', by: 'policy', policyKnown: false });
  });

  it('applies a foreign REDIRECT only to the packets it matches', () => {
    const foreign = natOf(fixture('iptables-v4-current-foreign-prerouting.iptables-save.txt'));
    const hit = trace(foreign, { src: '198.18.50.7', dport: 8080 });
    expect(hit.outcomes.map((o) => o.verdict)).toMatchObject([{ kind: 'redirect', toPort: 80 }]);
    // DOCKER's `-i docker0 -j RETURN` needs the packet's interface: without it, unknown, not a guess.
    const noIface = trace(foreign, { src: '198.18.50.7' });
    expect(noIface.outcomes[0]?.verdict).toMatchObject({ kind: 'unknown', chain: 'DOCKER' });
    expect(trace(foreign, { src: '198.18.50.7', inInterface: 'eth0' }).summary).toBe('dnat');
  });
});

describe('guards', () => {
  it('the well-known one-line REDIRECT: a blocked source is redirected, an allowed one DNATed', () => {
    const nat = natOf(fixture('iptables-v4-current-oneliner-guard.iptables-save.txt'));
    const blocked = trace(nat, { src: '198.18.200.9' });
    expect(blocked.outcomes.map((o) => [o.verdict.kind, o.probability])).toEqual([['redirect', 1]]);
    const v = blocked.outcomes[0]?.verdict;
    expect(v?.kind === 'redirect' && v.toPort).toBe(65535);
    expect(v?.kind === 'redirect' && v.rule.source).toEqual({ value: '198.18.100.8/30', negated: true });
    expect(blocked.branches[0]?.hops.map((h) => `${h.chain}#${h.position} ${h.action}`)).toEqual([
      'PREROUTING#1 verdict',
    ]);
    const allowed = trace(nat, { src: '198.18.100.9' });
    expect(allowed.summary).toBe('dnat');
    expect(sum(allowed)).toBeCloseTo(1, 12);
    // Other NodePorts are not guarded.
    expect(trace(nat, { src: '198.18.200.9', dport: 30007 }).summary).toBe('dnat');
  });

  it('the one-line guard works in ipvs mode too', () => {
    const nat = natOf(fixture('ipvs-v4-oneliner-guard.iptables-save.txt'));
    const r = parseIpsetList(fixture('ipvs-v4-oneliner-guard.ipset-list.txt'));
    if (!r.ok) throw new Error(r.error.message);
    expect(trace(nat, { src: '198.18.200.9' }, { ipsets: r.ipsets }).summary).toBe('redirect');
    const allowed = trace(nat, { src: '198.18.100.9' }, { ipsets: r.ipsets });
    expect(allowed.outcomes.map((o) => o.verdict)).toEqual([
      { kind: 'accept', by: 'policy', policyKnown: true },
    ]);
    expect(allowed.branches[0]?.notes.join()).toMatch(/IPVS picks the backend/);
  });

  it('NPG- chains: allow-list entries RETURN to kube-proxy, everyone else is redirected', () => {
    const nat = natOf(fixture('iptables-v4-current-npg-guard.iptables-save.txt'));
    for (const src of ['198.18.100.8', '198.18.100.11', '198.18.100.13']) {
      const t = trace(nat, { src });
      expect(t.summary).toBe('dnat');
      expect(t.branches[0]?.hops.slice(0, 4).map((h) => `${h.chain} ${h.action}`)).toEqual([
        'PREROUTING jump',
        'NPG-PREROUTING jump',
        'NPG-TCP-30001 return',
        'PREROUTING jump',
      ]);
    }
    for (const src of ['198.18.100.12', '198.18.100.14', '203.0.113.1']) {
      const t = trace(nat, { src });
      expect(t.outcomes.map((o) => o.verdict)).toMatchObject([{ kind: 'redirect', toPort: 65535 }]);
      expect(t.branches[0]?.hops.at(-1)).toMatchObject({
        chain: 'NPG-TCP-30001',
        position: 3,
        action: 'verdict',
      });
    }
  });

  it('a guard in DESIGN.md format written inline, IPv6 with negation', () => {
    const nat = natOf(`*nat
:PREROUTING ACCEPT [0:0]
:NPG-PREROUTING - [0:0]
:NPG-TCP-30001 - [0:0]
:KUBE-SERVICES - [0:0]
-A PREROUTING -m comment --comment "nodeport-guard: entry" -j NPG-PREROUTING
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A NPG-PREROUTING -p tcp -m tcp --dport 30001 -m addrtype --dst-type LOCAL -m comment --comment "nodeport-guard: default/web:http" -j NPG-TCP-30001
-A NPG-TCP-30001 -s 2001:db8:1::/48 -m comment --comment "nodeport-guard: allow office" -j RETURN
-A NPG-TCP-30001 ! -s 2001:db8::/32 -m comment --comment "nodeport-guard: allow all but documentation" -j RETURN
-A NPG-TCP-30001 -p tcp -m comment --comment "nodeport-guard: block" -j REDIRECT --to-ports 65535
COMMIT
`);
    const at = (src: string) => trace(nat, { src, dst: NODE6 }).summary;
    expect(at('2001:db8:1::5')).toBe('accept');
    expect(at('2001:db8:2::5')).toBe('redirect');
    expect(at('2001:2::99')).toBe('accept');
    // Not for this node: the dispatch rule's addrtype LOCAL does not match.
    expect(
      tracePacket({
        nat,
        packet: { src: '2001:db8:2::5', dst: '2001:2::12', protocol: 'tcp', dport: 30001 },
        localAddresses: [NODE6],
      }).summary,
    ).toBe('accept');
  });
});

describe("the running lab's dumps with the one-line guard (real counters)", () => {
  const cases = [
    ['lab-iptables-current-node1-oneliner.iptables-save.txt', '198.18.100.10', '198.18.100.11', NODE, 'dnat'],
    ['lab-iptables-legacy-node1-oneliner.iptables-save.txt', '198.18.100.10', '198.18.100.11', NODE, 'dnat'],
    [
      'lab-iptables-current-node1-oneliner.ip6tables-save.txt',
      '2001:2::100:10',
      '2001:2::100:11',
      NODE6,
      'dnat',
    ],
    [
      'lab-iptables-legacy-node1-oneliner.ip6tables-save.txt',
      '2001:2::100:10',
      '2001:2::100:11',
      NODE6,
      'dnat',
    ],
    ['lab-ipvs-node1-oneliner.iptables-save.txt', '198.18.100.10', '198.18.100.11', NODE, 'accept'],
  ] as const;
  const ipsets = parseIpsetList(fixture('lab-ipvs-node1.ipset-list.txt'));
  if (!ipsets.ok) throw new Error(ipsets.error.message);

  it.each(cases)('%s: %s passes, %s is redirected', (file, allowed, blocked, dst, passes) => {
    const nat = natOf(fixture(file));
    const extra = file.includes('ipvs') ? { ipsets: ipsets.ipsets } : {};
    expect(trace(nat, { src: allowed, dst }, extra).summary).toBe(passes);
    const t = trace(nat, { src: blocked, dst }, extra);
    expect(t.outcomes.map((o) => o.verdict)).toMatchObject([{ kind: 'redirect', toPort: 65535 }]);
    expect(t.branches[0]?.hops[0]?.rule.counters?.packets).toBeGreaterThan(0);
  });
});

describe('ipvs mode and ipsets', () => {
  const nat = natOf(fixture('ipvs-v4.iptables-save.txt'));
  const sets = parseIpsetList(fixture('ipvs-v4.ipset-list.txt'));
  if (!sets.ok) throw new Error(sets.error.message);

  it('evaluates -m set with the ipset list', () => {
    const t = trace(
      nat,
      { src: '198.19.1.50', dst: '198.19.128.10', dport: 80 },
      { ipsets: sets.ipsets, localAddresses: [NODE] },
    );
    expect(t.outcomes.map((o) => o.verdict.kind)).toEqual(['accept']);
    expect(t.outcomes[0]?.verdict).toMatchObject({ by: 'rule' });
  });

  it('reports -m set as unknown without the ipset list, naming the rule', () => {
    const t = trace(nat, { src: '198.19.1.50', dst: '198.19.128.10', dport: 80 }, { localAddresses: [NODE] });
    const v = t.outcomes[0]?.verdict;
    expect(t.summary).toBe('unknown');
    expect(v?.kind === 'unknown' && v.reason).toMatch(/no ipset list/);
    expect(v?.kind === 'unknown' && v.rule?.matches.some((m) => m.module === 'set')).toBe(true);
  });
});

/** A nat table with PREROUTING rules (and extra chains) for one evaluation rule at a time. */
function table(rules: string, chains: readonly string[] = []): Table {
  const decl = chains.map((c) => `:${c} - [0:0]\n`).join('');
  return natOf(`*nat\n:PREROUTING ACCEPT [0:0]\n${decl}${rules}\nCOMMIT\n`);
}

const verdictOf = (t: Trace) => t.outcomes.map((o) => o.verdict.kind).join(',');

describe('rule evaluation', () => {
  it('matches source CIDRs with negation, v4 and v6', () => {
    const nat = table('-A PREROUTING ! -s 10.0.0.0/8 -j DROP\n-A PREROUTING -s 10.1.0.0/16 -j ACCEPT');
    expect(verdictOf(trace(nat, { src: '192.0.2.1' }))).toBe('drop');
    expect(verdictOf(trace(nat, { src: '10.1.2.3' }))).toBe('accept');
    expect(trace(nat, { src: '10.2.2.3' }).outcomes[0]?.verdict).toEqual({
      kind: 'accept',
      by: 'policy',
      policyKnown: true,
    });
    // An IPv6 packet has no business in an IPv4 table.
    expect(verdictOf(trace(nat, { src: '2001:db8::1', dst: NODE6 }))).toBe('unknown');
  });

  it('matches ports, ranges and multiport lists', () => {
    const nat = table(
      '-A PREROUTING -p tcp -m tcp --dport 30000:30010 -j REDIRECT --to-ports 1\n-A PREROUTING -p udp -m multiport --dports 53,5000:5010 -j REDIRECT --to-ports 2\n-A PREROUTING -p tcp -m tcp ! --dport 80 -j REDIRECT --to-ports 3',
    );
    const port = (protocol: 'tcp' | 'udp', dport: number) => {
      const v = trace(nat, { src: '192.0.2.1', protocol, dport }).outcomes[0]?.verdict;
      return v?.kind === 'redirect' ? v.toPort : v?.kind;
    };
    expect(port('tcp', 30001)).toBe(1);
    expect(port('tcp', 443)).toBe(3);
    expect(port('tcp', 80)).toBe('accept');
    expect(port('udp', 53)).toBe(2);
    expect(port('udp', 5005)).toBe(2);
    expect(port('udp', 5011)).toBe('accept');
  });

  it('treats a source port test as unknown unless the packet has one', () => {
    const nat = table('-A PREROUTING -p tcp -m tcp --sport 1024:65535 -j ACCEPT');
    const t = trace(nat, { src: '192.0.2.1' });
    expect(t.summary).toBe('unknown');
    expect(t.outcomes[0]?.verdict).toMatchObject({ kind: 'unknown', chain: 'PREROUTING' });
    expect(verdictOf(trace(nat, { src: '192.0.2.1', sport: 40000 }))).toBe('accept');
    expect(trace(nat, { src: '192.0.2.1', sport: 80 }).outcomes[0]?.verdict).toMatchObject({
      kind: 'accept',
      by: 'policy',
    });
  });

  it('matches the in-interface, with + wildcards, and says unknown without one', () => {
    const nat = table('-A PREROUTING -i eth+ -j DROP');
    expect(verdictOf(trace(nat, { src: '192.0.2.1', inInterface: 'eth0' }))).toBe('drop');
    expect(verdictOf(trace(nat, { src: '192.0.2.1', inInterface: 'wg0' }))).toBe('accept');
    expect(verdictOf(trace(nat, { src: '192.0.2.1' }))).toBe('unknown');
  });

  it('evaluates addrtype LOCAL from the local addresses, and keeps route types unknown', () => {
    const nat = table(
      '-A PREROUTING -m addrtype --dst-type LOCAL -j ACCEPT\n-A PREROUTING -m addrtype --dst-type MULTICAST -j DROP',
    );
    expect(verdictOf(trace(nat, { src: '192.0.2.1' }))).toBe('accept');
    const other = (dst: string) =>
      tracePacket({
        nat,
        packet: { src: '192.0.2.1', dst, protocol: 'udp', dport: 5 },
        localAddresses: [NODE],
      });
    expect(verdictOf(other('239.1.1.1'))).toBe('drop');
    expect(other('198.18.0.99').outcomes[0]?.verdict).toMatchObject({ kind: 'accept', by: 'policy' });
    expect(verdictOf(other('127.0.0.1'))).toBe('accept');
    const unicast = table('-A PREROUTING -m addrtype --dst-type UNICAST -j ACCEPT');
    expect(
      verdictOf(
        tracePacket({
          nat: unicast,
          packet: { src: '192.0.2.1', dst: '198.18.0.99', protocol: 'tcp', dport: 1 },
          localAddresses: [],
        }),
      ),
    ).toBe('unknown');
  });

  it('tracks marks set on the way; an unknown mark bit is unknown', () => {
    const nat = table(
      '-A PREROUTING -j MARK --set-xmark 0x4000/0x4000\n-A PREROUTING -m mark --mark 0x4000/0x4000 -j MY\n-A PREROUTING -m mark --mark 0x1/0x1 -j DROP\n-A MY -j REDIRECT --to-ports 9',
      ['MY'],
    );
    expect(verdictOf(trace(nat, { src: '192.0.2.1' }))).toBe('redirect');
    const later = table(
      '-A PREROUTING -j MARK --set-xmark 0x4000/0x4000\n-A PREROUTING -m mark --mark 0x1/0x1 -j DROP',
    );
    expect(verdictOf(trace(later, { src: '192.0.2.1' }))).toBe('unknown');
    expect(verdictOf(trace(later, { src: '192.0.2.1', mark: 1 }))).toBe('drop');
    expect(trace(later, { src: '192.0.2.1', mark: 0 }).outcomes[0]?.verdict).toMatchObject({
      kind: 'accept',
    });
  });

  it('forks at statistic matches and keeps every branch', () => {
    const nat = table(
      '-A PREROUTING -m statistic --mode random --probability 0.25 -j DNAT --to-destination 10.0.0.1:80\n-A PREROUTING -m statistic --mode nth --every 3 --packet 0 -j DNAT --to-destination 10.0.0.2\n-A PREROUTING -j DNAT --to-destination 10.0.0.3:8080',
    );
    const t = trace(nat, { src: '192.0.2.1', dport: 443 });
    expect(dnats(t)).toEqual([
      ['10.0.0.3:8080', 0.5],
      ['10.0.0.1:80', 0.25],
      ['10.0.0.2:443', 0.25],
    ]);
  });

  it('follows jumps, gotos and RETURN like the kernel', () => {
    const nat = table(
      '-A PREROUTING -j A\n-A PREROUTING -j DNAT --to-destination 10.0.0.9\n-A A -g B\n-A A -j DROP\n-A B -j RETURN',
      ['A', 'B'],
    );
    // RETURN from B (reached by goto) goes back past A, to PREROUTING's next rule.
    const t = trace(nat, { src: '192.0.2.1' });
    expect(t.outcomes.map((o) => o.verdict)).toMatchObject([{ kind: 'dnat', destination: '10.0.0.9:30001' }]);
    expect(t.branches[0]?.hops.map((h) => `${h.chain} ${h.action}`)).toEqual([
      'PREROUTING jump',
      'A goto',
      'B return',
      'PREROUTING verdict',
    ]);
    const early = table('-A PREROUTING -p tcp -j RETURN\n-A PREROUTING -j DROP');
    expect(trace(early, { src: '192.0.2.1' }).outcomes[0]?.verdict).toEqual({
      kind: 'accept',
      by: 'policy',
      policyKnown: true,
    });
  });

  it('stops at chain loops and runaway gotos', () => {
    const loop = table('-A PREROUTING -j A\n-A A -j B\n-A B -j A', ['A', 'B']);
    expect(trace(loop, { src: '192.0.2.1' }).outcomes[0]?.verdict).toMatchObject({
      kind: 'unknown',
      reason: 'chain loop at A',
    });
    const spin = table('-A PREROUTING -j A\n-A A -g B\n-A B -g A', ['A', 'B']);
    const t = trace(spin, { src: '192.0.2.1' }, { limits: { maxSteps: 1000 } });
    expect(t.outcomes[0]?.verdict).toMatchObject({ kind: 'unknown', reason: 'stopped after 1000 rules' });
  });

  it('reports a module it does not model as unknown with its rule, but not when another condition fails', () => {
    const nat = table(
      '-A PREROUTING -s 10.0.0.0/8 -m recent --rcheck --name X -j DROP\n-A PREROUTING -m limit --limit 5/sec -j ACCEPT',
    );
    const t = trace(nat, { src: '192.0.2.1' });
    expect(t.outcomes[0]?.verdict).toMatchObject({
      kind: 'unknown',
      reason: 'limit: depends on the packet rate',
    });
    expect(t.outcomes[0]?.verdict.kind === 'unknown' && t.outcomes[0].verdict.rule?.line).toBe(4);
  });

  it('evaluates conntrack --ctstate for a new connection and tcp SYN flags', () => {
    const nat = table(
      '-A PREROUTING -m conntrack --ctstate RELATED,ESTABLISHED -j DROP\n-A PREROUTING -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -j ACCEPT',
    );
    expect(verdictOf(trace(nat, { src: '192.0.2.1' }))).toBe('accept');
  });

  it('answers unknown for a bad packet instead of throwing', () => {
    const nat = table('-A PREROUTING -j ACCEPT');
    expect(trace(nat, { src: 'not-an-ip' }).outcomes[0]?.verdict).toMatchObject({
      kind: 'unknown',
      reason: expect.stringMatching(/source/),
    });
    expect(trace(nat, { src: '2001:db8::1' }).summary).toBe('unknown');
    // An IPv4 packet through ip6tables rules would still hit addrtype and ports: refused instead.
    const v6 = natOf(fixture('iptables-v6-current.ip6tables-save.txt'));
    expect(trace(v6, { src: '203.0.113.9' }).outcomes[0]?.verdict).toMatchObject({
      kind: 'unknown',
      reason: expect.stringMatching(/ipv4 but the table holds ipv6/),
    });
    expect(trace(v6, { src: '203.0.113.9' }, { family: 'ipv4' }).summary).toBe('dnat');
    expect(
      tracePacket({
        nat: { name: 'nat', chains: [], complete: false },
        packet: { src: '192.0.2.1', dst: NODE, protocol: 'tcp', dport: 1 },
        localAddresses: [],
      }).summary,
    ).toBe('unknown');
  });
});

describe('properties', () => {
  it('a kube-proxy statistic chain of n endpoints gives each 1/n, summing to 1', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), (n) => {
        const rules: string[] = [];
        const chains: string[] = [];
        for (let i = 0; i < n; i++) {
          chains.push(`SEP${i}`);
          // kube-proxy writes fmt.Sprintf("%0.10f", 1/(n-i)) for all but the last endpoint.
          const stat =
            i < n - 1 ? ` -m statistic --mode random --probability ${(1 / (n - i)).toFixed(10)}` : '';
          rules.push(
            `-A SVC${stat} -j SEP${i}`,
            `-A SEP${i} -p tcp -m tcp -j DNAT --to-destination 10.0.${i}.1:80`,
          );
        }
        const t = trace(table(`-A PREROUTING -j SVC\n${rules.join('\n')}`, ['SVC', ...chains]), {
          src: '192.0.2.1',
        });
        expect(t.branches).toHaveLength(n);
        expect(sum(t)).toBeCloseTo(1, 9);
        for (const o of t.outcomes) expect(o.probability).toBeCloseTo(1 / n, 8);
      }),
      { numRuns: 40 },
    );
  });
});
