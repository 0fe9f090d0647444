import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeTopology, parseIpsetList } from '../../shared/kube/index.js';
import { findTable } from '../../shared/netfilter/index.js';
import { fixture, fixtureNames, parseOk } from '../../shared/test-support/dumps.js';
import { tracePacket } from '../../shared/trace/index.js';
import { traceDump, traceNftListings, traceView } from './trace.js';

const read = fixture;
function natOf(text: string) {
  return findTable(parseOk(text).ruleset, 'nat')!;
}

const DUMPS = fixtureNames(/\.ip6?tables-save(-t-nat)?\.txt$/);

const SOURCES = {
  v4: ['198.18.100.13', '198.18.100.9', '198.18.5.5', '198.19.1.10', '127.0.0.1'],
  v6: ['2001:2:0:100::1', '2001:2:0:101::a', '2001:2:0:200::7'],
};

/** Packets for a dump: every NodePort on the node's address, and ClusterIPs named in the dump. */
function packets(text: string, v6: boolean) {
  const nat = natOf(text);
  const ports = analyzeTopology({ nat }).nodePorts.map((n) => ({ dport: n.port, protocol: n.protocol }));
  const node = v6 ? '2001:2::b' : '198.18.0.11';
  const clusterIps = [...text.matchAll(v6 ? /-d (2001:2:[0-9a-f:]+)\/128/g : /-d (198\.1[89]\.[\d.]+)\/32/g)]
    .map((m) => m[1]!)
    .slice(0, 3);
  const out: { src: string; dst: string; dport: number; protocol: 'tcp' | 'udp' | 'sctp' }[] = [];
  for (const src of v6 ? SOURCES.v6 : SOURCES.v4) {
    for (const p of ports) out.push({ src, dst: node, ...p });
    for (const dst of clusterIps) out.push({ src, dst, dport: 80, protocol: 'tcp' });
    out.push({ src, dst: node, dport: 1, protocol: 'udp' });
  }
  return out;
}

describe('traceDump (lazy parse, no topology)', () => {
  /** Verdicts met over all fixtures: the packets must reach DNATs and guard REDIRECTs, not only fall through. */
  const seen = new Set<string>();

  it('has fixtures to compare', () => {
    expect(DUMPS.length).toBeGreaterThanOrEqual(8);
  });

  for (const name of DUMPS) {
    it(`answers what a full parse answers: ${name}`, () => {
      const text = read(name);
      const v6 = name.includes('ip6tables');
      const ipsetName = name.replace(/\.ip6?tables-save(-t-nat)?\.txt$/, '.ipset-list.txt');
      const ipsetText = fixtureNames(/\.ipset-list\.txt$/).includes(ipsetName) ? read(ipsetName) : undefined;
      const full = natOf(text);
      const list = packets(text, v6);
      expect(list.length).toBeGreaterThan(0);
      for (const p of list) {
        const got = traceDump({
          dump: {
            text,
            source: name,
            ...(ipsetText ? { ipsets: { text: ipsetText, source: ipsetName } } : {}),
          },
          ...p,
          localAddresses: [p.dst],
        });
        if (!got.ok) throw new Error(got.message);
        const parsedSets = ipsetText ? parseIpsetList(ipsetText) : undefined;
        const ipsets = parsedSets?.ok ? parsedSets.ipsets : undefined;
        const want = tracePacket({
          nat: full,
          packet: p,
          localAddresses: [p.dst],
          ...(ipsets ? { ipsets } : {}),
        });
        expect(got.value.view, `${p.src} -> ${p.dst}:${p.dport}/${p.protocol}`).toEqual(traceView(want));
        expect(got.value.trace.summary).toBe(want.summary);
        expect(got.value.trace.warnings).toEqual(want.warnings);
        for (const o of got.value.view.outcomes) seen.add(o.verdict);
      }
    });
  }

  it('met DNAT, REDIRECT and unchanged verdicts over the fixtures', () => {
    expect([...seen]).toEqual(expect.arrayContaining(['dnat', 'redirect', 'unchanged']));
  });
});

