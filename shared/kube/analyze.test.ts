import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findTable, type Ruleset } from '../netfilter';
import { fixture, fixtureNames, parseOk } from '../test-support/dumps';
import { analyzeTopology, parseIpsetList, parseIpvsadm, type Topology, toInspectJson } from '.';

function parse(text: string, table?: string): Ruleset {
  return parseOk(text, table ? { table } : {}).ruleset;
}

function analyzeText(text: string, extra: { ipset?: string; ipvs?: string } = {}): Topology {
  const rs = parse(text);
  const nat = findTable(rs, 'nat');
  if (!nat) throw new Error('no nat table');
  const ipsets = extra.ipset === undefined ? undefined : parseIpsetList(extra.ipset);
  const ipvs = extra.ipvs === undefined ? undefined : parseIpvsadm(extra.ipvs);
  if (ipsets && !ipsets.ok) throw new Error(ipsets.error.message);
  if (ipvs && !ipvs.ok) throw new Error(ipvs.error.message);
  const filter = findTable(rs, 'filter');
  const mangle = findTable(rs, 'mangle');
  return analyzeTopology({
    nat,
    ...(filter ? { filter } : {}),
    ...(mangle ? { mangle } : {}),
    ...(ipsets?.ok ? { ipsets: ipsets.ipsets } : {}),
    ...(ipvs?.ok ? { ipvs: ipvs.ipvs } : {}),
    backend: rs.backend,
    headerComments: rs.comments,
  });
}

function analyzeFixture(name: string, extra: { ipset?: string; ipvs?: string } = {}): Topology {
  return analyzeText(fixture(name), {
    ...(extra.ipset ? { ipset: fixture(extra.ipset) } : {}),
    ...(extra.ipvs ? { ipvs: fixture(extra.ipvs) } : {}),
  });
}

function port(t: Topology, p: number, protocol = 'tcp') {
  const np = t.nodePorts.find((n) => n.port === p && n.protocol === protocol);
  if (!np) throw new Error(`no NodePort ${p}/${protocol}`);
  return np;
}

const kinds = (t: Topology, p: number, protocol = 'tcp') => port(t, p, protocol).path.map((s) => s.kind);
const sum = (xs: readonly { probability: number }[]) => xs.reduce((a, e) => a + e.probability, 0);

const SAMPLE_PORTS = [
  [30001, 'tcp'],
  [30002, 'udp'],
  [30003, 'tcp'],
  [30004, 'tcp'],
  [30005, 'sctp'],
  [30006, 'tcp'],
  [30007, 'tcp'],
];

