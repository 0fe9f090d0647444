import { describe, expect, it } from 'vitest';
import { parseOk as parse } from '../test-support/dumps.js';
import { findChain } from './chain-index.js';
import { type ParseOptions, parseIptablesSave } from './parse.js';

function error(text: string, opts?: ParseOptions) {
  const r = parseIptablesSave(text, opts);
  if (r.ok) throw new Error('expected an error');
  return r.error;
}

const lines = (...l: string[]) => l.join('\n');

describe('iptables -S listings', () => {
  const listing = lines(
    '-P PREROUTING ACCEPT',
    '-P INPUT ACCEPT',
    '-P OUTPUT ACCEPT',
    '-P POSTROUTING ACCEPT',
    '-N KUBE-SERVICES',
    '-N NPG-PREROUTING',
    '-A PREROUTING -m comment --comment "nodeport-guard: entry" -j NPG-PREROUTING',
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  );

  it('reads -P/-N/-A as a whole nat table (its built-in chains name it)', () => {
    const { ruleset, warnings } = parse(listing);
    const t = ruleset.tables[0]!;
    expect([t.name, t.complete]).toEqual(['nat', true]);
    expect(t.chains.map((c) => [c.name, c.policy, c.declared])).toEqual([
      ['PREROUTING', 'ACCEPT', true],
      ['INPUT', 'ACCEPT', true],
      ['OUTPUT', 'ACCEPT', true],
      ['POSTROUTING', 'ACCEPT', true],
      ['KUBE-SERVICES', '-', true],
      ['NPG-PREROUTING', '-', true],
    ]);
    expect(findChain(t, 'PREROUTING')!.rules).toHaveLength(2);
    expect(warnings).toEqual([
      expect.stringMatching(
        /^no \*table header: read as table nat \(from policies of PREROUTING, INPUT, OUTPUT, POSTROUTING/,
      ),
    ]);
  });

  it('reads -S -v counters on policies and rules', () => {
    const { ruleset } = parse(
      lines(
        '-P PREROUTING ACCEPT -c 5 300',
        '-A PREROUTING -m addrtype --dst-type LOCAL -c 2 120 -j DNAT --to-destination 198.18.0.1',
      ),
    );
    const chain = ruleset.tables[0]!.chains[0]!;
    expect(chain.counters).toEqual({ packets: 5, bytes: 300 });
    expect(chain.rules[0]!.counters).toEqual({ packets: 2, bytes: 120 });
  });

  it('is incomplete when it is only part of a listing (iptables -S CHAIN)', () => {
    const { ruleset } = parse(
      lines('-N KUBE-NODEPORTS', '-A KUBE-NODEPORTS -p tcp -m tcp --dport 30001 -j KUBE-EXT-X'),
    );
    expect(ruleset.tables[0]!.complete).toBe(false);
  });

  it('names filter listings by REJECT, and asks for --table when nothing tells filter from security', () => {
    const filter = lines('-P INPUT ACCEPT', '-P FORWARD ACCEPT', '-P OUTPUT ACCEPT');
    expect(error(filter)).toEqual({
      line: 1,
      text: '-P INPUT ACCEPT',
      message:
        'no table header, and the rules could be in any of filter, security: pass --table (e.g. --table nat)',
    });
    expect(parse(lines(filter, '-A INPUT -p tcp -j REJECT')).ruleset.tables[0]!.name).toBe('filter');
    expect(parse(filter, { table: 'security' }).ruleset.tables[0]!.name).toBe('security');
  });
});

describe("grep'd excerpts of iptables-save", () => {
  it('reads headerless rules as nat when a nat-only target says so, and warns how it decided', () => {
    const { ruleset, warnings } = parse(
      '-A KUBE-SEP-AAA -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 198.18.1.2:8080',
    );
    const t = ruleset.tables[0]!;
    expect([t.name, t.complete, t.chains[0]!.declared]).toEqual(['nat', false, false]);
    expect(warnings[0]).toBe('no *table header: read as table nat (from chain KUBE-SEP-AAA, target DNAT)');
  });

  it('reads KUBE-SERVICES/KUBE-NODEPORTS rules as nat but says filter is possible', () => {
    const { ruleset, warnings } = parse('-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
    expect(ruleset.tables[0]!.name).toBe('nat');
    expect(warnings[0]).toMatch(/pass --table filter if these are filter rules/);
  });

  it('uses opts.table without guessing', () => {
    const { ruleset, warnings } = parse('-A KUBE-NODEPORTS -p tcp -m tcp --dport 32001 -j ACCEPT', {
      table: 'filter',
    });
    expect(ruleset.tables[0]!.name).toBe('filter');
    expect(warnings).toEqual([]);
  });

  it('asks for --table when the content leaves doubt', () => {
    expect(error('[0:0] -A INPUT -s 198.18.0.0/15 -j ACCEPT')).toEqual({
      line: 1,
      text: '[0:0] -A INPUT -s 198.18.0.0/15 -j ACCEPT',
      message:
        'no table header, and the rules could be in any of mangle, nat, filter, security: pass --table (e.g. --table nat)',
    });
  });

  it('reports rules that cannot all be in one table', () => {
    expect(
      error(lines('-A KUBE-SEP-A -j DNAT --to-destination 198.18.0.1', '-A INPUT -p tcp -j REJECT')).message,
    ).toBe(
      'no table header, and the rules contradict each other (target REJECT cannot be in nat); pass --table',
    );
  });

  it('reads excerpts with declarations but without *table or COMMIT', () => {
    const { ruleset } = parse(lines(':KUBE-SVC-A - [0:0]', '-A KUBE-SVC-A -j KUBE-SEP-B'));
    expect(ruleset.tables[0]!.chains.map((c) => [c.name, c.declared])).toEqual([
      ['KUBE-SVC-A', true],
      ['KUBE-SEP-B', false],
    ]);
  });

  it('checks built-in chains against the inferred table', () => {
    expect(
      error(lines(':FORWARD ACCEPT [0:0]', '-A KUBE-SEP-A -j DNAT --to-destination 198.18.0.1')).message,
    ).toMatch(/could be in any of|contradict|no built-in chain FORWARD/);
    expect(error(':FORWARD ACCEPT [0:0]', { table: 'nat' })).toEqual({
      line: 1,
      text: ':FORWARD ACCEPT [0:0]',
      message: 'table nat has no built-in chain FORWARD',
    });
  });

  it('rejects headerless rules mixed with a full dump', () => {
    expect(error(lines('-A PREROUTING -j RETURN', '*nat', 'COMMIT'))).toEqual({
      line: 2,
      text: '*nat',
      message: '*nat after rules with no table header (line 1): paste a whole dump or only rules',
    });
    expect(error(lines('*nat', 'COMMIT', '-A PREROUTING -j RETURN')).message).toBe(
      'rule outside a table (after COMMIT, before the next *table)',
    );
  });
});
