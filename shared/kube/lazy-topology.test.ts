// The topology of a lazily parsed dump (rules answered from the text, see
// netfilter/lazy-rule.ts) is the topology of the eagerly parsed one: the same inspect JSON, the
// same walks with the same rules on them, on every lab fixture; and the rule facts the topology
// asks agree with the decoders on generated kube-proxy-like rules.
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findTable, parseIptablesSave, type Rule, type Ruleset, serializeRule } from '../netfilter';
import { analyzeTopology, parseIpsetList, type Topology, toInspectJson } from '.';
import { joinHostPort } from './host-port';
import {
  dnatDestination,
  dnatHostPort,
  hasConditions,
  protocolOf,
  randomProbability,
  singleDestinationPort,
} from './rule-facts';

const FIXTURES = new URL('../../e2e/lab/fixtures/', import.meta.url);
const dumps = readdirSync(FIXTURES).filter((f) => /ip6?tables-save/.test(f));

function parse(text: string, lazy: boolean): Ruleset {
  const r = parseIptablesSave(text, { fullRead: !lazy });
  if (!r.ok) throw new Error(r.error.message);
  return r.ruleset;
}

function analyze(rs: Ruleset, ipsetText: string | undefined): Topology {
  const filter = findTable(rs, 'filter');
  const ipsets = ipsetText === undefined ? undefined : parseIpsetList(ipsetText);
  return analyzeTopology({
    nat: findTable(rs, 'nat')!,
    ...(filter ? { filter } : {}),
    ...(ipsets?.ok ? { ipsets: ipsets.ipsets } : {}),
    backend: rs.backend,
    headerComments: rs.comments,
  });
}

/** Every rule the topology hands out, printed: the walks, endpoints, guard and foreign rules. */
function rulesOf(t: Topology): string[] {
  const out: string[] = [];
  const add = (r: Rule | undefined) => out.push(r ? `${r.line} ${serializeRule(r)}` : '-');
  for (const np of t.nodePorts) {
    for (const s of np.path) add(s.via);
    for (const e of np.endpoints) {
      add(e.via);
      add(e.dnat);
    }
    add(np.noEndpointsRule);
    for (const f of np.foreign) f.decisive.forEach(add);
    for (const a of np.guard?.allow ?? []) add(a.rule);
    add(np.guard?.block?.rule);
    for (const s of np.clusterIp?.path ?? []) add(s.via);
  }
  return out;
}

// Property tests parse hundreds of generated rules both ways: allow for a loaded machine.
describe('topology of the one parse against the full rule reader', { timeout: 30_000 }, () => {
  it.each(dumps)('%s: same as from the full rule reader', (file) => {
    const text = readFileSync(new URL(file, FIXTURES), 'utf8');
    const ipsetFile = file.replace(/\.ip6?tables-save.*$/, '.ipset-list.txt');
    const ipset = readdirSync(FIXTURES).includes(ipsetFile)
      ? readFileSync(new URL(ipsetFile, FIXTURES), 'utf8')
      : undefined;
    const eager = analyze(parse(text, false), ipset);
    const lazy = analyze(parse(text, true), ipset);
    expect(toInspectJson(lazy)).toEqual(toInspectJson(eager));
    expect(rulesOf(lazy)).toEqual(rulesOf(eager));
    expect(lazy.warnings).toEqual(eager.warnings);
  });

  const clause = fc.constantFrom(
    '-p tcp',
    '-p udp',
    '-p TCP',
    '! -p tcp',
    '-s 10.0.0.0/8',
    '! -d 10.96.0.10/32',
    '-m comment --comment "ns/svc:http"',
    '-m comment --comment "ns/svc:http cluster IP" --comment "x"',
    '-m tcp --dport 30001',
    '-m tcp --dport 030001',
    '-m udp --dport 30001:30005',
    '-m sctp ! --dport 22',
    '-m tcp --dport 80 --dport 81',
    '-m tcp --sport 1024 --dport 80',
    '-m tcp --sport x --dport 80',
    '-m tcp --tcp-flags SYN SYN',
    '-m statistic --mode random --probability 0.25',
    '-m statistic --mode random --probability 1.5',
    '-m statistic --mode random --probability 0.33333333349',
    '-m statistic --mode random --probability 0.12345678901234567',
    '-m statistic --mode random --probability 1',
    '-m statistic --mode random --probability 1.',
    '-m statistic --mode random --probability .5',
    '-m statistic --mode random --probability 1.00000',
    '-m statistic --mode random --probability 1e-1',
    '-m statistic --probability 0.5 --mode random',
    '-m statistic --mode random --probability " "',
    '-m statistic --mode nth --every 2 --packet 0',
    '-m addrtype --src-type LOCAL',
  );
  const target = fc.constantFrom(
    '',
    '-j KUBE-SEP-X',
    '-j DNAT --to-destination 10.244.1.5:8080',
    '-j DNAT --to-destination 10.244.1.5',
    '-j DNAT --to-destination [fd00::5]:8080',
    '-j DNAT --to-destination 10.244.1.5:80-90',
    '-j DNAT --to-destination 10.244.1.5-10.244.1.9:80',
    '-j DNAT --to-destination nonsense',
    '-j DNAT --to-destination 10.244.1.5:080',
    '-j DNAT --to-destination 10.244.1.5:0',
    '-j DNAT --to-destination 10.244.1.5:00',
    '-j DNAT --to-destination 10.244.1.5:99999',
    '-j DNAT --to-destination 10.244.1:80',
    '-j DNAT --to-destination 10.244.1.5:',
    '-j DNAT --to-destination :8080',
    '-j DNAT --to-destination 1000.2000.3000.4000:80',
    '-j DNAT --to-destination 10.0.0.1:80 --persistent',
  );
  it('rule facts agree with the decoders on generated rules', () => {
    fc.assert(
      fc.property(fc.array(clause, { maxLength: 4 }), target, (clauses, t) => {
        const text = `*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SEP-X - [0:0]\n[0:0] -A PREROUTING ${[...clauses, t].join(' ')}\nCOMMIT\n`;
        const eager = parseIptablesSave(text, { fullRead: true });
        const lazy = parseIptablesSave(text);
        if (!eager.ok || !lazy.ok) {
          expect(lazy.ok).toBe(eager.ok);
          return;
        }
        const e = eager.ruleset.tables[0]!.chains[0]!.rules[0]!;
        const l = lazy.ruleset.tables[0]!.chains[0]!.rules[0]!;
        expect(protocolOf(l)).toBe(protocolOf(e));
        expect(singleDestinationPort(l)).toBe(singleDestinationPort(e));
        expect(randomProbability(l)).toBe(randomProbability(e));
        expect(dnatDestination(l)).toEqual(dnatDestination(e));
        // The endpoint string: the value as written, where it is what joinHostPort makes.
        const written = dnatHostPort(l);
        const decoded = dnatDestination(e);
        expect(written && (written.hostPort ?? joinHostPort(written.address, written.port))).toBe(
          decoded && joinHostPort(decoded.address, decoded.port),
        );
        expect(hasConditions(l)).toBe(hasConditions(e));
      }),
      { numRuns: 2000 },
    );
  });
});