describe('iptables mode, >= 1.24 layout (KUBE-EXT)', () => {
  const t = analyzeFixture('iptables-v4-current.iptables-save.txt');

  it('detects mode, layout and the backend from KUBE-IPTABLES-HINT', () => {
    expect(t.mode).toBe('iptables');
    expect(t.layout).toBe('ext');
    expect(t.backend).toEqual({ backend: 'nft', source: 'kube-iptables-hint', otherBackendPresent: false });
    expect(t.warnings).toEqual([]);
    expect(t.kubeServicesJump?.position).toBe(1);
  });

  it('lists every NodePort sorted by port then protocol', () => {
    expect(t.nodePorts.map((n) => [n.port, n.protocol])).toEqual(SAMPLE_PORTS);
  });

  it('walks PREROUTING -> KUBE-SERVICES -> KUBE-NODEPORTS -> KUBE-EXT -> KUBE-MARK-MASQ -> KUBE-SVC', () => {
    const web = port(t, 30001);
    expect(web.service).toBe('default/web:http');
    expect(kinds(t, 30001)).toEqual([
      'PREROUTING',
      'KUBE-SERVICES',
      'KUBE-NODEPORTS',
      'KUBE-EXT',
      'KUBE-MARK-MASQ',
      'KUBE-SVC',
    ]);
    expect(web.path.map((s) => s.chain).slice(3)).toEqual([
      'KUBE-EXT-CDGGSHYLG3RE2FKL',
      'KUBE-MARK-MASQ',
      'KUBE-SVC-CDGGSHYLG3RE2FKL',
    ]);
    // Every step but the hook names the rule that leads there, with its counters.
    for (const step of web.path.slice(1)) {
      expect(step.via?.target?.name).toBe(step.chain);
      expect(step.counters).toEqual({ packets: 0, bytes: 0 });
    }
    expect(web.masquerade).toBe('always');
    expect(web.externalTrafficPolicyLocal).toBe(false);
  });

  it('gives the endpoints sorted, with statistic probabilities summing to 1', () => {
    const web = port(t, 30001);
    expect(web.endpoints.map((e) => e.endpoint)).toEqual([
      '198.19.1.10:8080',
      '198.19.1.11:8080',
      '198.19.2.10:8080',
      '198.19.3.10:8080',
    ]);
    for (const e of web.endpoints) expect(e.probability).toBeCloseTo(0.25, 6);
    expect(sum(web.endpoints)).toBeCloseTo(1, 9);
    const first = web.endpoints[0];
    expect(first?.sepChain).toBe('KUBE-SEP-VIDHDKFRU7YAZMR5');
    expect(first?.dnat?.target?.name).toBe('DNAT');
    expect(first?.via?.chain).toBe('KUBE-SVC-CDGGSHYLG3RE2FKL');
  });

  it('reads UDP and SCTP NodePorts', () => {
    expect(port(t, 30002, 'udp').endpoints.map((e) => e.endpoint)).toEqual([
      '198.19.2.11:5353',
      '198.19.3.11:5353',
    ]);
    expect(port(t, 30005, 'sctp').endpoints.map((e) => [e.endpoint, e.probability])).toEqual([
      ['198.19.1.13:9000', 1],
    ]);
  });

  it('marks externalTrafficPolicy Local: KUBE-SVL, local endpoints only, masquerade only for LOCAL sources', () => {
    const local = port(t, 30003);
    expect(local.externalTrafficPolicyLocal).toBe(true);
    expect(kinds(t, 30003)).toEqual([
      'PREROUTING',
      'KUBE-SERVICES',
      'KUBE-NODEPORTS',
      'KUBE-EXT',
      'KUBE-SVL',
    ]);
    expect(local.endpoints.map((e) => e.endpoint)).toEqual(['198.19.1.12:8080']);
    expect(local.masquerade).toBe('conditional');
    // The cluster chain (for pods and the node itself) is still found for the ClusterIP path.
    expect(local.clusterIp?.address).toBe('198.19.128.12');
  });

  it('finds the service without endpoints through filter KUBE-EXTERNAL-SERVICES', () => {
    const empty = port(t, 30004);
    expect(empty.service).toBe('default/empty:http');
    expect(empty.noEndpoints).toBe(true);
    expect(empty.endpoints).toEqual([]);
    expect(empty.noEndpointsRule?.target?.name).toBe('REJECT');
    expect(empty.path.slice(-2).map((s) => [s.table, s.chain])).toEqual([
      ['filter', 'INPUT'],
      ['filter', 'KUBE-EXTERNAL-SERVICES'],
    ]);
  });

  it('shows the ClusterIP path and the masquerade step', () => {
    const cip = port(t, 30001).clusterIp;
    expect(cip?.address).toBe('198.19.128.10');
    expect(cip?.port).toBe(80);
    expect(cip?.path.map((s) => s.chain)).toEqual(['OUTPUT', 'KUBE-SERVICES', 'KUBE-SVC-CDGGSHYLG3RE2FKL']);
    expect(t.masquerade?.path.map((s) => s.chain)).toEqual(['POSTROUTING', 'KUBE-POSTROUTING']);
    expect(t.masquerade?.mark).toBe('0x4000/0x4000');
    expect(t.masquerade?.masqueradeRule?.target?.name).toBe('MASQUERADE');
  });

  it('reads the same NodePorts from iptables -t nat -S and kube-proxy restore input', () => {
    const summary = (x: Topology) =>
      x.nodePorts.map((n) => [n.port, n.protocol, n.service, n.endpoints.map((e) => e.endpoint)]);
    const natOnly = summary(t).filter(([p]) => p !== 30004);
    expect(summary(analyzeFixture('iptables-v4-current.iptables-t-nat-S.txt'))).toEqual(natOnly);
    expect(summary(analyzeFixture('iptables-v4-current.iptables-save-t-nat.txt'))).toEqual(natOnly);
    expect(summary(analyzeFixture('iptables-v4-current.kube-proxy-restore.txt'))).toEqual(summary(t));
  });

  it('warns that a nat-only dump cannot show NodePorts that kube-proxy only rejects in filter', () => {
    const natOnly = analyzeFixture('iptables-v4-current.iptables-save-t-nat.txt');
    expect(natOnly.warnings.join('\n')).toMatch(/filter table/);
  });
});

