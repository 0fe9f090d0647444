import { describe, expect, it } from 'vitest';
import { desiredOf } from '../test-support/fixtures';
import { nftDesired } from './desired';
import type { NftGuardState, NftStateRule } from './model';
import { ruleText } from './model';
import { parseNftGuardTable } from './parse';
import { parseNftSavedState, serializeNftSavedState } from './saved-state';
import { nftDesiredFromState, nftStateMatches } from './state';
import { FIXTURE_POLICY, TABLE_JSON } from './test-support/fixtures';

const recorded = (): NftGuardState => {
  const r = parseNftGuardTable(TABLE_JSON);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};

describe('saved nft state', () => {
  it('round-trips through text as the same guard, without handles and counters', () => {
    const text = serializeNftSavedState(recorded());
    expect(text.split('\n').slice(0, 2)).toEqual([
      '# nodeport-guard nft saved state v1',
      '# not nft input: restore with `npg rollback`',
    ]);
    expect(text).not.toContain('"handle"');
    expect(text).not.toContain('180');
    const back = parseNftSavedState(text);
    expect(back.ok && nftStateMatches(back.value, nftDesired(desiredOf(FIXTURE_POLICY)))).toBe(true);
  });

  it('saves "no guard" as a table-less file that reads back absent', () => {
    const back = parseNftSavedState(serializeNftSavedState({ table: 'absent' }));
    expect(back).toEqual({ ok: true, value: { table: 'absent' } });
  });

  it('refuses a file that is not one', () => {
    const r = parseNftSavedState(TABLE_JSON);
    expect(r.ok).toBe(false);
  });

  it('keeps only what is ours to restore, and says what it left out', () => {
    const s = recorded();
    if (s.table !== 'present') throw new Error('absent');
    const chain = s.chains[0]!;
    const { desired, dropped } = nftDesiredFromState({
      ...s,
      chains: [
        { ...chain, rules: [...chain.rules, { kind: 'foreign', text: '[]' }] },
        { name: 'x', rules: [] },
      ],
      others: ['map m'],
    });
    expect(desired.rules).toHaveLength(4);
    expect(dropped).toEqual(['map m', 'rule foreign []', 'chain x']);
  });

  it('never brings back a name that is not ours, and makes a node comment one safe literal', () => {
    const s = recorded();
    if (s.table !== 'present') throw new Error('absent');
    const chain = s.chains[0]!;
    const first = chain.rules[0]!;
    if (first.kind !== 'guard') throw new Error('fixture');
    const quoted: NftStateRule = { ...first, comment: 'a"b' };
    const odd: NftStateRule = { ...first, set: 'x; flush ruleset' };
    const { desired } = nftDesiredFromState({
      ...s,
      sets: [...s.sets, { name: 'x; flush ruleset', type: 'ipv4_addr', flags: ['interval'], elements: [] }],
      chains: [{ ...chain, rules: [...chain.rules.slice(1), quoted, odd] }],
    });
    expect(desired.sets.map((x) => x.name)).not.toContain('x; flush ruleset');
    expect(desired.rules.map((r) => r.set)).not.toContain('x; flush ruleset');
    expect(desired.rules.map((r) => ruleText(r)).join('\n')).toContain('comment "a_b"');
  });
});
