// The walk on shapes the corpus has no real sample of, written by hand after kube-proxy's
// nftables proxier (pkg/proxy/nftables/proxier.go): ETP Local with local endpoints (`goto local-…`),
// a NodePort whose service has no endpoint at all (only in no-endpoint-nodeports, rejected), the
// older `fib daddr type local … vmap @service-nodeports` rule and a `nodeports` chain, and a
// ruleset with both families.
import { describe, expect, it } from 'vitest';
import { inspectNftDump } from './inspect-dump';
import { parseNftText } from './read';
import { analyzeNftTopology } from './topology';

const HEAD = `add table ip kube-proxy
add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }
add chain ip kube-proxy filter-input { type filter hook input priority -110 ; }
add chain ip kube-proxy services
add chain ip kube-proxy nodeport-endpoints-check
add chain ip kube-proxy mark-for-masquerade
add chain ip kube-proxy reject-chain
add set ip kube-proxy nodeport-ips { type ipv4_addr ; }
add map ip kube-proxy service-nodeports { type inet_proto . inet_service : verdict ; }
add map ip kube-proxy no-endpoint-nodeports { type inet_proto . inet_service : verdict ; }
add rule ip kube-proxy nat-prerouting jump services
add rule ip kube-proxy filter-input ct state new jump nodeport-endpoints-check
add rule ip kube-proxy nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports
add rule ip kube-proxy mark-for-masquerade mark set mark or 0x4000
add rule ip kube-proxy reject-chain reject
`;

function topo(text: string) {
  const r = parseNftText(text);
  if (!r.ok) throw new Error(`line ${r.error.line}: ${r.error.message}`);
  return analyzeNftTopology(r.ruleset.tables[0]!);
}

describe('ETP Local and services without endpoints', () => {
  const t =
    topo(`${HEAD}add rule ip kube-proxy services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports
add chain ip kube-proxy service-AAAAAAAA-web/shop/tcp/http
add chain ip kube-proxy local-AAAAAAAA-web/shop/tcp/http
add chain ip kube-proxy external-AAAAAAAA-web/shop/tcp/http
add chain ip kube-proxy endpoint-BBBBBBBB-web/shop/tcp/http__198.19.1.10/8080
add chain ip kube-proxy endpoint-CCCCCCCC-web/shop/tcp/http__198.19.2.10/8080
add rule ip kube-proxy external-AAAAAAAA-web/shop/tcp/http ip saddr 198.19.0.0/16 goto service-AAAAAAAA-web/shop/tcp/http comment "short-circuit pod traffic"
add rule ip kube-proxy external-AAAAAAAA-web/shop/tcp/http fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"
add rule ip kube-proxy external-AAAAAAAA-web/shop/tcp/http fib saddr type local goto service-AAAAAAAA-web/shop/tcp/http comment "short-circuit local traffic"
add rule ip kube-proxy external-AAAAAAAA-web/shop/tcp/http goto local-AAAAAAAA-web/shop/tcp/http
add rule ip kube-proxy service-AAAAAAAA-web/shop/tcp/http numgen random mod 2 vmap { 0 : goto endpoint-BBBBBBBB-web/shop/tcp/http__198.19.1.10/8080 , 1 : goto endpoint-CCCCCCCC-web/shop/tcp/http__198.19.2.10/8080 }
add rule ip kube-proxy local-AAAAAAAA-web/shop/tcp/http numgen random mod 1 vmap { 0 : goto endpoint-BBBBBBBB-web/shop/tcp/http__198.19.1.10/8080 }
add rule ip kube-proxy endpoint-BBBBBBBB-web/shop/tcp/http__198.19.1.10/8080 meta l4proto tcp dnat to 198.19.1.10:8080
add rule ip kube-proxy endpoint-CCCCCCCC-web/shop/tcp/http__198.19.2.10/8080 meta l4proto tcp dnat to 198.19.2.10:8080
add element ip kube-proxy service-nodeports { tcp . 30001 : goto external-AAAAAAAA-web/shop/tcp/http }
add element ip kube-proxy no-endpoint-nodeports { udp . 30053 comment "web/empty:dns" : goto reject-chain }
`);

  it('ETP Local goes to the local chain and its endpoints only', () => {
    const np = t.nodePorts.find((n) => n.port === 30001)!;
    expect(np.externalTrafficPolicyLocal).toBe(true);
    expect(np.masquerade).toBe('conditional');
    expect(np.path.map((s) => [s.chain, s.kind])).toEqual([
      ['nat-prerouting', 'PREROUTING'],
      ['services', 'KUBE-SERVICES'],
      ['external-AAAAAAAA-web/shop/tcp/http', 'KUBE-EXT'],
      ['local-AAAAAAAA-web/shop/tcp/http', 'KUBE-SVL'],
    ]);
    expect(np.path[3]!.text).toBe('goto local-AAAAAAAA-web/shop/tcp/http');
    expect(np.endpoints.map((e) => [e.endpoint, e.probability])).toEqual([['198.19.1.10:8080', 1]]);
    expect(np.noEndpoints).toBe(false);
  });

  it('a NodePort only in no-endpoint-nodeports is rejected, named from the element comment', () => {
    const np = t.nodePorts.find((n) => n.port === 30053)!;
    expect(np).toMatchObject({ protocol: 'udp', service: 'web/empty:dns', noEndpoints: true, endpoints: [] });
    expect(np.path.map((s) => s.chain)).toEqual([
      'nat-prerouting',
      'services',
      'filter-input',
      'nodeport-endpoints-check',
    ]);
    expect(np.notes[0]).toMatch(/udp \. 30053 : goto reject-chain \(rejected\)/);
  });

  it('sorts by port then protocol', () => {
    expect(t.nodePorts.map((n) => n.port)).toEqual([30001, 30053]);
  });
});