describe('iptables mode, pre-1.24 layout (KUBE-XLB, MARK-MASQ in KUBE-NODEPORTS)', () => {
  const t = analyzeFixture('iptables-v4-legacy.iptables-save.txt');

  it('detects the legacy layout', () => {
    expect(t.mode).toBe('iptables');
    expect(t.layout).toBe('legacy');
    expect(t.nodePorts.map((n) => [n.port, n.protocol])).toEqual(SAMPLE_PORTS);
  });

  it('walks KUBE-NODEPORTS -> KUBE-MARK-MASQ, KUBE-SVC', () => {
    expect(kinds(t, 30001)).toEqual([
      'PREROUTING',
      'KUBE-SERVICES',
      'KUBE-NODEPORTS',
      'KUBE-MARK-MASQ',
      'KUBE-SVC',
    ]);
    expect(port(t, 30001).masquerade).toBe('always');
    expect(sum(port(t, 30001).endpoints)).toBeCloseTo(1, 9);
  });

  it('reads KUBE-XLB for externalTrafficPolicy Local, with its endpoints and cluster chain', () => {
    const local = port(t, 30003);
    expect(kinds(t, 30003)).toEqual(['PREROUTING', 'KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-XLB']);
    expect(local.externalTrafficPolicyLocal).toBe(true);
    expect(local.endpoints.map((e) => e.endpoint)).toEqual(['198.19.1.12:8080']);
    expect(local.clusterIp?.path.at(-1)?.kind).toBe('KUBE-SVC');
  });

  it('still finds the service without endpoints', () => {
    expect(port(t, 30004).noEndpoints).toBe(true);
  });
});

describe('IPv6', () => {
  it('formats endpoints as [addr]:port (>= 1.24 layout)', () => {
    const t = analyzeFixture('iptables-v6-current.ip6tables-save.txt');
    expect(t.nodePorts.map((n) => [n.port, n.protocol])).toEqual(SAMPLE_PORTS);
    expect(port(t, 30001).endpoints.map((e) => e.endpoint)).toEqual([
      '[2001:2:0:101::a]:8080',
      '[2001:2:0:101::b]:8080',
      '[2001:2:0:102::a]:8080',
      '[2001:2:0:103::a]:8080',
    ]);
    expect(port(t, 30001).clusterIp?.address).toBe('2001:2:0:ff::10');
    expect(port(t, 30003).externalTrafficPolicyLocal).toBe(true);
  });

  it('reads the legacy layout too', () => {
    const t = analyzeFixture('iptables-v6-legacy.ip6tables-save.txt');
    expect(t.layout).toBe('legacy');
    expect(port(t, 30002, 'udp').endpoints.map((e) => e.endpoint)).toEqual([
      '[2001:2:0:102::b]:5353',
      '[2001:2:0:103::b]:5353',
    ]);
  });
});

describe('ipvs mode', () => {
  const t = analyzeFixture('ipvs-v4.iptables-save.txt', {
    ipset: 'ipvs-v4.ipset-list.txt',
    ipvs: 'ipvs-v4.ipvsadm-Ln.txt',
  });

  it('takes the NodePorts from the KUBE-NODE-PORT-* ipsets', () => {
    expect(t.mode).toBe('ipvs');
    expect(t.layout).toBe('unknown');
    expect(t.nodePorts.map((n) => [n.port, n.protocol])).toEqual(SAMPLE_PORTS);
  });

  it('walks PREROUTING -> KUBE-SERVICES -> KUBE-NODE-PORT -> KUBE-MARK-MASQ -> IPVS', () => {
    expect(kinds(t, 30001)).toEqual([
      'PREROUTING',
      'KUBE-SERVICES',
      'KUBE-NODE-PORT',
      'KUBE-MARK-MASQ',
      'IPVS',
    ]);
    expect(port(t, 30001).masquerade).toBe('always');
  });

  it('takes the endpoints from ipvsadm, with weight shares', () => {
    const web = port(t, 30001);
    expect(web.endpoints.map((e) => [e.endpoint, e.probability, e.weight])).toEqual([
      ['198.19.1.10:8080', 0.25, 1],
      ['198.19.1.11:8080', 0.25, 1],
      ['198.19.2.10:8080', 0.25, 1],
      ['198.19.3.10:8080', 0.25, 1],
    ]);
    expect(port(t, 30005, 'sctp').endpoints.map((e) => e.endpoint)).toEqual(['198.19.1.13:9000']);
    expect(port(t, 30002, 'udp').endpoints).toHaveLength(2);
  });

  it('marks -LOCAL- set members as externalTrafficPolicy Local without masquerade', () => {
    const local = port(t, 30003);
    expect(local.externalTrafficPolicyLocal).toBe(true);
    expect(local.masquerade).toBe('never');
    expect(kinds(t, 30003)).toEqual(['PREROUTING', 'KUBE-SERVICES', 'KUBE-NODE-PORT', 'IPVS']);
  });

  it('reports a virtual service without real servers as no endpoints', () => {
    expect(port(t, 30004).noEndpoints).toBe(true);
    expect(port(t, 30004).endpointsKnown).toBe(true);
  });

  it('says what is missing without ipvsadm or ipset output', () => {
    const noIpvs = analyzeFixture('ipvs-v4.iptables-save.txt', { ipset: 'ipvs-v4.ipset-list.txt' });
    expect(port(noIpvs, 30001).endpointsKnown).toBe(false);
    expect(port(noIpvs, 30001).noEndpoints).toBe(false);
    const noSets = analyzeFixture('ipvs-v4.iptables-save.txt');
    expect(noSets.nodePorts).toEqual([]);
    expect(noSets.warnings.join('\n')).toMatch(/ipset list/);
  });

  it('reads IPv6 ipvs mode with its KUBE-6- sets', () => {
    const v6 = analyzeFixture('ipvs-v6.ip6tables-save.txt', {
      ipset: 'ipvs-v6.ipset-list.txt',
      ipvs: 'ipvs-v6.ipvsadm-Ln.txt',
    });
    expect(v6.mode).toBe('ipvs');
    expect(v6.nodePorts.map((n) => [n.port, n.protocol])).toEqual(SAMPLE_PORTS);
    expect(port(v6, 30003).externalTrafficPolicyLocal).toBe(true);
    expect(port(v6, 30005, 'sctp').endpoints.map((e) => e.endpoint)).toEqual(['[2001:2:0:101::d]:9000']);
  });
});

