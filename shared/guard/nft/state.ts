// The nft guard state as canonical text and fingerprint (stale-plan check), and the two conversions
// rollback needs: a state as a desired state (restore a saved one) and the state a successful apply
// leaves behind (commit-confirmed's timer text is rendered before the apply).
import type { Cidr } from '../cidr';
import { parseCidr } from '../cidr';
import { fingerprint } from '../hash';
import {
  chainSpecText,
  GUARD_CHAIN,
  NFT_ABSENT,
  type NftDesired,
  type NftDesiredSet,
  type NftGuardState,
  type NftRuleSpec,
  type NftStateRule,
  stateRuleText,
} from './model';
import { NFT_COMMENT_MAX, parseNftSetName, setType } from './names';

/**
 * Canonical text of the state: no counters, but handles, because the transactions plan renders delete
 * rules by handle (a rule deleted and added again is a different rule to them). Without handles
 * (`shape`), rules are sorted: the guard's rules match disjoint packets, so their order means nothing.
 */
export function nftStateText(state: NftGuardState, options: { readonly shape?: boolean } = {}): string {
  if (state.table === 'absent') return 'table absent';
  const h = (x: { readonly handle?: number }) => (options.shape ? '' : ` ${x.handle ?? '-'}`);
  const lines = ['table present'];
  for (const c of state.chains) {
    lines.push(`chain ${c.name}${h(c)} ${chainSpecText(c)}`);
    const rules = c.rules.map((r) => `rule${h(r)} ${stateRuleText(r)}`);
    lines.push(...(options.shape ? rules.sort() : rules));
  }
  for (const s of state.sets)
    lines.push(`set ${s.name}${h(s)} ${s.type} [${s.flags.join(',')}] {${s.elements.join(',')}}`);
  for (const o of state.others) lines.push(`other ${o}`);
  return lines.join('\n');
}

export function nftStateHash(state: NftGuardState): string {
  return fingerprint(nftStateText(state));
}

/** The guard state a successful apply of `desired` leaves behind (without handles: they are the kernel's). */
export function nftStateAfter(desired: NftDesired): NftGuardState {
  if (!desired.present) return { table: 'absent' };
  return {
    table: 'present',
    chains: [{ ...GUARD_CHAIN, rules: desired.rules.map((r) => ({ kind: 'guard', ...r })) }],
    sets: desired.sets.map((s) => ({
      name: s.name,
      type: setType(s.family),
      flags: ['interval'],
      elements: [...s.elements],
    })),
    others: [],
  };
}

/**
 * A (saved) state as the desired state to restore: our sets and our rules in the guard chain. Anything
 * else the table held (foreign rules, other chains, maps, elements that are not prefixes) is not ours to
 * bring back and is listed in `dropped`.
 */
export function nftDesiredFromState(state: NftGuardState): {
  readonly desired: NftDesired;
  readonly dropped: readonly string[];
} {
  if (state.table === 'absent') return { desired: NFT_ABSENT, dropped: [] };
  const dropped: string[] = [...state.others];
  const sets: NftDesiredSet[] = [];
  for (const s of state.sets) {
    const family = s.type === 'ipv4_addr' ? 'ipv4' : s.type === 'ipv6_addr' ? 'ipv6' : undefined;
    // Only our names go back into a transaction: a name read from the node is never rendered as is.
    if (!family || parseNftSetName(s.name)?.family !== family) {
      dropped.push(`set ${s.name} (type ${s.type})`);
      continue;
    }
    const elements: Cidr[] = [];
    for (const e of s.elements) {
      const r = parseCidr(e);
      if (r.ok && r.value.family === family) elements.push(r.value.cidr);
      else dropped.push(`set ${s.name} element ${e}`);
    }
    sets.push({ name: s.name, family, elements });
  }
  const rules: NftRuleSpec[] = [];
  for (const c of state.chains) {
    if (c.name !== GUARD_CHAIN.name) {
      dropped.push(`chain ${c.name}`);
      continue;
    }
    for (const r of c.rules) {
      if (r.kind === 'guard' && sets.some((s) => s.name === r.set && s.family === r.family))
        rules.push(specOf(r));
      else dropped.push(`rule ${stateRuleText(r)}`);
    }
  }
  if (rules.length === 0) return { desired: NFT_ABSENT, dropped };
  return { desired: { present: true, sets, rules }, dropped };
}

export function specOf(r: NftStateRule & { kind: 'guard' }): NftRuleSpec {
  return {
    protocol: r.protocol,
    port: r.port,
    family: r.family,
    set: r.set,
    action: r.action,
    comment: r.comment.slice(0, NFT_COMMENT_MAX),
  };
}

/** Whether the state is exactly the desired one (handles, counters and rule order aside). */
export function nftStateMatches(state: NftGuardState, desired: NftDesired): boolean {
  return nftStateText(state, { shape: true }) === nftStateText(nftStateAfter(desired), { shape: true });
}
