// kube-proxy nftables mode against kube-proxy's own expectations: the proxier tests' expected
// rulesets (TestOverallNFTablesRules, TestSyncProxyRulesRepeated), knftables' IPv6 dump and a real
// k3s listing, all in e2e/lab/fixtures/corpus (see its README for where each comes from).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generateKubeProxyRules, sampleServices } from './index';
import { nftablesRuleset, nftChainsOf, renderNftDump, renderNftSync, staleChains } from './nftables';
import { hashAndTruncate, nftEndpointBase, nftServiceBase } from './nftables-names';
import type { KubeProxyOptions, ServiceEndpoint, ServicePortSpec } from './types';

const CORPUS = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'corpus');
const corpus = (file: string) => readFileSync(join(CORPUS, file), 'utf8');

/** kube-proxy's tests compare rulesets line by line, ignoring order, blank lines and # comments. */
const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .sort();

const ep = (ip: string, port = 80, node = 'other-node'): ServiceEndpoint => ({ ip, port, node });
const svc = (
  n: number,
  over: Partial<ServicePortSpec> & Pick<ServicePortSpec, 'endpoints'>,
): ServicePortSpec => ({
  namespace: `ns${n}`,
  name: `svc${n}`,
  portName: 'p80',
  protocol: 'tcp',
  clusterIP: `172.30.0.4${n}`,
  port: 80,
  ...over,
});

/** The fake node of pkg/proxy/nftables/proxier_test.go. */
const testNode = (services: ServicePortSpec[]): KubeProxyOptions => ({
  mode: 'nftables',
  family: 'ipv4',
  services,
  nodeName: 'test-node',
  nodeIp: '192.168.0.2',
  clusterCidr: '10.0.0.0/8',
  serviceCidr: '172.30.0.0/16',
});

