// The parse's fast line reading (rule-check.ts, LazyRule) against the full rule reader it stands in
// for (`{fullRead: true}`, the test oracle), which decodes every line at once: on every real
// fixture and on generated rule lines (well- and ill-formed) both give the same result or the same
// error, every rule reads the same field by field, and the text facts the topology asks for
// (target, modules, destination, comment) agree with the decoded rule.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixture, fixtureNames } from '../test-support/dumps.js';
import { ruleComment } from './decode.js';
import { LazyRule } from './lazy-rule.js';
import type { Rule, Ruleset } from './model.js';
import { type ParseResult, parseIptablesSave } from './parse.js';
import { ruleDestination, ruleHasModule, ruleTargetName } from './rule-view.js';
import { serializeRuleset } from './serialize.js';

const fixtures = fixtureNames(/\.txt$/)
  .filter((f) => /ip6?tables|kube-proxy-restore|grep/.test(f))
  .map((f) => [f, fixture(f)] as const);

/** Every field of a rule as a plain object (a LazyRule's fields are getters). */
function plain(r: Rule): unknown {
  return {
    chain: r.chain,
    counters: r.counters,
    protocol: r.protocol,
    source: r.source,
    destination: r.destination,
    inInterface: r.inInterface,
    outInterface: r.outInterface,
    fragment: r.fragment,
    matches: r.matches,
    target: r.target,
    line: r.line,
  };
}

function plainRuleset(rs: Ruleset): unknown {
  return {
    ...rs,
    tables: rs.tables.map((t) => ({
      ...t,
      chains: t.chains.map((c) => ({ ...c, rules: c.rules.map(plain) })),
    })),
  };
}

const MODULES = ['recent', 'statistic', 'addrtype', 'set', 'comment', 'tcp', 'mark'];

/** The facts read from the text equal the same questions asked of the decoded rule. */
function expectFactsAgree(lazy: Rule, eager: Rule): void {
  expect(ruleTargetName(lazy)).toBe(eager.target?.name);
  expect(ruleComment(lazy)).toBe(ruleComment(eager));
  expect(ruleDestination(lazy)).toEqual(eager.destination);
  for (const m of MODULES) expect(ruleHasModule(lazy, m)).toBe(ruleHasModule(eager, m));
}

function expectSame(text: string, opts: { table?: string } = {}): ParseResult {
  const eager = parseIptablesSave(text, { ...opts, fullRead: true });
  const lazy = parseIptablesSave(text, opts);
  if (!eager.ok || !lazy.ok) {
    expect(lazy).toEqual(eager);
    return eager;
  }
  expect(lazy.warnings).toEqual(eager.warnings);
  expect(plainRuleset(lazy.ruleset)).toEqual(plainRuleset(eager.ruleset));
  expect(serializeRuleset(lazy.ruleset)).toBe(serializeRuleset(eager.ruleset));
  lazy.ruleset.tables.forEach((t, ti) => {
    t.chains.forEach((c, ci) => {
      c.rules.forEach((r, ri) => {
        // Fresh lazy rules, so the facts are read from the text, not from a decoded rule.
        const fresh = parseIptablesSave(text, opts);
        if (!fresh.ok) throw new Error('unreachable');
        const lr = fresh.ruleset.tables[ti]!.chains[ci]!.rules[ri]!;
        expectFactsAgree(lr, eager.ruleset.tables[ti]!.chains[ci]!.rules[ri]!);
        expect(r.chain).toBe(c.name);
      });
    });
  });
  return eager;
}

