// The nft tracer over real rulesets: kube-proxy's own test expectations and a k3s node's listing
// (e2e/lab/fixtures/corpus, hand-read answers in its README), and lab nodes with our guard table
// loaded into a real nft (./fixtures, answers in its README). Text and JSON forms must agree.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { NftRuleset } from '../../nftables/model';
import { parseNftRuleset, parseNftText } from '../../nftables/read';
import { fixture } from '../../test-support/dumps';
import type { Packet } from '../types';
import { branchReason } from './explain';
import type { NftTrace } from './types';
import { traceNftPacket } from './walk';

const corpus = (name: string) => fixture(`corpus/${name}`);
const own = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

function rulesetOf(text: string): NftRuleset {
  const r = parseNftRuleset(text);
  if (!r.ok) throw new Error(`parse failed: line ${r.error.line}: ${r.error.message}`);
  return r.ruleset;
}

const NODE = '198.18.0.11';
const NODE6 = '2001:2::11';

function trace(
  ruleset: NftRuleset,
  p: Partial<Packet> & { src: string },
  local: readonly string[] = [p.dst ?? NODE],
): NftTrace {
  return traceNftPacket({
    ruleset,
    packet: { dst: NODE, protocol: 'tcp', dport: 30001, ...p },
    localAddresses: local,
  });
}

/** Each outcome as `kind target share`, shares rounded. */
const outcomes = (t: NftTrace) =>
  t.outcomes.map((o) => {
    const v = o.verdict;
    const what =
      v.kind === 'dnat'
        ? v.destination
        : v.kind === 'redirect'
          ? `:${v.toPort} ${v.rule.family} ${v.rule.table} ${v.rule.chain} #${v.rule.position}`
          : v.kind === 'drop' && v.by === 'rule'
            ? `${v.reject ? 'reject' : 'drop'} ${v.rule.chain}`
            : v.kind === 'unknown'
              ? v.reason
              : v.by;
    return `${v.kind} ${what} ${Number(o.probability.toFixed(4))}`;
  });
const total = (t: NftTrace) => t.branches.reduce((a, b) => a + b.probability, 0);

describe('kube-proxy nftables mode, a real k3s node (corpus)', () => {
  const NINE = [
    '10.42.2.218',
    '10.42.4.201',
    '10.42.4.202',
    '10.42.4.203',
    '10.42.4.204',
    '10.42.4.205',
    '10.42.4.206',
    '10.42.4.207',
    '10.42.5.164',
  ].map((a) => `dnat ${a}:8080 0.1111`);

  for (const name of ['nftables-k3s-riset.nft-list-table.txt', 'nftables-k3s-riset.nft-j.json']) {
    it(`spreads NodePort 30000 over its nine endpoints, 1/9 each (${name})`, () => {
      const t = trace(rulesetOf(corpus(name)), { src: '198.18.100.99', dst: '10.34.4.246', dport: 30000 });
      expect(t.summary).toBe('dnat');
      expect(outcomes(t)).toEqual(NINE);
      expect(total(t)).toBeCloseTo(1, 12);
      const hops = t.branches.find(
        (b) => b.verdict.kind === 'dnat' && b.verdict.address === '10.42.2.218',
      )!.hops;
      expect(hops.map((h) => `${h.chain}#${h.position} ${h.action}`)).toEqual([
        'filter-prerouting#1 jump',
        'nat-prerouting#1 jump',
        'services#2 goto',
        'external-P6J77WGM-riset/hellopod-np-svc/tcp/#1 jump',
        'mark-for-masquerade#1 mark',
        'external-P6J77WGM-riset/hellopod-np-svc/tcp/#2 goto',
        'service-P6J77WGM-riset/hellopod-np-svc/tcp/#2 goto',
        'endpoint-VNXJG24O-riset/hellopod-np-svc/tcp/__10.42.2.218/8080#2 verdict',
      ]);
      expect(hops[6]?.probability).toBeCloseTo(1 / 9, 12);
      expect(t.branches[0]?.notes.join('\n')).toMatch(/mark-for-masquerade/);
      expect(t.branches[0]?.mark).toEqual({ value: 0x4000, known: 0x4000 });
    });
  }

  it('leaves ClusterIP port 3001 alone when it arrives on the node address: not a NodePort', () => {
    const t = trace(rulesetOf(corpus('nftables-k3s-riset.nft-j.json')), {
      src: '198.18.100.99',
      dst: '10.34.4.246',
      dport: 3001,
    });
    expect(outcomes(t)).toEqual(['accept policy 1']);
    expect(branchReason(t.branches[0]!)).toMatch(/not a NodePort/);
  });
});

