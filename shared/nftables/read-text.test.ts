// The text readers: `nft -f` input and `nft list` output into the model, the statements parsed
// into their typed form, and every bad input answered with one line naming the line.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { NftRuleset, NftStatement } from './model';
import { parseNftText } from './read';
import { parsePriority } from './read-text';
import { analyzeNftTopology } from './topology';

const CORPUS = new URL('../../e2e/lab/fixtures/corpus/', import.meta.url);
const corpus = (name: string): string => readFileSync(new URL(name, CORPUS), 'utf8');

function ok(text: string): NftRuleset {
  const r = parseNftText(text);
  if (!r.ok) throw new Error(`line ${r.error.line}: ${r.error.message} (${r.error.text})`);
  return r.ruleset;
}

function fails(text: string): { line: number; message: string; text: string } {
  const r = parseNftText(text);
  if (r.ok) throw new Error('expected a parse error');
  expect(r.error.message).not.toMatch(/\n/);
  return r.error;
}

const chainOf = (rs: NftRuleset, name: string) => rs.tables[0]!.chains.find((c) => c.name === name)!;
const setOf = (rs: NftRuleset, name: string) => rs.tables[0]!.sets.find((s) => s.name === name)!;

describe('nft -f input (kube-proxy test form)', () => {
  const rs = ok(corpus('nftables-k8s-test-overall.nft-f.txt'));

  it('reads the table, base chains and their priorities', () => {
    expect(rs.format).toBe('nft-f');
    expect(rs.tables.map((t) => `${t.family} ${t.name}`)).toEqual(['ip kube-proxy']);
    expect(rs.tables[0]!.comment).toBe('rules for kube-proxy');
    expect(chainOf(rs, 'nat-prerouting').base).toEqual({
      type: 'nat',
      hook: 'prerouting',
      priority: -100,
      priorityText: '-100',
    });
    expect(chainOf(rs, 'services').base).toBeUndefined();
    expect(chainOf(rs, 'reject-chain').comment).toBe(
      'helper for @no-endpoint-services / @no-endpoint-nodeports',
    );
  });

  it('reads sets and verdict maps with concatenated types, element comments and verdicts', () => {
    const nodeports = setOf(rs, 'service-nodeports');
    expect(nodeports).toMatchObject({
      kind: 'map',
      type: ['inet_proto', 'inet_service'],
      dataType: 'verdict',
    });
    expect(nodeports.elements.map((e) => e.key)).toEqual([
      ['tcp', '3001'],
      ['tcp', '3003'],
      ['tcp', '3002'],
    ]);
    expect(nodeports.elements[0]!.verdict).toEqual({
      kind: 'goto',
      target: 'external-42NFTM6N-ns2/svc2/tcp/p80',
    });
    expect(setOf(rs, 'no-endpoint-nodeports').elements).toEqual([
      { key: ['tcp', '3001'], comment: 'ns2/svc2:p80', verdict: { kind: 'drop' } },
    ]);
    expect(setOf(rs, 'service-ips').type).toEqual(['ipv4_addr', 'inet_proto', 'inet_service']);
    const affinity = setOf(rs, 'affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80');
    expect(affinity).toMatchObject({ kind: 'set', type: ['ipv4_addr'], flags: ['dynamic', 'timeout'] });
  });

  it('parses the statements kube-proxy writes', () => {
    const services = chainOf(rs, 'services').rules;
    expect(services[1]!.statements).toEqual<NftStatement[]>([
      {
        kind: 'match',
        left: { parts: ['ip daddr'] },
        op: '==',
        right: { kind: 'set', name: 'nodeport-ips' },
      },
      {
        kind: 'vmap',
        key: { parts: ['meta l4proto', 'th dport'] },
        map: { kind: 'named', name: 'service-nodeports' },
      },
    ]);
    expect(services[1]!.text).toBe('ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports');
    expect(services[1]!.line).toBe(51);
    const pick = chainOf(rs, 'service-LAUZTJTB-ns4/svc4/tcp/p80').rules[1]!.statements[0]!;
    expect(pick).toEqual({
      kind: 'vmap',
      key: { parts: ['numgen random mod 2'], numgen: { mode: 'random', mod: 2, offset: 0 } },
      map: {
        kind: 'anon',
        elements: [
          {
            key: ['0'],
            verdict: { kind: 'goto', target: 'endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80' },
          },
          {
            key: ['1'],
            verdict: { kind: 'goto', target: 'endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80' },
          },
        ],
      },
    });
    const dnat = chainOf(rs, 'endpoint-UEIP74TE-ns3/svc3/tcp/p80__10.180.0.3/80').rules[1]!.statements;
    expect(dnat[1]).toMatchObject({ kind: 'dnat', addr: '10.180.0.3', port: 80 });
    const ext = chainOf(rs, 'external-42NFTM6N-ns2/svc2/tcp/p80').rules;
    expect(ext[0]!.comment).toBe('short-circuit pod traffic');
    expect(ext[1]!.statements[0]).toEqual({
      kind: 'match',
      left: { parts: ['fib saddr type'] },
      op: '==',
      right: { kind: 'literal', text: 'local' },
    });
    expect(chainOf(rs, 'mark-for-masquerade').rules[0]!.statements).toEqual([
      { kind: 'mark-set', text: 'mark set mark or 0x4000' },
    ]);
    expect(chainOf(rs, 'masquerading').rules[0]!.statements).toEqual([
      {
        kind: 'match',
        left: { parts: ['meta mark and 0x4000'] },
        op: '==',
        right: { kind: 'literal', text: '0' },
      },
      { kind: 'verdict', verdict: { kind: 'return' } },
    ]);
    const firewall = chainOf(rs, 'firewall-HVFWP5L3-ns5/svc5/tcp/p80').rules[0]!.statements[0]!;
    expect(firewall).toMatchObject({
      op: '!=',
      right: { kind: 'anon', elements: [{ key: ['203.0.113.0/25'] }] },
    });
    const update = chainOf(rs, 'endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80').rules[1]!.statements[0]!;
    expect(update).toMatchObject({
      kind: 'set-update',
      set: 'affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80',
    });
  });

  it('flush chain, delete element and insert rule act as nft applies them', () => {
    const base = `add table ip t
add chain ip t c
add map ip t m { type inet_proto . inet_service : verdict ; }
add rule ip t c jump x
add rule ip t c drop
add element ip t m { tcp . 1 : drop, tcp . 2 : accept }
`;
    const rs2 = ok(`${base}flush chain ip t c
insert rule ip t c accept
add rule ip t c return
delete element ip t m { tcp . 1 }
`);
    expect(chainOf(rs2, 'c').rules.map((r) => r.text)).toEqual(['accept', 'return']);
    expect(setOf(rs2, 'm').elements).toEqual([{ key: ['tcp', '2'], verdict: { kind: 'accept' } }]);
    expect(ok(`${base}delete chain ip t c\n`).tables[0]!.chains).toEqual([]);
  });
});