describe('what stands in front of kube-proxy', () => {
  it('ignores Calico and flannel chains that cannot change a NodePort', () => {
    const t = analyzeFixture('iptables-v4-current-cni-noise.iptables-save.txt');
    expect(t.foreign).toEqual([]);
    expect(kinds(t, 30001)).toEqual([
      'PREROUTING',
      'KUBE-SERVICES',
      'KUBE-NODEPORTS',
      'KUBE-EXT',
      'KUBE-MARK-MASQ',
      'KUBE-SVC',
    ]);
    expect(t.kubeServicesJump?.position).toBe(2);
  });

  it('reports a foreign REDIRECT before kube-proxy, but not a DOCKER chain that only returns', () => {
    const t = analyzeFixture('iptables-v4-current-foreign-prerouting.iptables-save.txt');
    expect(t.foreign.map((f) => [f.position, f.effect, f.conditional])).toEqual([[1, 'redirect', true]]);
    // It redirects port 8080, which is no NodePort: no NodePort lists it.
    expect(t.nodePorts.every((n) => n.foreign.length === 0)).toBe(true);
  });

  it('puts the one-line REDIRECT guard on the walk of its NodePort only', () => {
    const t = analyzeFixture('iptables-v4-current-oneliner-guard.iptables-save.txt');
    const web = port(t, 30001);
    expect(web.foreign.map((f) => [f.position, f.effect, f.conditional])).toEqual([[1, 'redirect', true]]);
    expect(web.path.slice(0, 3).map((s) => [s.kind, s.chain])).toEqual([
      ['PREROUTING', 'PREROUTING'],
      ['foreign', 'PREROUTING'],
      ['KUBE-SERVICES', 'KUBE-SERVICES'],
    ]);
    expect(web.path[1]?.via?.source).toEqual({ value: '198.18.100.8/30', negated: true });
    expect(port(t, 30002, 'udp').foreign).toEqual([]);
    expect(port(t, 30007).foreign).toEqual([]);
  });

  it('sees the one-line guard in ipvs mode too', () => {
    const t = analyzeFixture('ipvs-v4-oneliner-guard.iptables-save.txt', {
      ipset: 'ipvs-v4-oneliner-guard.ipset-list.txt',
      ipvs: 'ipvs-v4-oneliner-guard.ipvsadm-Ln.txt',
    });
    expect(port(t, 30001).foreign.map((f) => f.effect)).toEqual(['redirect']);
    expect(kinds(t, 30001).slice(0, 3)).toEqual(['PREROUTING', 'foreign', 'KUBE-SERVICES']);
  });

  it('reads our NPG- guard chains in front of kube-proxy', () => {
    const t = analyzeFixture('iptables-v4-current-npg-guard.iptables-save.txt');
    expect(t.guard?.jumps.map((j) => j.position)).toEqual([1]);
    expect(t.guard?.beforeKubeServices).toBe(true);
    expect(t.foreign).toEqual([]);
    const web = port(t, 30001);
    expect(web.path.map((s) => s.chain).slice(0, 4)).toEqual([
      'PREROUTING',
      'NPG-PREROUTING',
      'NPG-TCP-30001',
      'KUBE-SERVICES',
    ]);
    expect(web.guard?.effective).toBe(true);
    expect(web.guard?.allow.map((a) => [a.source, a.label])).toEqual([
      ['198.18.100.8/30', 'office'],
      ['198.18.100.13/32', 'vpn'],
    ]);
    expect(web.guard?.block).toMatchObject({ action: 'redirect', toPort: 65535 });
    expect(port(t, 30002, 'udp').guard).toBeUndefined();
    expect(kinds(t, 30002, 'udp')[1]).toBe('KUBE-SERVICES');
  });
});