describe("kube-proxy nftables mode, kube-proxy's own expected rulesets (corpus)", () => {
  const forms = [
    'nftables-k8s-test-overall.nft-f.txt',
    'nftables-k8s-test-overall.nft-j.json',
    'nftables-k8s-test-overall.nft-a-list-ruleset.txt',
  ];
  const node = '192.168.0.2';
  for (const name of forms) {
    describe(name, () => {
      const rs = rulesetOf(corpus(name));
      const at = (dst: string, dport: number) =>
        outcomes(trace(rs, { src: '198.18.100.99', dst, dport }, [node]));

      it('NodePort 3003 (eTP Cluster) reaches 10.180.0.3:80, 3002 (affinity) too', () => {
        expect(at(node, 3003)).toEqual(['dnat 10.180.0.3:80 1']);
        expect(at(node, 3002)).toEqual(['dnat 10.180.0.3:80 1']);
      });

      it('NodePort 3001 (eTP Local, no endpoint here) is dropped by nodeport-endpoints-check', () => {
        const t = trace(rs, { src: '198.18.100.99', dst: node, dport: 3001 }, [node]);
        expect(outcomes(t)).toEqual(['drop drop nodeport-endpoints-check 1']);
        expect(branchReason(t.branches[0]!)).toMatch(/no endpoints/);
      });

      it('port 3005 is not a NodePort: unchanged', () => {
        expect(at(node, 3005)).toEqual(['accept policy 1']);
      });

      it('ClusterIPs: served, no endpoints (rejected on forward), unallocated (dropped)', () => {
        expect(at('172.30.0.41', 80)).toEqual(['dnat 10.180.0.1:80 1']);
        expect(at('172.30.0.44', 80)).toEqual(['dnat 10.180.0.4:80 0.5', 'dnat 10.180.0.5:80 0.5']);
        expect(at('172.30.0.46', 80)).toEqual(['drop reject reject-chain 1']);
        expect(at('172.30.9.9', 80)).toEqual(['drop drop cluster-ips-check 1']);
      });
    });
  }
});

describe('IPv6 (knftables test dump, corpus)', () => {
  for (const name of ['nftables-knftables-test-ipv6.nft-f.txt', 'nftables-knftables-test-ipv6.nft-j.json']) {
    it(`NodePort 3001 on either node address reaches both endpoints, 1/2 each (${name})`, () => {
      const rs = rulesetOf(corpus(name));
      for (const dst of ['2001:db8::1', '2001:db8:1::2']) {
        const t = trace(rs, { src: '2001:2::9', dst, dport: 3001 });
        expect(outcomes(t)).toEqual(['dnat [fd00:10:180::1]:80 0.5', 'dnat [fd00:10:180::2:1]:80 0.5']);
      }
    });
  }

  it('an IPv4 packet meets no chain of an ip6-only ruleset', () => {
    const t = trace(rulesetOf(corpus('nftables-knftables-test-ipv6.nft-j.json')), { src: '198.18.100.9' });
    expect(t.summary).toBe('unknown');
    expect(outcomes(t)[0]).toMatch(/no ipv4 base chain hooks prerouting/);
  });
});

