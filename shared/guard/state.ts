// The guard state of one node and family, read from a parsed nat table: our NPG- chains, the entry
// jump(s) in PREROUTING with their positions, and where kube-proxy's KUBE-SERVICES jump stands. Plan
// diffs it, verify compares it, rollback saves it. Only PREROUTING and our chains are looked at, so
// kube-proxy's thousands of rules cost nothing here.
import type { Rule, Ruleset } from '../netfilter/model';
import { findTable } from '../netfilter/model';
import { plainRule, ruleTargetName } from '../netfilter/rule-view';
import { serializeRule } from '../netfilter/serialize';
import type { Family } from '../vocabulary';
import { type ChainName, HOOK_CHAIN, isGuardChainName } from '../vocabulary';
import { fingerprint } from './hash';
import { isEntryJump, isKubeServicesJump } from './rules';

declare const positionBrand: unique symbol;
/** 1-based position of a rule inside its chain (what `-I CHAIN N` takes); not a line of a dump. */
export type RulePosition = number & { readonly [positionBrand]: 'RulePosition' };

export interface EntryJump {
  readonly position: RulePosition;
  readonly rule: Rule;
}

export interface GuardChain {
  readonly name: ChainName;
  readonly rules: readonly Rule[];
}

/** A rule outside our chains (other than an entry jump) that jumps into one of them: not ours to touch. */
export interface ForeignReference {
  readonly chain: string;
  readonly position: RulePosition;
  readonly target: ChainName;
  readonly rule: Rule;
}

export interface FamilyGuardState {
  readonly family: Family;
  /** PREROUTING rules that jump to NPG-PREROUTING, in order; exactly one is healthy. */
  readonly entryJumps: readonly EntryJump[];
  /** kube-proxy's first `-j KUBE-SERVICES` in PREROUTING; absent when kube-proxy has none. */
  readonly kubeServicesAt?: RulePosition;
  /** Our chains (name prefix NPG-), sorted by name. */
  readonly chains: readonly GuardChain[];
  readonly foreignReferences: readonly ForeignReference[];
}

export type ExtractResult =
  | { readonly ok: true; readonly state: FamilyGuardState }
  | { readonly ok: false; readonly error: string };

export function emptyFamilyState(family: Family): FamilyGuardState {
  return { family, entryJumps: [], chains: [], foreignReferences: [] };
}

/**
 * Read the guard state of `family` from a parsed dump (`iptables-save -t nat`, with or without -c).
 * A dump without a nat table means no guard (the kernel creates the table on first use); a truncated
 * nat table or a dump of the other family is an error, because a plan made from it could be wrong.
 */
export interface ExtractOptions {
  /**
   * Accept an excerpt (e.g. `iptables -t nat -S PREROUTING` plus `-S` of our chains, read for a fast
   * verify): then rules elsewhere that jump into our chains cannot be seen, so foreignReferences only
   * covers what the excerpt holds.
   */
  readonly excerpt?: boolean;
}

export function extractGuardState(
  ruleset: Ruleset,
  family: Family,
  options: ExtractOptions = {},
): ExtractResult {
  if (ruleset.family !== 'unknown' && ruleset.family !== family) {
    return { ok: false, error: `expected an ${family} dump, got ${ruleset.family}` };
  }
  const nat = findTable(ruleset, 'nat');
  if (!nat) return { ok: true, state: emptyFamilyState(family) };
  if (!nat.complete && options.excerpt !== true) {
    return { ok: false, error: `the ${family} nat table dump is incomplete (no COMMIT)` };
  }

  const entryJumps: EntryJump[] = [];
  const foreignReferences: ForeignReference[] = [];
  const chains: GuardChain[] = [];
  let kubeServicesAt: RulePosition | undefined;
  for (const chain of nat.chains) {
    if (isGuardChainName(chain.name)) {
      chains.push({ name: chain.name, rules: chain.rules });
      continue;
    }
    chain.rules.forEach((rule, i) => {
      const position = (i + 1) as RulePosition;
      if (chain.name === HOOK_CHAIN && isKubeServicesJump(rule)) kubeServicesAt ??= position;
      if (isEntryJump(rule)) entryJumps.push({ position, rule });
      else {
        // By name, so that a lazily parsed node's tens of thousands of rules are not decoded.
        const target = ruleTargetName(rule);
        if (target !== undefined && isGuardChainName(target))
          foreignReferences.push({ chain: chain.name, position, target, rule });
      }
    });
  }
  chains.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const state: FamilyGuardState = { family, entryJumps, chains, foreignReferences };
  return { ok: true, state: kubeServicesAt === undefined ? state : { ...state, kubeServicesAt } };
}

/** Whether the entry jumps stand where they must: exactly one, before kube-proxy's jump. */
export function entryHealthy(state: FamilyGuardState, canonical: Rule): boolean {
  const [only, ...more] = state.entryJumps;
  if (!only || more.length > 0) return false;
  if (ruleKey(only.rule) !== ruleKey(canonical)) return false;
  return state.kubeServicesAt === undefined || only.position < state.kubeServicesAt;
}

/** A family without our chains is healthy when it has no stray entry jump; with them, when entryHealthy. */
export function familyGuardHealthy(state: FamilyGuardState, canonical: Rule): boolean {
  return state.chains.length === 0 ? state.entryJumps.length === 0 : entryHealthy(state, canonical);
}

/**
 * What a rule does, as one comparable line: the `-A ...` text without counters. Equal keys mean equal
 * rules, because the netfilter serializer prints every field in iptables-save's fixed order.
 */
export function ruleKey(rule: Rule): string {
  return serializeRule(rule, { counters: false });
}

/**
 * Canonical text of the state (no counters), so that equal states give equal fingerprints. Positions
 * count: a kube-proxy restart that puts its jump in front of ours changes the state.
 */
export function guardStateText(state: FamilyGuardState): string {
  const lines = [`family ${state.family}`, `kube-services ${state.kubeServicesAt ?? '-'}`];
  for (const e of state.entryJumps) lines.push(`entry ${e.position} ${ruleKey(e.rule)}`);
  for (const f of state.foreignReferences)
    lines.push(`reference ${f.chain} ${f.position} ${ruleKey(f.rule)}`);
  for (const c of state.chains) {
    lines.push(`chain ${c.name}`);
    for (const r of c.rules) lines.push(ruleKey(r));
  }
  return lines.join('\n');
}

/** Fingerprint of the guard state of the given families (order-independent). */
export function guardStateHash(states: readonly FamilyGuardState[]): string {
  const sorted = [...states].sort((a, b) => a.family.localeCompare(b.family));
  return fingerprint(sorted.map(guardStateText).join('\n--\n'));
}

/** The rule without its counters and source line: what saved state and comparisons keep. */
export function bareRule(rule: Rule): Rule {
  const { counters: _c, line: _l, ...rest } = plainRule(rule);
  return rest;
}