// The property tests parse thousands of generated rules both ways: allow for a loaded machine.
describe('plain lines read as LazyRules', { timeout: 30_000 }, () => {
  it.each(fixtures)('%s: same ruleset, warnings and facts as the full rule reader', (_name, text) => {
    const eager = parseIptablesSave(text, { fullRead: true });
    const lazy = parseIptablesSave(text);
    expect(lazy.ok).toBe(eager.ok);
    if (!eager.ok || !lazy.ok) return;
    expect(lazy.warnings).toEqual(eager.warnings);
    expect(plainRuleset(lazy.ruleset)).toEqual(plainRuleset(eager.ruleset));
    const lazyRules = lazy.ruleset.tables.flatMap((t) => t.chains.flatMap((c) => c.rules));
    const eagerRules = eager.ruleset.tables.flatMap((t) => t.chains.flatMap((c) => c.rules));
    // Facts from fresh (undecoded) rules.
    const fresh = parseIptablesSave(text);
    if (!fresh.ok) throw new Error('unreachable');
    const freshRules = fresh.ruleset.tables.flatMap((t) => t.chains.flatMap((c) => c.rules));
    freshRules.forEach((r, i) => {
      expectFactsAgree(r, eagerRules[i]!);
    });
    // iptables-save output is read lazily nearly everywhere (excerpts are read the full way).
    if (/\*nat/.test(text)) expect(lazyRules.some((r) => r instanceof LazyRule)).toBe(true);
    // As JSON a lazy rule is the eager one (never its store, which holds the whole dump).
    expect(JSON.stringify(freshRules)).toBe(JSON.stringify(eagerRules));
  });

  it('reads declarations as the full reader does, errors included', () => {
    for (const decl of [
      ':KUBE-X - [0:0]',
      ':KUBE-X - [12:345]',
      ':KUBE-X -  [0:0]',
      ':KUBE-X - [0:0] ',
      ':KUBE-X\t- [0:0]',
      ':KUBE-X -',
      ':KUBE-X',
      ':',
      ': - [0:0]',
      ':-x - [0:0]',
      ':KUBE-X ACCEPT [0:0]',
      ':PREROUTING DROP [1:2]',
      ':PREROUTING - [0:0]',
      ':FORWARD ACCEPT [0:0]',
      ':KUBE-X - [0:0] extra',
      ':KUBE-X - [x:0]',
      ':KUBE-X - 0:0',
      ':KUBE-X "-" [0:0]',
      ':KUBÉ - [0:0]',
      ':KUBE-X - [0:0]\n:KUBE-X - [0:0]',
    ]) {
      expectSame(`*nat\n${decl}\n[0:0] -A KUBE-X -j KUBE-Y\nCOMMIT\n`);
    }
  });

  it('gives the eager errors, with their lines, for malformed rules', () => {
    const head = '*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-X - [0:0]\n';
    for (const bad of [
      '-A PREROUTING -m statistic --probabilty 0.5 -j ACCEPT',
      '[0:0] -A PREROUTING -p tcp -p udp -j ACCEPT',
      '[x:0] -A PREROUTING -j ACCEPT',
      '-A PREROUTING ! -j ACCEPT',
      '-A PREROUTING -j DNAT --to-destination 1.2.3.4 -j ACCEPT',
      '-A PREROUTING -s 10.0.0.0/8 -d 2001:db8::/32 -j ACCEPT',
      '-A PREROUTING -m tcp --dport 80 !',
      '-A PREROUTING -m comment --comment "unterminated -j ACCEPT',
      '-A PREROUTING -j KUBE-X --bogus',
      '-A PREROUTING -g KUBE-X --bogus',
    ]) {
      const r = expectSame(`${head}${bad}\nCOMMIT\n`);
      expect(r.ok, bad).toBe(bad === '-A PREROUTING -j KUBE-X --bogus');
    }
  });

  // Rule bodies from a vocabulary that mixes what the quick check accepts with what only the full
  // reader knows (old negation, implicit modules, long options, unknown options, quotes).
  const word = fc.constantFrom(
    '-p',
    'tcp',
    'udp',
    'TCP',
    '-s',
    '-d',
    '10.0.0.1/32',
    '2001:db8::1/128',
    '-i',
    'eth0',
    '!',
    '-m',
    'comment',
    '--comment',
    '"a b"',
    '"x\\"y"',
    '"-x"',
    'tcp',
    '--dport',
    '--destination-port',
    '--sport',
    '80',
    '80:90',
    '070',
    '99999',
    'statistic',
    '--mode',
    'random',
    'nth',
    '--probability',
    '0.5',
    '2',
    'recent',
    '--rcheck',
    'addrtype',
    '--src-type',
    'LOCAL',
    'set',
    '--match-set',
    'S',
    'src',
    'mark',
    '--mark',
    '0x1',
    '-j',
    '-g',
    'KUBE-X',
    'KUBE-NEW',
    'ACCEPT',
    'DNAT',
    '--to-destination',
    '10.1.1.1:80',
    '[fd00::1]:80',
    '--random',
    'MARK',
    '--set-xmark',
    '0x4000/0x4000',
    '--source',
    '-f',
    '-c',
    '1',
    '--bogus',
    '-x',
  );
  // Well-formed clauses in kube-proxy's style, so that most generated rules take the plain-line reading.
  const clause = fc.constantFrom(
    '-p tcp',
    '-p udp',
    '-p sctp',
    '! -p tcp',
    '-s 10.0.0.0/8',
    '! -s 10.0.0.0/8',
    '-d 10.96.0.10/32',
    '! -d 10.96.0.10/32',
    '-i eth0',
    '-m comment --comment "ns/svc:http cluster IP"',
    '-m comment --comment plain',
    '-m comment --comment "a" --comment "b"',
    '-m tcp --dport 30001',
    '-m udp --dport 30001:30005',
    '-m tcp ! --dport 22',
    '-m tcp --sport 1024 --dport 80',
    '-m statistic --mode random --probability 0.33333333349',
    '-m statistic --mode random ! --probability 0.5',
    '-m statistic --mode nth --every 2 --packet 0',
    '-m recent --name KUBE-SEP-X --mask 255.255.255.255 --rsource --rcheck --seconds 10800 --reap',
    '-m addrtype --src-type LOCAL',
    '-m set --match-set KUBE-CLUSTER-IP dst,dst',
    '-m mark --mark 0x4000/0x4000',
  );
  const target = fc.constantFrom(
    '',
    '-j KUBE-X',
    '-j KUBE-NEW',
    '-g KUBE-X',
    '-j ACCEPT',
    '-j RETURN',
    '-j DNAT --to-destination 10.244.1.5:8080',
    '-j DNAT --to-destination [fd00::5]:8080',
    '-j DNAT --to-destination 10.244.1.5-10.244.1.9',
    '-j DNAT --random --to-destination 10.244.1.5:80',
    '-j MARK --set-xmark 0x4000/0x4000',
    '-j MASQUERADE --random-fully',
    '-j REDIRECT --to-ports 65535',
  );
  it('generated kube-proxy-like rules: same fields and facts', () => {
    fc.assert(
      fc.property(fc.array(clause, { maxLength: 5 }), target, (clauses, t) => {
        const line = `[0:0] -A PREROUTING ${[...clauses, t].join(' ')}`;
        expectSame(`*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-X - [0:0]\n${line}\nCOMMIT\n`);
      }),
      { numRuns: 2000 },
    );
  });

  it('generated rules: same result or error, same fields, same facts', () => {
    fc.assert(
      fc.property(fc.array(word, { maxLength: 12 }), fc.boolean(), (words, counters) => {
        const line = `${counters ? '[1:2] ' : ''}-A PREROUTING ${words.join(' ')}`;
        expectSame(`*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-X - [0:0]\n${line}\nCOMMIT\n`);
      }),
      { numRuns: 3000 },
    );
  });
});