// Small tables in kube-proxy's exact format for what the fixtures do not show.
const HEAD = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-EXT-AAAA - [0:0]
:KUBE-SVC-AAAA - [0:0]
:KUBE-SEP-A1 - [0:0]
:KUBE-SEP-A2 - [0:0]
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-NODEPORTS -p tcp -m comment --comment "default/web:http" -m tcp --dport 30001 -j KUBE-EXT-AAAA
-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-AAAA
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-EXT-AAAA -m comment --comment "masquerade traffic for default/web:http external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-AAAA -j KUBE-SVC-AAAA
-A KUBE-SVC-AAAA -m comment --comment "default/web:http -> 10.244.1.5:8080" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-A1
-A KUBE-SVC-AAAA -m comment --comment "default/web:http -> 10.244.2.5:8080" -j KUBE-SEP-A2
-A KUBE-SEP-A1 -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.1.5:8080
-A KUBE-SEP-A2 -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.2.5:8080
`;

/** HEAD plus PREROUTING rules, extra chains and their rules. */
function inline(prerouting: string, chains: readonly string[] = [], rules = ''): Topology {
  const declarations = chains.map((c) => `:${c} - [0:0]\n`).join('');
  return analyzeText(
    `${HEAD.replace(':KUBE-MARK-MASQ', `${declarations}:KUBE-MARK-MASQ`)}${prerouting}\n${rules}\nCOMMIT\n`,
  );
}

describe('inline cases', () => {
  it('still yields ports and endpoints from a dump without comments', () => {
    const bare = HEAD.replace(/ -m comment --comment "[^"]*"/g, '');
    const t = analyzeText(`${bare}-A PREROUTING -j KUBE-SERVICES\nCOMMIT\n`);
    const web = port(t, 30001);
    expect(web.service).toBeUndefined();
    expect(web.endpoints.map((e) => [e.endpoint, e.probability])).toEqual([
      ['10.244.1.5:8080', 0.5],
      ['10.244.2.5:8080', 0.5],
    ]);
    expect(toInspectJson(t).nodePorts[0]?.service).toBeNull();
  });

  it('reports a jump to a foreign chain that DNATs the NodePort, with the rule that decides', () => {
    const t = inline(
      '-A PREROUTING -j MY-NAT\n-A PREROUTING -j KUBE-SERVICES',
      ['MY-NAT'],
      '-A MY-NAT -p tcp -m tcp --dport 30001 -j DNAT --to-destination 10.0.0.9:80',
    );
    expect(t.foreign.map((f) => [f.position, f.effect, f.conditional])).toEqual([[1, 'dnat', false]]);
    expect(t.foreign[0]?.decisive.map((r) => r.chain)).toEqual(['MY-NAT']);
    expect(kinds(t, 30001)[1]).toBe('foreign');
    expect(port(t, 30001).path[1]?.chain).toBe('MY-NAT');
  });

  it('leaves out a foreign DNAT chain that only touches other ports', () => {
    const t = inline(
      '-A PREROUTING -j MY-NAT\n-A PREROUTING -j KUBE-SERVICES',
      ['MY-NAT'],
      '-A MY-NAT -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.0.0.9:80',
    );
    expect(t.foreign).toHaveLength(1);
    expect(port(t, 30001).foreign).toEqual([]);
  });

  it('reports ACCEPT, RETURN and goto in front of kube-proxy: they skip it', () => {
    const t = inline(
      '-A PREROUTING -s 192.0.2.0/24 -j ACCEPT\n-A PREROUTING -p udp -j RETURN\n-A PREROUTING -g MY-CHAIN\n-A PREROUTING -j KUBE-SERVICES',
      ['MY-CHAIN'],
      '-A MY-CHAIN -j LOG',
    );
    expect(t.foreign.map((f) => [f.position, f.effect])).toEqual([
      [1, 'accept'],
      [2, 'return'],
      [3, 'goto'],
    ]);
    // The UDP RETURN cannot touch a TCP NodePort.
    expect(port(t, 30001).foreign.map((f) => f.effect)).toEqual(['accept', 'goto']);
  });

  it('ignores rules after kube-proxy jump and harmless targets before it', () => {
    const t = inline(
      '-A PREROUTING -j LOG\n-A PREROUTING -j MARK --set-xmark 0x1/0x1\n-A PREROUTING -j KUBE-SERVICES\n-A PREROUTING -j ACCEPT',
    );
    expect(t.foreign).toEqual([]);
  });

  it('marks a guard whose entry stands after kube-proxy jump as not effective', () => {
    const t = inline(
      '-A PREROUTING -j KUBE-SERVICES\n-A PREROUTING -m comment --comment "nodeport-guard: entry" -j NPG-PREROUTING',
      ['NPG-PREROUTING', 'NPG-TCP-30001'],
      `-A NPG-PREROUTING -p tcp -m tcp --dport 30001 -m addrtype --dst-type LOCAL -m comment --comment "nodeport-guard: default/web:http" -j NPG-TCP-30001