describe('nft list output', () => {
  it('reads `nft list table` text as k3s printed it (named priorities, multi-line elements)', () => {
    const rs = ok(corpus('nftables-k3s-riset.nft-list-table.txt'));
    expect(rs.format).toBe('nft-list');
    expect(chainOf(rs, 'filter-prerouting').base).toEqual({
      type: 'filter',
      hook: 'prerouting',
      priority: -110,
      priorityText: 'dstnat - 10',
      policy: 'accept',
    });
    expect(chainOf(rs, 'nat-postrouting').base?.priority).toBe(100);
    expect(setOf(rs, 'cluster-ips').elements).toHaveLength(7);
    expect(setOf(rs, 'service-ips').elements).toHaveLength(9);
    expect(setOf(rs, 'no-endpoint-services').elements[1]).toEqual({
      key: ['10.43.21.102', 'tcp', '4318'],
      comment: 'riset/otelcol-opentelemetry-collector:otlp-http',
      verdict: { kind: 'goto', target: 'reject-chain' },
    });
    expect(chainOf(rs, 'masquerading').rules[0]!.statements[0]).toMatchObject({
      left: { parts: ['meta mark & 0x00004000'] },
      right: { text: '0x00000000' },
    });
    expect(chainOf(rs, 'mark-for-masquerade').rules[0]!.statements[0]!.kind).toBe('mark-set');
  });

  it('keeps `nft -a` handles on tables, chains, sets and rules', () => {
    const rs = ok(corpus('nftables-k8s-test-overall.nft-a-list-ruleset.txt'));
    expect(rs.tables[0]!.handle).toBe(1);
    expect(setOf(rs, 'cluster-ips').handle).toBe(1);
    const services = chainOf(rs, 'services');
    expect(services.handle).toBeGreaterThan(0);
    expect(services.rules.every((r) => r.handle !== undefined && r.handle > 0)).toBe(true);
    expect(services.rules[0]!.text).toBe('ip daddr . meta l4proto . th dport vmap @service-ips');
  });

  it('reads counters into the rule and the path step', () => {
    // Shaped as `nft list ruleset` prints kube-proxy's table when counters are on (hand-written).
    const rs = ok(`table ip kube-proxy {
	chain nat-prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		counter packets 42 bytes 2520 jump services
	}
	chain services {
		ip daddr @nodeport-ips counter packets 7 bytes 420 meta l4proto . th dport vmap @service-nodeports
	}
	set nodeport-ips {
		type ipv4_addr
		elements = { 198.18.0.2 }
	}
	map service-nodeports {
		type inet_proto . inet_service : verdict
		elements = { udp . 30002 counter packets 3 bytes 180 : goto service-AAAAAAAA-default/dns/udp/dns }
	}
	chain service-AAAAAAAA-default/dns/udp/dns {
		numgen random mod 2 offset 0 vmap { 0 : goto endpoint-B-x, 1 : goto endpoint-C-x }
	}
	chain endpoint-B-x {
		meta l4proto udp dnat to 198.19.0.5:53
	}
	chain endpoint-C-x {
		meta l4proto udp dnat to 198.19.0.6
	}
}
`);
    expect(chainOf(rs, 'nat-prerouting').rules[0]!.counters).toEqual({ packets: 42, bytes: 2520 });
    const t = analyzeNftTopology(rs.tables[0]!);
    const np = t.nodePorts[0]!;
    expect(`${np.protocol}/${np.port}`).toBe('udp/30002');
    expect(np.service).toBe('default/dns:dns');
    expect(np.path.map((s) => s.counters)).toEqual([
      undefined,
      { packets: 42, bytes: 2520 },
      { packets: 7, bytes: 420 },
    ]);
    expect(np.endpoints.map((e) => [e.endpoint, e.probability])).toEqual([
      ['198.19.0.5:53', 0.5],
      ['198.19.0.6', 0.5],
    ]);
    expect(np.externalTrafficPolicyLocal).toBe(false);
  });

  it('reads a chain pasted without its table', () => {
    const rs = ok('chain services {\n\tip daddr . meta l4proto . th dport vmap @service-ips\n}\n');
    expect(rs.tables[0]).toMatchObject({ family: 'ip', name: '' });
  });
});

