// The nftables corpus (e2e/lab/fixtures/corpus, answers read by hand in its README), through every
// reader that has the file: the `nft -f` / `nft list` text as published, the same ruleset as nft
// 1.0.6 printed it back (`nft -j` JSON, `nft -a list ruleset`) after loading it into a throwaway
// network namespace. Every form must give the same answer.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toInspectJson } from '../kube/inspect-json';
import type { NodePort, Topology } from '../kube/topology';
import { inspectNftDump } from './inspect-dump';

const CORPUS = new URL('../../e2e/lab/fixtures/corpus/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, CORPUS), 'utf8');

function topology(name: string): Topology {
  const r = inspectNftDump({ text: read(name), source: name, json: name.endsWith('.json') });
  if (!r.ok) throw new Error(r.message);
  return r.value.topology;
}

interface Answer {
  readonly port: number;
  readonly service: string;
  readonly etpLocal: boolean;
  /** endpoint -> share */
  readonly endpoints: Readonly<Record<string, number>>;
  readonly noEndpoints: boolean;
  readonly masquerade: NodePort['masquerade'];
  readonly clusterIp?: string;
  readonly sessionAffinity?: boolean;
}

function check(t: Topology, answers: readonly Answer[]): void {
  expect(t.mode).toBe('nftables');
  expect(t.nodePorts.map((n) => `${n.protocol}/${n.port}`)).toEqual(answers.map((a) => `tcp/${a.port}`));
  for (const a of answers) {
    const np = t.nodePorts.find((n) => n.port === a.port)!;
    expect(np.service).toBe(a.service);
    expect(np.externalTrafficPolicyLocal).toBe(a.etpLocal);
    expect(np.noEndpoints).toBe(a.noEndpoints);
    expect(np.endpointsKnown).toBe(true);
    expect(np.masquerade).toBe(a.masquerade);
    expect(Object.fromEntries(np.endpoints.map((e) => [e.endpoint, e.probability]))).toEqual(a.endpoints);
    if (a.clusterIp) expect(`${np.clusterIp?.address}:${np.clusterIp?.port}`).toBe(a.clusterIp);
    expect(np.sessionAffinity).toBe(a.sessionAffinity ?? false);
    // Path in nftables' own names; each step after the hook chain carries the rule that leads there.
    expect(np.path[0]).toMatchObject({ chain: 'nat-prerouting', kind: 'PREROUTING' });
    expect(np.path[0]!.text).toMatch(/^type nat hook prerouting priority /);
    expect(np.path[1]).toMatchObject({ chain: 'services', kind: 'KUBE-SERVICES', text: 'jump services' });
    for (const s of np.path) expect(s.via).toBeUndefined();
  }
}

const OVERALL: readonly Answer[] = [
  {
    port: 3001,
    service: 'ns2/svc2:p80',
    etpLocal: true,
    endpoints: {},
    noEndpoints: true,
    masquerade: 'conditional',
    clusterIp: '172.30.0.42:80',
  },
  {
    port: 3002,
    service: 'ns5/svc5:p80',
    etpLocal: false,
    endpoints: { '10.180.0.3:80': 1 },
    noEndpoints: false,
    masquerade: 'always',
    clusterIp: '172.30.0.45:80',
    sessionAffinity: true,
  },
  {
    port: 3003,
    service: 'ns3/svc3:p80',
    etpLocal: false,
    endpoints: { '10.180.0.3:80': 1 },
    noEndpoints: false,
    masquerade: 'always',
    clusterIp: '172.30.0.43:80',
  },
];

describe('corpus: kube-proxy TestOverallNFTablesRules', () => {
  it.each([
    'nftables-k8s-test-overall.nft-f.txt',
    'nftables-k8s-test-overall.nft-j.json',
    'nftables-k8s-test-overall.nft-a-list-ruleset.txt',
  ])('%s', (name) => {
    const t = topology(name);
    check(t, OVERALL);
    expect(t.warnings).toEqual([]);
    const local = t.nodePorts[0]!;
    // External clients are dropped in filter input; pods and the node itself short-circuit.
    expect(local.path.map((s) => s.chain)).toEqual([
      'nat-prerouting',
      'services',
      'external-42NFTM6N-ns2/svc2/tcp/p80',
      'filter-input',
      'nodeport-endpoints-check',
    ]);
    expect(local.path[3]!.table).toBe('filter');
    expect(local.notes.join('\n')).toMatch(/no-endpoint-nodeports tcp \. 3001 : drop/);
    expect(local.notes.join('\n')).toMatch(
      /short-circuited to service-42NFTM6N-ns2\/svc2\/tcp\/p80 \(10\.180\.0\.2:80\)/,
    );
    const cluster = t.nodePorts[2]!;
    expect(cluster.path.map((s) => [s.chain, s.kind])).toEqual([
      ['nat-prerouting', 'PREROUTING'],
      ['services', 'KUBE-SERVICES'],
      ['external-4AT6LBPK-ns3/svc3/tcp/p80', 'KUBE-EXT'],
      ['service-4AT6LBPK-ns3/svc3/tcp/p80', 'KUBE-SVC'],
    ]);
    expect(cluster.path[2]!.text).toMatch(/vmap @service-nodeports -> tcp \. 3003 : goto external-4AT6LBPK/);
    expect(cluster.endpoints[0]!.sepChain).toBe('endpoint-UEIP74TE-ns3/svc3/tcp/p80__10.180.0.3/80');
    expect(t.masquerade?.mark).toBe('0x4000/0x4000');
    expect(t.masquerade?.path.map((s) => s.chain)).toEqual(['nat-postrouting', 'masquerading']);
  });
});

describe('corpus: kube-proxy TestSyncProxyRulesRepeated, emptied endpoints', () => {
  it.each([
    'nftables-k8s-test-repeated-emptied-endpoints.nft-f.txt',
    'nftables-k8s-test-repeated-emptied-endpoints.nft-j.json',
  ])('%s: no NodePort, and the flushed chains of ns3/svc3 give no endpoint', (name) => {
    const t = topology(name);
    check(t, []);
    expect(JSON.stringify(toInspectJson(t))).not.toMatch(/10\.0\.3\./);
  });
});

describe('corpus: knftables IPv6 dump', () => {
  it.each(['nftables-knftables-test-ipv6.nft-f.txt', 'nftables-knftables-test-ipv6.nft-j.json'])(
    '%s',
    (name) => {
      const t = topology(name);
      check(t, [
        {
          port: 3001,
          // The element's comment is "test comment": the name comes from the chain.
          service: 'ns1/svc1:p80',
          etpLocal: false,
          endpoints: { '[fd00:10:180::1]:80': 0.5, '[fd00:10:180::2:1]:80': 0.5 },
          noEndpoints: false,
          masquerade: 'always',
          clusterIp: 'fd00:172:30::41:80',
        },
      ]);
      // The address comes from `dnat to`, not from the chain name's `fd00.10.180..2.1`.
      expect(t.nodePorts[0]!.endpoints.map((e) => e.address)).toEqual(['fd00:10:180::1', 'fd00:10:180::2:1']);
    },
  );
});

describe('corpus: k3s `nft list table ip kube-proxy`', () => {
  const nine = [
    '10.42.2.218',
    '10.42.4.201',
    '10.42.4.202',
    '10.42.4.203',
    '10.42.4.204',
    '10.42.4.205',
    '10.42.4.206',
    '10.42.4.207',
    '10.42.5.164',
  ];
  it.each(['nftables-k3s-riset.nft-list-table.txt', 'nftables-k3s-riset.nft-j.json'])('%s', (name) => {
    const t = topology(name);
    check(t, [
      {
        port: 30000,
        // Unnamed port: the chain name ends in `tcp/`.
        service: 'riset/hellopod-np-svc',
        etpLocal: false,
        endpoints: Object.fromEntries(nine.map((a) => [`${a}:8080`, 1 / 9])),
        noEndpoints: false,
        masquerade: 'always',
        clusterIp: '10.43.195.72:8000',
      },
    ]);
    // ClusterIP tcp 3001 of latency-extender-svc is no NodePort.
    expect(t.nodePorts.some((n) => n.port === 3001)).toBe(false);
    expect(t.nodePorts[0]!.path[0]!.text).toMatch(/priority dstnat \(-100\)|priority -100/);
  });
});

describe('corpus: iptables-nft trap', () => {
  it('KUBE-* chains in nft syntax are iptables mode: one line asking for iptables-save', () => {
    const name = 'trap-iptables-nft-kube-services.saifsust-devops.nft-list.txt';
    const r = inspectNftDump({ text: read(name), source: name, json: false });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message.split('\n')).toHaveLength(1);
    expect(r.message).toMatch(/iptables mode written through iptables-nft/);
    expect(r.message).toMatch(/iptables-save/);
  });
});

describe('both readers agree', () => {
  it.each([
    ['nftables-k8s-test-overall.nft-f.txt', 'nftables-k8s-test-overall.nft-j.json'],
    ['nftables-knftables-test-ipv6.nft-f.txt', 'nftables-knftables-test-ipv6.nft-j.json'],
    ['nftables-k3s-riset.nft-list-table.txt', 'nftables-k3s-riset.nft-j.json'],
  ])('%s and %s give the same inspect JSON', (text, json) => {
    expect(toInspectJson(topology(json))).toEqual(toInspectJson(topology(text)));
  });
});