describe('traceDump on an nft ruleset (kube-proxy nftables mode, our guard table)', () => {
  const NFT_FIXTURES = new URL('../../shared/trace/nft/fixtures/', import.meta.url);
  const labJson = readFileSync(new URL('lab-node1.nft-j.json', NFT_FIXTURES), 'utf8');
  const labText = readFileSync(new URL('lab-node1.nft-list-ruleset.txt', NFT_FIXTURES), 'utf8');
  const node = '198.18.0.11';
  const on = (text: string, src: string, dport = 30001, dst = node) => {
    const r = traceDump({
      dump: { text, source: 'node1.json' },
      src,
      dst,
      dport,
      protocol: 'tcp',
      localAddresses: [dst],
    });
    if (!r.ok) throw new Error(r.message);
    return r.value;
  };

  it('an allowed source reaches one of four pods, as the iptables walk words it', () => {
    for (const text of [labJson, labText]) {
      const { view, trace } = on(text, '198.18.100.10');
      expect(trace.summary).toBe('dnat');
      expect(view.outcomes.map((o) => [o.verdict, o.probability, o.detail])).toEqual(
        ['198.19.1.10', '198.19.1.11', '198.19.2.10', '198.19.3.10'].map((a) => [
          'dnat',
          0.25,
          `DNAT to ${a}:8080`,
        ]),
      );
      expect(view.outcomes[0]?.hops.map((h) => h.chain)).toEqual([
        'filter-prerouting-pre-dnat',
        'nat-prerouting',
        'services',
        'external-SUSTUHLJ-default/web/tcp/http',
        'mark-for-masquerade',
        'external-SUSTUHLJ-default/web/tcp/http',
        'service-SUSTUHLJ-default/web/tcp/http',
        'endpoint-U4EE7EBH-default/web/tcp/http__198.19.1.10/8080',
      ]);
    }
  });

  it('a blocked source: redirected by our guard, naming the rule', () => {
    const { view } = on(labJson, '198.18.101.10');
    expect(view.outcomes).toHaveLength(1);
    expect(view.outcomes[0]).toMatchObject({ verdict: 'redirect', probability: 1 });
    expect(view.outcomes[0]?.detail).toBe(
      'REDIRECT to local port 65535 by table inet nodeport-guard chain prerouting rule 1: ' +
        'tcp dport 30001 fib daddr type local ip saddr != @allow-tcp-30001-v4 counter redirect to :65535 ' +
        'comment "nodeport-guard: default/web:http": our guard blocks it: the source is not in the allow-list',
    );
    expect(view.outcomes[0]?.hops.map((h) => h.chain)).toEqual([
      'filter-prerouting-pre-dnat',
      'inet nodeport-guard prerouting',
    ]);
  });

  it("a DNAT by someone else's chain before ours names that rule; kube-proxy's DNATs need no name", () => {
    const { view } = on(labText, '198.18.103.10');
    expect(view.outcomes.map((o) => o.detail)).toEqual([
      'DNAT to 198.19.9.9:8080 by table ip foreign-dnat chain pre rule 1: ip saddr 198.18.103.0/24 ' +
        `tcp dport 30001 counter dnat to 198.19.9.9:8080 comment "someone else's rule"`,
    ]);
  });

  it('a NodePort without endpoints: rejected by kube-proxy, and why; a port that is none: unchanged', () => {
    const rejected = on(labText, '198.18.100.10', 30004).view.outcomes;
    expect(rejected.map((o) => o.verdict)).toEqual(['drop']);
    expect(rejected[0]?.detail).toBe(
      'rejected by table ip kube-proxy chain reject-chain rule 1: reject: ' +
        "the NodePort has no endpoints for this traffic (kube-proxy's @no-endpoint-nodeports)",
    );
    const none = on(labText, '198.18.100.10', 30099).view.outcomes;
    expect(none.map((o) => [o.verdict, o.detail])).toEqual([
      [
        'unchanged',
        "no rule rewrote it: it goes to the node itself, unchanged: not a NodePort: kube-proxy's @service-nodeports has no entry for it",
      ],
    ]);
  });

  it('reads the listings a node read makes, one table each, as one ruleset', () => {
    const all = JSON.parse(labJson) as {
      nftables: Record<string, { family?: string; table?: string; name?: string }>[];
    };
    const listing = (family: string, name: string) =>
      JSON.stringify({
        nftables: all.nftables.filter((o) => {
          const body = Object.values(o)[0]!;
          return 'metainfo' in o || (body.family === family && (body.table ?? body.name) === name);
        }),
      });
    const r = traceNftListings({
      listings: [
        { text: listing('ip', 'kube-proxy'), source: 'node1 nft -j list table ip kube-proxy' },
        { text: listing('inet', 'nodeport-guard'), source: 'node1 nft -j list table inet nodeport-guard' },
      ],
      src: '198.18.101.10',
      dst: node,
      dport: 30001,
      protocol: 'tcp',
      localAddresses: [node],
    });
    expect(r.ok && r.value.view.outcomes.map((o) => o.verdict)).toEqual(['redirect']);
  });

  it('bad input is one line naming the source; text from the node is shown escaped', () => {
    const bad = traceDump({
      dump: { text: '{"nftables": [{"rule": {}}]}', source: 'node1.json' },
      src: '198.18.100.10',
      dst: node,
      dport: 30001,
      protocol: 'tcp',
      localAddresses: [node],
    });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.message).toMatch(/^node1\.json: [^\n]+$/);
    const withTable = traceDump({
      dump: { text: labText, source: 'node1.txt', table: 'nat' },
      src: '198.18.100.10',
      dst: node,
      dport: 30001,
      protocol: 'tcp',
      localAddresses: [node],
    });
    expect(withTable).toEqual({
      ok: false,
      message: 'node1.txt: --table goes with iptables-save dumps, not nft rulesets',
    });
    const evil = `table inet nodeport-guard {
  chain prerouting {
    type nat hook prerouting priority -110; policy accept;
    tcp dport 30001 redirect to :65535 comment "\u202eevil\u001b[2J"
  }
}
`;
    const { view } = on(evil, '198.18.101.10');
    expect(view.outcomes[0]?.detail).not.toMatch(/[\u202e\u001b]/);
    expect(view.outcomes[0]?.detail).toContain('\\u202eevil\\x1b[2J');
  });
});