describe('nftables chain names', () => {
  it('are kube-proxy hashes (vectors from the proxier tests and a real k3s node)', () => {
    const p80 = (n: number) => ({
      namespace: `ns${n}`,
      name: `svc${n}`,
      portName: 'p80',
      protocol: 'tcp' as const,
    });
    expect(nftServiceBase(p80(1))).toBe('ULMVA6XW-ns1/svc1/tcp/p80');
    expect(nftServiceBase(p80(2))).toBe('42NFTM6N-ns2/svc2/tcp/p80');
    expect(nftEndpointBase(p80(1), '10.180.0.1', 80)).toBe('5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
    expect(nftEndpointBase(p80(1), 'fd00:10:180::2:1', 80)).toBe(
      '2CRNCTTE-ns1/svc1/tcp/p80__fd00.10.180..2.1/80',
    );
    const unnamed = { namespace: 'riset', name: 'hellopod-np-svc', portName: '', protocol: 'tcp' as const };
    expect(nftServiceBase(unnamed)).toBe('P6J77WGM-riset/hellopod-np-svc/tcp/');
    expect(nftEndpointBase(unnamed, '10.42.2.218', 8080)).toBe(
      'VNXJG24O-riset/hellopod-np-svc/tcp/__10.42.2.218/8080',
    );
  });
  it('are cut to 240 characters with "..."', () => {
    const long = hashAndTruncate('x'.repeat(300));
    expect(long).toHaveLength(240);
    expect(long.endsWith('...')).toBe(true);
  });
});

describe('nftables mode: kube-proxy test expectations, line for line', () => {
  it('TestOverallNFTablesRules: the same ruleset', () => {
    const services = [
      svc(1, { endpoints: [ep('10.180.0.1')] }),
      svc(2, {
        externalIPs: ['192.168.99.22'],
        loadBalancerIPs: ['1.2.3.4'],
        nodePort: 3001,
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: 30000,
        endpoints: [ep('10.180.0.2')],
      }),
      svc(3, { nodePort: 3003, endpoints: [ep('10.180.0.3')] }),
      svc(4, { externalIPs: ['192.168.99.33'], endpoints: [ep('10.180.0.4'), ep('10.180.0.5')] }),
      svc(5, {
        loadBalancerIPs: ['5.6.7.8'],
        loadBalancerSourceRanges: ['203.0.113.0/25'],
        nodePort: 3002,
        sessionAffinityTimeoutSeconds: 10800,
        endpoints: [ep('10.180.0.3')],
      }),
      svc(6, { endpoints: [] }),
    ];
    const dump = renderNftDump(nftablesRuleset(testNode(services)));
    expect(lines(dump)).toEqual(lines(corpus('nftables-k8s-test-overall.nft-f.txt')));
  });

  it('TestSyncProxyRulesRepeated (emptied endpoints): the same ruleset, stale chains flushed', () => {
    const services = [
      svc(1, { endpoints: [ep('10.0.1.1')] }),
      svc(3, { endpoints: [] }),
      svc(4, { endpoints: [ep('10.0.4.1')] }),
    ];
    const before = nftablesRuleset(
      testNode([services[0]!, svc(3, { endpoints: [ep('10.0.3.2'), ep('10.0.3.3')] }), services[2]!]),
    );
    const after = nftablesRuleset(testNode(services));
    const existing = before.serviceChains.map((name) => ({ name, rules: 2 }));
    const stale = staleChains(existing, after.serviceChains);
    expect(stale.remove).toEqual([]);
    expect([...stale.flush].sort()).toEqual([
      'endpoint-SWWHDC7X-ns3/svc3/tcp/p80__10.0.3.2/80',
      'endpoint-TQ2QKHCZ-ns3/svc3/tcp/p80__10.0.3.3/80',
      'service-4AT6LBPK-ns3/svc3/tcp/p80',
    ]);
    expect(lines(renderNftDump(after, stale.flush))).toEqual(
      lines(corpus('nftables-k8s-test-repeated-emptied-endpoints.nft-f.txt')),
    );
    const sync = renderNftSync(after, { stale: stale.flush });
    for (const c of stale.flush) expect(sync).toContain(`flush chain ip kube-proxy ${c}\n`);
    // The next sync finds them empty and deletes them.
    const next = staleChains(
      stale.flush.map((name) => ({ name, rules: 0 })),
      after.serviceChains,
    );
    expect(next).toEqual({ flush: [], remove: stale.flush });
  });

  it('knftables IPv6 dump: the same statements for table ip6 kube-proxy', () => {
    const opts: KubeProxyOptions = {
      ...testNode([
        {
          namespace: 'ns1',
          name: 'svc1',
          portName: 'p80',
          protocol: 'tcp',
          clusterIP: 'fd00:172:30::41',
          port: 80,
          nodePort: 3001,
          endpoints: [ep('fd00:10:180::1'), ep('fd00:10:180::2:1')],
        },
      ]),
      family: 'ipv6',
      nodeIp: '2001:db8::1',
      clusterCidr: 'fd00:10::/64',
      serviceCidr: 'fd00:10:96::/112',
    };
    const mine = new Set(lines(renderNftDump(nftablesRuleset(opts))));
    // That dump has the older filter chains (filter-prerouting, filter-output-post-dnat, -110/-90),
    // a second nodeport IP, "test comment"s, and `tcp dport 80` in the ClusterIP masquerade rule,
    // which kube-proxy has dropped since; everything else must be there as it is.
    const older = /filter-(prerouting|input|forward|output)|2001:db8:1::2/;
    const theirs = lines(corpus('nftables-knftables-test-ipv6.nft-f.txt'))
      .filter((l) => !older.test(l))
      .map((l) => l.replace(' comment "test comment"', '').replace(' tcp dport 80 ip6 saddr', ' ip6 saddr'));
    expect(theirs.filter((l) => !mine.has(l))).toEqual([]);
    expect(theirs.length).toBeGreaterThan(40);
  });

  it('a real k3s node: the same chains and rule bodies for a NodePort service on an unnamed port', () => {
    const listing = corpus('nftables-k3s-riset.nft-list-table.txt');
    const ips = [
      '10.42.2.218',
      ...[201, 202, 203, 204, 205, 206, 207].map((n) => `10.42.4.${n}`),
      '10.42.5.164',
    ];
    const r = nftablesRuleset({
      ...testNode([
        {
          namespace: 'riset',
          name: 'hellopod-np-svc',
          portName: '',
          protocol: 'tcp',
          clusterIP: '10.43.195.72',
          port: 8000,
          nodePort: 30000,
          endpoints: ips.map((ip) => ep(ip, 8080)),
        },
      ]),
      nodeIp: '10.34.4.246',
      clusterCidr: '10.42.0.0/16',
    });
    // `nft list` prints `{ a, b }` where nft -f input has `{ a , b }`; the older kube-proxy on that
    // node still matched `tcp dport` in the ClusterIP rule.
    const listed = listing.split('\n').map((l) => l.trim());
    const body = (chain: string) => {
      const start = listed.indexOf(`chain ${chain} {`);
      if (start < 0) return [];
      const end = listed.indexOf('}', start);
      return listed.slice(start + 1, end).map((l) => l.replace(' tcp dport 8000', ''));
    };
    const mine = (chain: string) =>
      r.statements
        .filter((l) => l.startsWith(`add rule ip kube-proxy ${chain} `))
        .map((l) => l.slice(`add rule ip kube-proxy ${chain} `.length).replaceAll(' , ', ', '));
    expect(r.serviceChains).toHaveLength(11);
    for (const chain of r.serviceChains) {
      expect(body(chain).length, chain).toBeGreaterThan(0);
      expect(mine(chain), chain).toEqual(body(chain));
    }
    expect(r.statements).toContain(
      'add element ip kube-proxy service-nodeports { tcp . 30000 : goto external-P6J77WGM-riset/hellopod-np-svc/tcp/ }',
    );
  });
});

describe('nftables mode: the lab services', () => {
  const opts = (node: string): KubeProxyOptions => ({
    mode: 'nftables',
    family: 'ipv4',
    services: sampleServices('ipv4', 3),
    nodeName: node,
    nodeIp: '198.18.0.11',
    clusterCidr: '198.19.0.0/17',
    serviceCidr: '198.19.128.0/20',
  });
  const r = nftablesRuleset(opts('node1'));
  const text = r.statements.join('\n');

  it('balances web over its 4 endpoints with numgen and DNATs in endpoint chains', () => {
    expect(text).toMatch(
      /add rule ip kube-proxy service-\w{8}-default\/web\/tcp\/http numgen random mod 4 vmap \{ 0 : goto endpoint-\w{8}-default\/web\/tcp\/http__198\.19\.1\.10\/8080 , 1 : goto /,
    );
    expect(text).toMatch(
      /add rule ip kube-proxy endpoint-\w{8}-default\/web\/tcp\/http__198\.19\.2\.10\/8080 meta l4proto tcp dnat to 198\.19\.2\.10:8080/,
    );
    expect(text).toContain('add element ip kube-proxy service-nodeports { udp . 30002 : goto external-');
  });
  it('sends externalTrafficPolicy Local to the local chain, and rejects the empty service', () => {
    const local = r.statements.filter((l) => l.includes('default/local-web/'));
    expect(
      local.some((l) => /local-\w{8}-default\/local-web\/tcp\/http numgen random mod 1 vmap/.test(l)),
    ).toBe(true);
    expect(local.some((l) => /external-\S+ goto local-/.test(l))).toBe(true);
    expect(text).toContain(
      'add element ip kube-proxy no-endpoint-nodeports { tcp . 30004 comment "default/empty:http" : goto reject-chain }',
    );
    expect(text).toContain('add rule ip kube-proxy firewall-');
  });
  it('drops NodePort traffic for ETP Local on a node without a local pod (none here: one pod per node)', () => {
    const far = nftablesRuleset({
      ...opts('node9'),
      services: sampleServices('ipv4', 3).filter((s) => s.name === 'local-web'),
    });
    expect(far.statements).toContain(
      'add element ip kube-proxy no-endpoint-nodeports { tcp . 30003 comment "default/local-web:http" : drop }',
    );
  });
  it('one sync is one transaction: flushes what it owns, re-creates base chains on a restart', () => {
    const sync = renderNftSync(r, { restart: true });
    expect(sync.split('\n')[0]).toBe('add table ip kube-proxy { comment "rules for kube-proxy" ; }');
    expect(sync).toContain(
      'add chain ip kube-proxy nat-prerouting\ndelete chain ip kube-proxy nat-prerouting\n',
    );
    expect(sync).toContain(
      'add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }\nflush chain ip kube-proxy nat-prerouting\n',
    );
    expect(sync).toContain('flush map ip kube-proxy service-nodeports\n');
    expect(renderNftSync(r)).not.toContain('delete chain');
  });
  it('generateKubeProxyRules carries the table and no kube-proxy iptables rules in this mode', () => {
    const rules = generateKubeProxyRules(opts('node1'));
    expect(rules.nft).toContain('add table ip kube-proxy');
    expect(rules.sync).toBe('');
    expect(rules.nat).not.toContain('KUBE-SERVICES');
    expect(rules.filter).toContain('-A INPUT -j KUBE-FIREWALL');
  });
  it('reads chains and rule counts from nft -j', () => {
    const json = JSON.stringify({
      nftables: [
        { metainfo: { json_schema_version: 1 } },
        { table: { family: 'ip', name: 'kube-proxy' } },
        { chain: { family: 'ip', table: 'kube-proxy', name: 'services' } },
        { chain: { family: 'ip', table: 'kube-proxy', name: 'service-X-a/b/tcp/p' } },
        { rule: { family: 'ip', table: 'kube-proxy', chain: 'services', expr: [] } },
      ],
    });
    expect(nftChainsOf(json)).toEqual([
      { name: 'services', rules: 1 },
      { name: 'service-X-a/b/tcp/p', rules: 0 },
    ]);
  });
});
