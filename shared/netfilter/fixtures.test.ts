// Every real fixture (e2e/lab/fixtures/: the lab's and the hand-written sources') parses, survives
// parse -> print -> parse unchanged, and iptables-save dumps print back line for line.

import { describe, expect, it } from 'vitest';
import { fixture, fixtureNames, parseOk as parse } from '../test-support/dumps.js';
import { findChain } from './chain-index.js';
import { decodeRule } from './decode.js';
import { findTable } from './model.js';
import { serializeRuleset } from './serialize.js';

/** Rule dumps only: the folder also keeps `ipset list` and `ipvsadm -Ln` output. */
const files = fixtureNames(/\.txt$/).filter((f) => /ip6?tables|kube-proxy-restore|grep/.test(f));

function withoutLines(x: unknown): unknown {
  return JSON.parse(JSON.stringify(x, (k, v) => (k === 'line' ? undefined : v)));
}

describe.each(files)('fixture %s', (file) => {
  const text = fixture(file);

  it('parses, and parse -> print -> parse is the identity', () => {
    const { ruleset } = parse(text);
    const again = parse(serializeRuleset(ruleset));
    expect(withoutLines(again.ruleset)).toEqual(withoutLines(ruleset));
  });

  it('decodes every rule without throwing', () => {
    for (const t of parse(text).ruleset.tables) {
      for (const c of t.chains) for (const r of c.rules) decodeRule(r, t);
    }
  });

  if (/save/.test(file)) {
    it('prints back exactly the lines iptables-save wrote (except its # lines)', () => {
      const expected = text
        .split('\n')
        .filter((l) => !l.startsWith('#'))
        .join('\n')
        // The one deliberate difference: iptables-save leaves this unquoted, which
        // iptables-restore would read as an option.
        .replace('--comment -starts-with-dash', '--comment "-starts-with-dash"');
      expect(serializeRuleset(parse(text).ruleset, { comments: false })).toBe(expected);
    });
  }
});

describe('what the fixtures say', () => {
  it('legacy header, real counters', () => {
    const { ruleset } = parse(fixture('legacy-kube.iptables-save-c.txt'));
    expect([ruleset.family, ruleset.backend]).toEqual(['ipv4', 'legacy']);
    expect(ruleset.tables.map((t) => t.name)).toEqual(['filter', 'nat', 'mangle']);
    const output = findChain(findTable(ruleset, 'nat')!, 'OUTPUT')!;
    expect(output.rules[0]!.counters!.packets).toBeGreaterThan(0);
  });

  it('-S -v listing: nat, whole, counters', () => {
    const { ruleset } = parse(fixture('legacy-kube.iptables-t-nat-S-v.txt'));
    const nat = ruleset.tables[0]!;
    expect([nat.name, nat.complete, ruleset.backend]).toEqual(['nat', true, 'unknown']);
    expect(findChain(nat, 'OUTPUT')!.counters!.packets).toBeGreaterThan(0);
  });

  it("grep excerpt: nat, partial, only grep'd declarations declared", () => {
    const { ruleset, warnings } = parse(fixture('nft-kube.grep-30001.txt'));
    const nat = ruleset.tables[0]!;
    expect([nat.name, nat.complete]).toEqual(['nat', false]);
    expect(nat.chains.filter((c) => c.declared).map((c) => c.name)).toEqual([
      'KUBE-SEP-4QGBNBUUJQYWG5GD',
      'NPG-TCP-30001',
    ]);
    expect(findChain(nat, 'KUBE-NODEPORTS')!.declared).toBe(false);
    expect(warnings).toHaveLength(1);
  });

  it('the iptables-legacy warning line means nft', () => {
    const { ruleset } = parse(fixture('nft-legacy-warning.iptables-save.txt'));
    expect(ruleset.backend).toBe('nft');
    expect(ruleset.comments[0]).toMatch(/^# Warning: iptables-legacy tables present/);
  });

  it('ip6tables-save: IPv6 family and v6 DNAT ranges', () => {
    for (const file of ['ip6-kube.ip6tables-save.txt', 'ip6-kube-legacy.ip6tables-save.txt']) {
      const { ruleset } = parse(fixture(file));
      expect(ruleset.family).toBe('ipv6');
      const sep = findChain(findTable(ruleset, 'nat')!, 'KUBE-SEP-V6WEBB')!;
      expect(decodeRule(sep.rules[0]!).target).toMatchObject({
        kind: 'dnat',
        to: [
          {
            addresses: { from: '2001:2:0:8001::3', to: '2001:2:0:8001::9' },
            ports: { from: 8080, to: 8090 },
          },
        ],
      });
    }
    expect(parse(fixture('ip6-kube.ip6tables-t-nat-S.txt')).ruleset.family).toBe('ipv6');
  });

  it('modules: every table and the unusual matches are kept', () => {
    const { ruleset } = parse(fixture('nft-modules.iptables-save-c.txt'));
    expect(ruleset.tables.map((t) => t.name).sort()).toEqual(['filter', 'mangle', 'nat', 'raw']);
    const modules = new Set(
      ruleset.tables.flatMap((t) =>
        t.chains.flatMap((c) => c.rules.flatMap((r) => r.matches.map((m) => m.module))),
      ),
    );
    for (const m of [
      'recent',
      'physdev',
      'socket',
      'owner',
      'u32',
      'hashlimit',
      'time',
      'policy',
      'set',
      'statistic',
    ]) {
      expect(modules).toContain(m);
    }
  });

  it('filter -S listing is named by its REJECT rules', () => {
    expect(parse(fixture('nft-modules.iptables-t-filter-S.txt')).ruleset.tables[0]!.name).toBe('filter');
  });
});
