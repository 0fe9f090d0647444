// Every real fixture (ours in testdata/, the lab's in e2e/lab/fixtures/) parses, survives
// parse -> print -> parse unchanged, and iptables-save dumps print back line for line.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findChain } from './chain-index.js';
import { decodeRule } from './decode.js';
import { findTable, type Ruleset } from './model.js';
import { parseIptablesSave } from './parse.js';
import { serializeRuleset } from './serialize.js';

const OURS = new URL('./testdata/', import.meta.url);
const LAB = new URL('../../e2e/lab/fixtures/', import.meta.url);

/** Rule dumps only: the lab also keeps `ipset list` and `ipvsadm -Ln` output next to them. */
function dumps(dir: URL): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt') && /ip6?tables|kube-proxy-restore|grep/.test(f))
    .sort();
}

function read(dir: URL, file: string): string {
  return readFileSync(new URL(file, dir), 'utf8');
}

function parse(text: string): { ruleset: Ruleset; warnings: readonly string[] } {
  const r = parseIptablesSave(text);
  if (!r.ok) throw new Error(`${r.error.message} at line ${r.error.line}: ${r.error.text}`);
  return r;
}

function withoutLines(x: unknown): unknown {
  return JSON.parse(JSON.stringify(x, (k, v) => (k === 'line' ? undefined : v)));
}

const files = [...dumps(OURS).map((f) => [OURS, f] as const), ...dumps(LAB).map((f) => [LAB, f] as const)];

describe.each(files)('fixture %s%s', (dir, file) => {
  const text = read(dir, file);

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
    const { ruleset } = parse(read(OURS, 'legacy-kube.iptables-save-c.txt'));
    expect([ruleset.family, ruleset.backend]).toEqual(['ipv4', 'legacy']);
    expect(ruleset.tables.map((t) => t.name)).toEqual(['filter', 'nat', 'mangle']);
    const output = findChain(findTable(ruleset, 'nat')!, 'OUTPUT')!;
    expect(output.rules[0]!.counters!.packets).toBeGreaterThan(0);
  });

  it('-S -v listing: nat, whole, counters', () => {
    const { ruleset } = parse(read(OURS, 'legacy-kube.iptables-t-nat-S-v.txt'));
    const nat = ruleset.tables[0]!;
    expect([nat.name, nat.complete, ruleset.backend]).toEqual(['nat', true, 'unknown']);
    expect(findChain(nat, 'OUTPUT')!.counters!.packets).toBeGreaterThan(0);
  });

  it("grep excerpt: nat, partial, only grep'd declarations declared", () => {
    const { ruleset, warnings } = parse(read(OURS, 'nft-kube.grep-30001.txt'));
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
    const { ruleset } = parse(read(OURS, 'nft-legacy-warning.iptables-save.txt'));
    expect(ruleset.backend).toBe('nft');
    expect(ruleset.comments[0]).toMatch(/^# Warning: iptables-legacy tables present/);
  });

  it('ip6tables-save: IPv6 family and v6 DNAT ranges', () => {
    for (const file of ['ip6-kube.ip6tables-save.txt', 'ip6-kube-legacy.ip6tables-save.txt']) {
      const { ruleset } = parse(read(OURS, file));
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
    expect(parse(read(OURS, 'ip6-kube.ip6tables-t-nat-S.txt')).ruleset.family).toBe('ipv6');
  });

  it('modules: every table and the unusual matches are kept', () => {
    const { ruleset } = parse(read(OURS, 'nft-modules.iptables-save-c.txt'));
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
    expect(parse(read(OURS, 'nft-modules.iptables-t-filter-S.txt')).ruleset.tables[0]!.name).toBe('filter');
  });
});