describe('other layouts of the NodePort lookup', () => {
  const svc = `add chain ip kube-proxy service-AAAAAAAA-a/b/tcp/
add chain ip kube-proxy endpoint-BBBBBBBB-a/b/tcp/__198.19.1.10/80
add rule ip kube-proxy service-AAAAAAAA-a/b/tcp/ numgen random mod 1 vmap { 0 : goto endpoint-BBBBBBBB-a/b/tcp/__198.19.1.10/80 }
add rule ip kube-proxy endpoint-BBBBBBBB-a/b/tcp/__198.19.1.10/80 meta l4proto tcp dnat to 198.19.1.10:80
add element ip kube-proxy service-nodeports { tcp . 30080 : goto service-AAAAAAAA-a/b/tcp/ }
`;
  it('`fib daddr type local ... vmap @service-nodeports` in services', () => {
    const t = topo(
      `${HEAD}add rule ip kube-proxy services fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports\n${svc}`,
    );
    const np = t.nodePorts[0]!;
    expect(np).toMatchObject({ port: 30080, service: 'a/b', externalTrafficPolicyLocal: false });
    expect(np.path.map((s) => s.chain)).toEqual(['nat-prerouting', 'services', 'service-AAAAAAAA-a/b/tcp/']);
    expect(np.endpoints.map((e) => e.endpoint)).toEqual(['198.19.1.10:80']);
  });

  it('a `nodeports` chain between services and the map', () => {
    const t = topo(`${HEAD}add chain ip kube-proxy nodeports
add rule ip kube-proxy services fib daddr type local jump nodeports
add rule ip kube-proxy nodeports meta l4proto . th dport vmap @service-nodeports
${svc}`);
    expect(t.nodePorts[0]!.path.map((s) => [s.chain, s.kind])).toEqual([
      ['nat-prerouting', 'PREROUTING'],
      ['services', 'KUBE-SERVICES'],
      ['nodeports', 'KUBE-NODEPORTS'],
      ['service-AAAAAAAA-a/b/tcp/', 'KUBE-SVC'],
    ]);
  });

  it('says so when nothing in nat prerouting looks the map up', () => {
    const t = topo(`${HEAD}${svc}`);
    expect(t.nodePorts).toEqual([]);
    expect(t.warnings.join('\n')).toMatch(/no chain reached from nat prerouting looks up @service-nodeports/);
  });
});

describe('both families in one ruleset', () => {
  const v4 =
    'table ip kube-proxy {\n\tchain nat-prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t}\n}\n';
  const v6 = v4.replace('table ip ', 'table ip6 ');
  it('shows IPv4 by default and says that IPv6 is there too', () => {
    const r = inspectNftDump({ text: v6 + v4, source: 'rs', json: false });
    if (!r.ok) throw new Error(r.message);
    expect(r.value.family).toBe('ipv4');
    expect(r.value.topology.warnings).toContain(
      'this ruleset also has table ip6 kube-proxy: shown here is table ip kube-proxy only',
    );
  });
  it('shows IPv6 when asked', () => {
    const r = inspectNftDump({ text: v6 + v4, source: 'rs', json: false, family: 'ipv6' });
    expect(r.ok && r.value.family).toBe('ipv6');
  });
  it('a ruleset without kube-proxy says which tables it has', () => {
    const r = inspectNftDump({ text: 'table inet filter {\n}\n', source: 'rs', json: false });
    expect(r.ok ? '' : r.message).toBe(
      'rs: no kube-proxy nftables table (table ip kube-proxy or ip6 kube-proxy) in this ruleset (tables: inet filter)',
    );
  });
});

describe('other tables that meet NodePort traffic', () => {
  it('names nat prerouting chains of other tables and where they run', () => {
    const text = `${HEAD}table inet nodeport-guard {
	chain prerouting {
		type nat hook prerouting priority dstnat - 10; policy accept;
	}
}
table ip nat {
	chain PREROUTING {
		type nat hook prerouting priority dstnat; policy accept;
		jump KUBE-SERVICES
	}
	chain KUBE-SERVICES {
	}
}
`;
    const r = inspectNftDump({ text, source: 'rs', json: false });
    if (!r.ok) throw new Error(r.message);
    expect(r.value.topology.warnings.slice(-3)).toEqual([
      "table inet nodeport-guard chain prerouting hooks nat prerouting at priority -110, before kube-proxy's (-100): it sees NodePort traffic first",
      "table ip nat chain PREROUTING hooks nat prerouting at priority -100, the same as kube-proxy's: which runs first is not defined",
      "table ip nat also has kube-proxy's iptables-mode chains (KUBE-SERVICES): left over from a mode switch, or a second proxy",
    ]);
  });
});