-A NPG-TCP-30001 -s 203.0.113.0/24 -m comment --comment "nodeport-guard: allow office" -j RETURN
-A NPG-TCP-30001 -p tcp -m comment --comment "nodeport-guard: block" -j REDIRECT --to-ports 65535`,
    );
    expect(t.guard?.beforeKubeServices).toBe(false);
    expect(port(t, 30001).guard?.effective).toBe(false);
    expect(kinds(t, 30001)[1]).toBe('KUBE-SERVICES');
    expect(t.warnings.join('\n')).toMatch(/after kube-proxy/);
  });

  it('notes a service chain whose probabilities leave connections without an endpoint', () => {
    const text = HEAD.replace(
      '-A KUBE-SVC-AAAA -m comment --comment "default/web:http -> 10.244.2.5:8080" -j KUBE-SEP-A2',
      '-A KUBE-SVC-AAAA -m comment --comment "default/web:http -> 10.244.2.5:8080" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-A2',
    );
    const web = port(analyzeText(`${text}-A PREROUTING -j KUBE-SERVICES\nCOMMIT\n`), 30001);
    expect(web.endpoints.map((e) => e.probability)).toEqual([0.5, 0.25]);
    expect(web.notes.join('\n')).toMatch(/25\.00% of connections run off the end/);
  });

  it('reports mode none for a table without kube-proxy', () => {
    const t = analyzeText(
      '*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 80 -j REDIRECT --to-ports 8080\nCOMMIT\n',
    );
    expect(t.mode).toBe('none');
    expect(t.nodePorts).toEqual([]);
    expect(t.foreign.map((f) => f.effect)).toEqual(['redirect']);
  });
});

describe('toInspectJson', () => {
  it('prints the CLI contract: mode, then nodePorts with port, protocol, service, endpoints first', () => {
    const json = toInspectJson(analyzeFixture('iptables-v4-current.iptables-save.txt'));
    expect(Object.keys(json).slice(0, 2)).toEqual(['mode', 'nodePorts']);
    expect(json.mode).toBe('iptables');
    for (const np of json.nodePorts) {
      expect(Object.keys(np).slice(0, 4)).toEqual(['port', 'protocol', 'service', 'endpoints']);
      expect([...np.endpoints].sort()).toEqual(np.endpoints);
    }
    expect(json.nodePorts[0]).toMatchObject({
      port: 30001,
      protocol: 'tcp',
      service: 'default/web:http',
      endpoints: ['198.19.1.10:8080', '198.19.1.11:8080', '198.19.2.10:8080', '198.19.3.10:8080'],
      externalTrafficPolicy: 'Cluster',
    });
    // Plain data: survives JSON unchanged.
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });
});

/** iptables-save prints the kernel's 31-bit fixed point: 1/3 comes back as 0.33333333349. */
function savedProbability(p: number): string {
  return (Math.round(p * 0x80000000) / 0x80000000).toFixed(11);
}

/** One NodePort with n endpoints in kube-proxy's >= 1.24 shape, as iptables-save prints it. */
function serviceWithEndpoints(n: number, comments: boolean): string {
  const c = (text: string) => (comments ? ` -m comment --comment "${text}"` : '');
  const decl = [
    ':KUBE-NODEPORTS - [0:0]',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-EXT-X - [0:0]',
    ':KUBE-SVC-X - [0:0]',
    ':KUBE-MARK-MASQ - [0:0]',
  ];
  const rules = [
    '-A PREROUTING -j KUBE-SERVICES',
    '-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
    `-A KUBE-NODEPORTS -p tcp${c('big/svc:http')} -m tcp --dport 31000 -j KUBE-EXT-X`,
    '-A KUBE-EXT-X -j KUBE-MARK-MASQ',
    '-A KUBE-EXT-X -j KUBE-SVC-X',
  ];
  for (let i = 0; i < n; i++) {
    const ep = `10.${(i >> 8) & 255}.${i & 255}.7:8080`;
    decl.push(`:KUBE-SEP-E${i} - [0:0]`);
    const stat =
      i < n - 1 ? ` -m statistic --mode random --probability ${savedProbability(1 / (n - i))}` : '';
    rules.push(`-A KUBE-SVC-X${c(`big/svc:http -> ${ep}`)}${stat} -j KUBE-SEP-E${i}`);
    rules.push(`-A KUBE-SEP-E${i} -p tcp${c('big/svc:http')} -m tcp -j DNAT --to-destination ${ep}`);
  }
  return `*nat\n:PREROUTING ACCEPT [0:0]\n${decl.join('\n')}\n${rules.join('\n')}\nCOMMIT\n`;
}

describe('many endpoints', () => {
  it('gives every endpoint about 1/n, summing to 1, with or without comments (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 80 }), fc.boolean(), (n, comments) => {
        const np = port(analyzeText(serviceWithEndpoints(n, comments)), 31000);
        expect(np.endpoints).toHaveLength(n);
        expect(sum(np.endpoints)).toBeCloseTo(1, 6);
        for (const e of np.endpoints) expect(e.probability).toBeCloseTo(1 / n, 6);
        expect(np.service).toBe(comments ? 'big/svc:http' : undefined);
        expect(np.notes).toEqual([]);
      }),
      { numRuns: 25 },
    );
  });

  it('reads a service with 1,500 endpoints (kube-proxy drops per-endpoint comments past 1,000)', () => {
    const np = port(analyzeText(serviceWithEndpoints(1500, false)), 31000);
    expect(np.endpoints).toHaveLength(1500);
    expect(sum(np.endpoints)).toBeCloseTo(1, 6);
    expect([...np.endpoints.map((e) => e.endpoint)].sort()).toEqual(np.endpoints.map((e) => e.endpoint));
  });
});

describe('every lab fixture', () => {
  // The lab's kube-proxy-shaped fixtures (the hand-written parser sources are other tools' rules).
  const dumps = fixtureNames(/^(iptables|ipvs|lab)-.*(iptables|kube-proxy-restore).*\.txt$/);

  it.each(dumps)('%s: finds kube-proxy and, in iptables mode, its NodePorts', (name) => {
    const ipvs = name.includes('ipvs');
    const base = name.split('.')[0] ?? '';
    const sets = ipvs
      ? fixtureNames(/\.ipset-list\.txt$/).find((f) => f === `${base}.ipset-list.txt`)
      : undefined;
    const t = analyzeFixture(name, sets ? { ipset: sets } : {});
    expect(t.mode).toBe(ipvs ? 'ipvs' : 'iptables');
    if (!ipvs || sets)
      expect(t.nodePorts.map((n) => n.port)).toEqual(expect.arrayContaining([30001, 30002, 30003, 30005]));
    for (const np of t.nodePorts) if (np.endpoints.length > 0) expect(sum(np.endpoints)).toBeCloseTo(1, 6);
  });
});

describe('real shapes once read wrong (e2e/lab/fixtures/corpus/README.md)', () => {
  /** The trap file's lines of one node, as that node's iptables-save would hold them. */
  function corpusLines(name: string, from: string, to?: string): string[] {
    const text = fixture(`corpus/${name}`);
    const start = text.indexOf(from);
    const end = to === undefined ? text.length : text.indexOf(to, start + 1);
    return text
      .slice(start, end)
      .split('\n')
      .filter((l) => l.startsWith('-A '));
  }

  it('a filter KUBE-EXTERNAL-SERVICES DROP for a load-balancer IP (-d, no addrtype LOCAL) is not a NodePort', () => {
    // AKS node vmss000002 (ETP Local, no local endpoint): the corpus lines, put in their tables.
    const lines = corpusLines(
      'trap-external-services-lb-ip.vijayrod-demo-aks.iptables-save-grep.txt',
      '# aks-npuser-11270689-vmss000002',
    );
    const filterLines = lines.filter(
      (l) => l.startsWith('-A KUBE-EXTERNAL-SERVICES ') || l.includes('health check node port'),
    );
    const natLines = lines.filter((l) => !filterLines.includes(l));
    const chains = (ls: string[]) =>
      [...new Set(ls.map((l) => l.split(' ')[1]!))].map((c) => `:${c} - [0:0]`);
    const dump = [
      '*filter',
      ':INPUT ACCEPT [0:0]',
      ...chains(filterLines),
      '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
      ...filterLines,
      'COMMIT',
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ...chains(natLines),
      ':KUBE-MARK-MASQ - [0:0]',
      '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
      ...natLines,
      'COMMIT',
      '',
    ].join('\n');
    const t = analyzeText(dump);
    // The corpus answer: one NodePort, tcp/32643, no local endpoint here; port 80 is the LB IP's.
    expect(t.nodePorts.map((n) => `${n.port}/${n.protocol}`)).toEqual(['32643/tcp']);
    expect(t.nodePorts[0]?.service).toBe('default/nginx');
    expect(t.nodePorts[0]?.noEndpoints).toBe(true);
  });

  it('old kube-proxy comments name an unnamed port "ns/name:" (trailing colon): the service is ns/name', () => {
    const t = analyzeText(
      fixture('corpus/trap-unnamed-port-trailing-colon.hwchiu-blog.iptables-save-grep.txt'),
    );
    expect(t.nodePorts.map((n) => [n.port, n.service])).toEqual([[30136, 'default/k8s-nginx-node']]);
    expect(t.nodePorts[0]?.endpoints.map((e) => e.endpoint)).toEqual([
      '10.244.0.113:80',
      '10.244.0.114:80',
      '10.244.0.115:80',
    ]);
  });
});

describe('ipvs mode with `ipvsadm -Ln` but no `ipset list`', () => {
  it('infers the NodePorts from the listing, the same ports and endpoints the ipsets give, and says so', () => {
    const dump = fixture('ipvs-v4.iptables-save.txt');
    const ipvs = fixture('ipvs-v4.ipvsadm-Ln.txt');
    const inferred = analyzeText(dump, { ipvs });
    const real = analyzeText(dump, { ipvs, ipset: fixture('ipvs-v4.ipset-list.txt') });
    const view = (t: Topology) =>
      t.nodePorts.map((n) => [n.port, n.protocol, n.endpoints.map((e) => e.endpoint)]);
    expect(real.nodePorts.length).toBeGreaterThan(0);
    expect(view(inferred)).toEqual(view(real));
    expect(inferred.warnings.join('\n')).toMatch(/NodePort\(s\) inferred from `ipvsadm -Ln`/);
    expect(inferred.nodePorts[0]?.notes.join('\n')).toMatch(/inferred from `ipvsadm -Ln`/);
    expect(real.warnings.join('\n')).not.toMatch(/inferred/);
  });

  it('the corpus listing: one NodePort 32470 on four node addresses, two endpoints at 1/2 (ClusterIP ports are not NodePorts)', () => {
    const t = analyzeText(fixture('ipvs-v4.iptables-save.txt'), {
      ipvs: fixture('corpus/trap-ipvsadm-Ln.lifalin0802-falin-repos.txt'),
    });
    expect(t.nodePorts.map((n) => [n.port, n.protocol])).toEqual([[32470, 'tcp']]);
    expect(t.nodePorts[0]?.endpoints.map((e) => [e.endpoint, e.probability])).toEqual([
      ['172.17.0.3:80', 0.5],
      ['172.17.0.4:80', 0.5],
    ]);
  });
});

describe('filter INPUT rules on a NodePort port (the mistake behind many incidents)', () => {
  /** A fixture with an admin's INPUT DROP of 30001 and a firewalld-style nested ACCEPT of a range. */
  function withInputRules(name: string): string {
    const text = fixture(name);
    const filterAt = text.indexOf('*filter\n');
    const commitAt = text.indexOf('\nCOMMIT', filterAt);
    return [
      text.slice(0, filterAt),
      '*filter\n:IN_public_allow - [0:0]\n',
      text.slice(filterAt + '*filter\n'.length, commitAt),
      '\n-A INPUT -p tcp -m tcp --dport 30001 -j DROP',
      '\n-A INPUT -j IN_public_allow',
      '\n-A IN_public_allow -p tcp -m multiport --dports 30006:30007 -m conntrack --ctstate NEW -j ACCEPT',
      text.slice(commitAt),
    ].join('');
  }
  const notesOf = (t: Topology, port: number) =>
    t.nodePorts.find((n) => n.port === port && n.protocol === 'tcp')?.notes.join('\n') ?? '';

  it('iptables mode: named on the port it touches, saying it never sees NodePort traffic and why', () => {
    const t = analyzeText(withInputRules('iptables-v4-current.iptables-save.txt'));
    expect(notesOf(t, 30001)).toMatch(
      /^filter INPUT rule `-A INPUT -p tcp -m tcp --dport 30001 -j DROP` \(DROP tcp\/30001\) never sees this NodePort's traffic: kube-proxy DNATs it in nat PREROUTING first/m,
    );
    expect(notesOf(t, 30006)).toMatch(/filter IN_public_allow rule .*\(ACCEPT tcp\/30006\) never sees/);
    expect(notesOf(t, 30007)).toMatch(/\(ACCEPT tcp\/30007\)/);
    expect(notesOf(t, 30003)).not.toMatch(/filter/);
    // UDP 30002 is not touched by a tcp rule.
    expect(t.nodePorts.find((n) => n.port === 30002)?.notes.join('\n') ?? '').not.toMatch(/filter INPUT/);
  });

  it('ipvs mode: the same rule takes effect (the packet is still for the node at filter INPUT)', () => {
    const t = analyzeText(withInputRules('ipvs-v4.iptables-save.txt'), {
      ipset: fixture('ipvs-v4.ipset-list.txt'),
      ipvs: fixture('ipvs-v4.ipvsadm-Ln.txt'),
    });
    expect(notesOf(t, 30001)).toMatch(/\(DROP tcp\/30001\) takes effect: in ipvs mode/);
  });

  it('a dump without such rules gets no note', () => {
    const t = analyzeText(fixture('iptables-v4-current.iptables-save.txt'));
    expect(t.nodePorts.flatMap((n) => n.notes).join('\n')).not.toMatch(/filter INPUT rule/);
  });
});