describe('our guard table in front of kube-proxy (lab node, real nft listing)', () => {
  const WEB4 = ['198.19.1.10', '198.19.1.11', '198.19.2.10', '198.19.3.10'].map((a) => `dnat ${a}:8080 0.25`);
  const WEB6 = ['2001:2:0:101::a', '2001:2:0:101::b', '2001:2:0:102::a', '2001:2:0:103::a'].map(
    (a) => `dnat [${a}]:8080 0.25`,
  );
  const local = [NODE, NODE6];

  for (const name of ['lab-node1.nft-list-ruleset.txt', 'lab-node1.nft-j.json']) {
    describe(name, () => {
      const rs = rulesetOf(own(name));
      const at = (src: string, dport = 30001, protocol: Packet['protocol'] = 'tcp') =>
        outcomes(trace(rs, { src, dst: src.includes(':') ? NODE6 : NODE, dport, protocol }, local));

      it('an allowed source reaches a pod, 1/4 each (a prefix and a single host of the set)', () => {
        expect(at('198.18.100.10')).toEqual(WEB4);
        expect(at('198.18.102.7')).toEqual(WEB4);
        expect(at('2001:2::100:10')).toEqual(WEB6);
      });

      it('a blocked source is redirected to :65535 by our rule, IPv4 and IPv6 each by their own', () => {
        expect(at('198.18.101.10')).toEqual(['redirect :65535 inet nodeport-guard prerouting #1 1']);
        expect(at('198.18.102.8')).toEqual(['redirect :65535 inet nodeport-guard prerouting #1 1']);
        expect(at('2001:2::101:10')).toEqual(['redirect :65535 inet nodeport-guard prerouting #2 1']);
        const t = trace(rs, { src: '198.18.101.10' }, local);
        expect(t.branches[0]?.hops.map((h) => `${h.chain}#${h.position} ${h.action}`)).toEqual([
          'filter-prerouting-pre-dnat#1 jump',
          'inet nodeport-guard prerouting#1 verdict',
        ]);
        expect(branchReason(t.branches[0]!)).toMatch(/our guard/);
      });

      it("someone else's nat chain at -120 runs before ours and kube-proxy's", () => {
        expect(at('198.18.103.10')).toEqual(['dnat 198.19.9.9:8080 1']);
      });

      it('an audit rule counts and lets the packet on; other ports are not guarded', () => {
        expect(at('198.18.101.10', 30002, 'udp')).toEqual([
          'dnat 198.19.2.11:5353 0.5',
          'dnat 198.19.3.11:5353 0.5',
        ]);
        expect(at('198.18.101.10', 30006)).toEqual([
          'dnat 198.19.1.14:8080 0.5',
          'dnat 198.19.2.13:8080 0.5',
        ]);
      });

      it('a NodePort without endpoints is rejected by kube-proxy; eTP Local keeps to this node', () => {
        expect(at('198.18.100.10', 30004)).toEqual(['drop reject reject-chain 1']);
        expect(at('2001:2::100:10', 30004)).toEqual(['drop reject reject-chain 1']);
        expect(at('198.18.101.10', 30003)).toEqual(['dnat 198.19.1.12:8080 1']);
      });

      it('a port that is not a NodePort is left unchanged', () => {
        expect(at('198.18.101.10', 30099)).toEqual(['accept policy 1']);
      });

      it('a packet to an address that is not the node is not guarded (fib daddr type local)', () => {
        const t = trace(rs, { src: '198.18.101.10', dst: '198.18.0.12' }, local);
        expect(t.summary).toBe('accept');
      });
    });
  }

  it('the guard at dstnat + 10 guards nothing: kube-proxy has DNATed the packet already', () => {
    const rs = rulesetOf(own('lab-node1-guard-late.nft-j.json'));
    expect(outcomes(trace(rs, { src: '198.18.101.10' }, local))).toEqual(WEB4);
    expect(outcomes(trace(rs, { src: '2001:2::101:10', dst: NODE6 }, local))).toEqual(WEB6);
  });
});