describe('priorities', () => {
  it.each([
    ['dstnat', -100],
    ['dstnat - 10', -110],
    ['srcnat + 5', 105],
    ['-300', -300],
    ['filter', 0],
  ])('%s = %d', (text, n) => expect(parsePriority(text)).toBe(n));
  it('rejects unknown names', () => expect(parsePriority('nonsense')).toBeUndefined());
});

describe('bad input: one line with the line number', () => {
  it.each([
    ['table ip kube-proxy {\n\tchain services {\n\t\tjump services\n', 2, /not closed/],
    ['\nfoo bar\n', 2, /expected `table`, `chain` or an nft command .*found "foo"/],
    ['add table ip t\nadd rule ip t nowhere accept\n', 2, /chain nowhere is not declared/],
    ['add rule ip t c accept\n', 1, /table ip t is not declared/],
    ['table ip t {\n chain c {\n  comment "open\n }\n}\n', 3, /quoted string is not closed/],
    ['table ip t {\n chain c {\n  ip daddr 1.2.3.4 jump\n }\n}\n', 3, /`jump` without a chain name/],
    [
      'table ip t {\n chain c {\n  counter packets x bytes 1 accept\n }\n}\n',
      3,
      /counter.*packets is not a number/,
    ],
    [
      'table ip t {\n chain c {\n  type nat hook prerouting priority sideways; policy accept;\n }\n}\n',
      3,
      /priority "sideways"/,
    ],
    [
      'add table ip t\nadd map ip t m { type inet_proto : verdict ; }\nadd element ip t m { tcp : }\n',
      3,
      /`:` without a value/,
    ],
    ['add table ip t\nadd frobnicate ip t x\n', 2, /`add frobnicate`/],
  ])('%j', (text, line, message) => {
    const e = fails(text);
    expect(e.line).toBe(line);
    expect(e.message).toMatch(message);
  });

  it('bounds a line and the nesting of braces', () => {
    expect(fails(`table ip t { chain c { ${'x '.repeat(2_100_000)} } }`).message).toMatch(/line longer than/);
    expect(fails(`table ip t {\n chain c {\n  ip daddr ${'{ '.repeat(40)}\n }\n}\n`).message).toMatch(
      /nested too deep|not closed/,
    );
  });

  it('never throws on cut or mangled rulesets', () => {
    const text = corpus('nftables-k8s-test-overall.nft-f.txt');
    const list = corpus('nftables-k3s-riset.nft-list-table.txt');
    for (const source of [text, list]) {
      for (let cut = 0; cut < source.length; cut += 211) {
        for (const variant of [source.slice(0, cut), `${source.slice(0, cut)}{${source.slice(cut)}`]) {
          const r = parseNftText(variant);
          if (!r.ok) expect(r.error.message).not.toMatch(/\n/);
          else for (const t of r.ruleset.tables) analyzeNftTopology(t);
        }
      }
    }
  });
});