describe('hook order, verdicts and limits (small rulesets)', () => {
  const rs = (text: string) => {
    const r = parseNftText(text);
    if (!r.ok) throw new Error(r.error.message);
    return r.ruleset;
  };

  // Both orders below were checked with real packets in network namespaces (counters of rules like
  // these): a filter chain at -110 saw the packet before a nat chain at -120 did; a nat chain's
  // accept let the next nat chain see it, its redirect did not.
  it('runs filter chains at their priority and nat chains inside the NAT hook, by priority among them', () => {
    const t = trace(
      rs(`table inet a {
  chain nat-late { type nat hook prerouting priority -100; policy accept; counter }
  chain nat-early { type nat hook prerouting priority -120; policy accept; counter }
  chain filter-before { type filter hook prerouting priority -110; policy accept; counter }
  chain filter-after { type filter hook prerouting priority -90; policy accept; counter }
}`),
      { src: '198.18.100.1' },
    );
    expect(t.branches[0]?.hops.map((h) => h.rule.chain)).toEqual([
      'filter-before',
      'nat-early',
      'nat-late',
      'filter-after',
    ]);
    expect(t.summary).toBe('accept');
  });

  it('a nat chain that accepts lets the next nat chain run; one that redirects ends the walk', () => {
    const r = rs(`table ip t {
  chain a { type nat hook prerouting priority -120; policy accept;
    tcp dport 30001 counter accept comment "a accepts"
    tcp dport 30002 counter redirect to :30009 comment "a redirects"
  }
  chain b { type nat hook prerouting priority -100; policy accept;
    tcp dport { 30001, 30002 } counter comment "b saw it"
  }
}`);
    const a = trace(r, { src: '198.18.100.1', dport: 30001 });
    expect(a.branches[0]?.hops.map((h) => `${h.rule.chain}#${h.position} ${h.action}`)).toEqual([
      'a#1 verdict',
      'b#1 continue',
    ]);
    expect(outcomes(trace(r, { src: '198.18.100.1', dport: 30002 }))).toEqual([
      'redirect :30009 ip t a #2 1',
    ]);
  });

  it('warns where two chains of one hook have the same priority: their order is not defined', () => {
    const t = trace(
      rs(`table ip nat { chain PREROUTING { type nat hook prerouting priority dstnat; policy accept; } }
table ip kube-proxy { chain nat-prerouting { type nat hook prerouting priority dstnat; policy accept; } }`),
      { src: '198.18.100.1' },
    );
    expect(t.warnings).toEqual([
      "table ip nat chain PREROUTING and table ip kube-proxy chain nat-prerouting hook prerouting at the same priority (-100): which runs first is not defined; walked in the dump's order",
    ]);
  });

  it('accept ends one base chain only; a policy drop ends the walk', () => {
    const t = trace(
      rs(`table ip a {
  chain one { type nat hook prerouting priority -110; policy accept; accept; redirect to :1 }
  chain two { type nat hook prerouting priority -100; policy drop; }
}`),
      { src: '198.18.100.1' },
    );
    expect(t.outcomes.map((o) => o.verdict)).toEqual([{ kind: 'drop', by: 'policy', chain: 'ip a two' }]);
  });

  it('numgen shares that no element takes fall through to the next rule', () => {
    const t = trace(
      rs(`table ip a {
  chain p { type nat hook prerouting priority -100; policy accept;
    numgen random mod 3 vmap { 0 : goto x, 1 : goto y }
    dnat to 198.19.0.3
  }
  chain x { dnat to 198.19.0.1:80 }
  chain y { dnat to 198.19.0.2 }
}`),
      { src: '198.18.100.1' },
    );
    expect(outcomes(t)).toEqual([
      'dnat 198.19.0.1:80 0.3333',
      'dnat 198.19.0.2:30001 0.3333',
      'dnat 198.19.0.3:30001 0.3333',
    ]);
    expect(total(t)).toBeCloseTo(1, 12);
  });

  it('jump returns, goto does not; a mark set on the way is tested later', () => {
    const t = trace(
      rs(`table ip a {
  chain p { type nat hook prerouting priority -100; policy accept;
    goto g
    redirect to :2
  }
  chain g { jump m; meta mark & 0x00004000 == 0x00004000 redirect to :1 }
  chain m { mark set mark or 0x4000; return }
}`),
      { src: '198.18.100.1' },
    );
    expect(outcomes(t)).toEqual(['redirect :1 ip a g #2 1']);
    expect(t.branches[0]?.mark).toEqual({ value: 0x4000, known: 0x4000 });
  });

  it('says what it cannot tell, and where, rather than guess', () => {
    const loop = trace(
      rs(`table ip a {
  chain p { type nat hook prerouting priority -100; policy accept; jump q }
  chain q { jump p2 }
  chain p2 { jump q }
}`),
      { src: '198.18.100.1' },
    );
    expect(outcomes(loop)).toEqual(['unknown chain loop at q 1']);
    const gotoLoop = trace(
      rs(`table ip a {
  chain p { type nat hook prerouting priority -100; policy accept; goto q }
  chain q { goto r }
  chain r { goto q }
}`),
      { src: '198.18.100.1' },
    );
    expect(outcomes(gotoLoop)).toEqual(['unknown chain loop: more than 1024 chains entered 1']);
    const sport = trace(
      rs(
        `table ip a { chain p { type nat hook prerouting priority -100; policy accept; tcp sport 1024 redirect } }`,
      ),
      { src: '198.18.100.1' },
    );
    expect(sport.summary).toBe('unknown');
    expect(outcomes(sport)[0]).toMatch(/source port is not given/);
    const unmodelled = trace(
      rs(
        `table ip a { chain p { type nat hook prerouting priority -100; policy accept; limit rate 10/second redirect } }`,
      ),
      { src: '198.18.100.1' },
    );
    expect(unmodelled.outcomes[0]?.verdict).toMatchObject({ kind: 'unknown', chain: 'ip a p' });
  });

  it('refuses a packet it cannot read, in one line', () => {
    const r = rs('table ip a { chain p { type nat hook prerouting priority -100; } }');
    expect(outcomes(trace(r, { src: 'not-an-ip' }))).toEqual([
      'unknown source not-an-ip is not an IP address 1',
    ]);
    expect(outcomes(trace(r, { src: '2001:2::1' }))).toEqual([
      'unknown source and destination are of different IP families 1',
    ]);
  });
});
