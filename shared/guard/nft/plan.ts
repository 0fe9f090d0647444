// Plan: from the node's nft guard state to the desired one, as edits (data). render.ts prints them as
// one `nft -f` transaction. Applying a plan and planning again gives noop.
//
// Two ways to get there, chosen per plan:
//  - edits in place (the usual case): sets whose contents changed are flushed and refilled, rules that
//    changed are deleted by handle and added, the rest is not mentioned. Rules that did not change keep
//    their counters (verify's "N connections blocked", audit's total), as the iptables guard's
//    untouched chains do.
//  - the whole table recreated (`add table` + `delete table` + the full table, still one transaction):
//    when the table is absent, or its shape is not what in-place edits can repair (our chain missing or
//    at another priority/hook/type/policy — a base chain's priority cannot be changed in place — other
//    chains or objects, a set of the wrong type, a rule without a handle), and for rollback.

import { familyName, type ProxyMode } from '../../vocabulary';
import type { DesiredGuard } from '../desired';
import { emptyFamilyState } from '../state';
import { type PlanChecks, type PlanIssue, planIssues } from '../warnings';
import { nftDesired } from './desired';
import {
  chainSpecText,
  GUARD_CHAIN,
  type NftDesired,
  type NftDesiredSet,
  type NftGuardState,
  type NftHandle,
  type NftRuleSpec,
  type NftStateRule,
  type NftStateSet,
  ruleText,
  stateRuleText,
} from './model';
import { setType } from './names';
import type { NftBaseChain } from './parse';
import { nftStateHash, nftStateMatches } from './state';
import { shadowingChains } from './verify';

export type NftEdit =
  /** The whole table, written fresh: `add table` + `delete table` + `table inet nodeport-guard { ... }`. */
  | { readonly kind: 'table-write'; readonly reasons: readonly string[]; readonly desired: NftDesired }
  /** `delete table`; fails when there is none (stale plan), unless ifExists (commit-confirmed timer). */
  | { readonly kind: 'table-remove'; readonly ifExists?: boolean }
  | { readonly kind: 'set-create'; readonly set: NftDesiredSet }
  | {
      readonly kind: 'set-update';
      readonly set: NftDesiredSet;
      readonly added: readonly string[];
      readonly removed: readonly string[];
    }
  /** By handle: the name is the node's and is never written into a transaction. */
  | { readonly kind: 'set-remove'; readonly name: string; readonly handle: NftHandle }
  | { readonly kind: 'rule-add'; readonly rule: NftRuleSpec }
  | { readonly kind: 'rule-remove'; readonly rule: NftStateRule; readonly handle: NftHandle };

export type NftEditKind = NftEdit['kind'];

export interface NftNodePlan {
  readonly node: string;
  /** nftStateHash of `current`: re-read under the node lock and compare (isNftPlanStale) before applying. */
  readonly stateHash: string;
  readonly current: NftGuardState;
  readonly desired: NftDesired;
  readonly edits: readonly NftEdit[];
  readonly noop: boolean;
  readonly warnings: readonly PlanIssue[];
  /** Non-empty: the plan must not be applied. */
  readonly errors: readonly PlanIssue[];
}

export interface NftPlanInput {
  readonly node: string;
  readonly current: NftGuardState;
  readonly desired: DesiredGuard;
  /** kube-proxy's mode on the node; any mode is fine for a guard in its own table. */
  readonly kubeProxyMode?: ProxyMode;
  readonly checks?: PlanChecks;
  /**
   * The node's base chains (`nft -j list chains`), where the read listed them: a nat prerouting chain
   * that runs before the guard (or with it) is warned of before apply, as verify finds it after.
   */
  readonly baseChains?: readonly NftBaseChain[];
}

/** Plan the node from the policy's DesiredGuard, with the same warnings as the iptables guard. */
export function planNftNode(input: NftPlanInput): NftNodePlan {
  const plan = planNftState(input.node, input.current, nftDesired(input.desired));
  const families = input.desired.families.map((f) => ({
    family: f.family,
    current: emptyFamilyState(f.family),
    edits: [],
  }));
  const issues = planIssues(
    {
      node: input.node,
      current: [],
      desired: input.desired,
      // The iptables backend does not matter to an nft table: say nft, so no backend warning.
      kubeProxy: { mode: input.kubeProxyMode ?? 'unknown', backend: 'nft' },
      ...(input.checks ? { checks: input.checks } : {}),
    },
    families,
  );
  // "an iptables guard would not run before kube-proxy's nftables chain" is exactly what this guard fixes.
  const keep = (i: PlanIssue) => i.kind !== 'kube-proxy-nftables';
  const shadows = input.baseChains
    ? shadowingChains(
        input.baseChains,
        GUARD_CHAIN.prio,
        input.desired.families.map((f) => f.family),
      ).map(
        (s): PlanIssue => ({
          kind: 'nat-chain-before-guard',
          severity: 'warning',
          node: input.node,
          message: `${input.node}: nat prerouting chain ${s.table} ${s.chain} (priority ${s.prio}) runs ${s.prio === s.ours ? 'at the same priority as' : 'before'} the guard (${s.ours}) for ${s.families.map(familyName).join(' and ')}: it may DNAT a NodePort before the guard sees it`,
        }),
      )
    : [];
  return {
    ...plan,
    warnings: [...issues.warnings.filter(keep), ...shadows],
    errors: issues.errors.filter(keep),
  };
}

export interface NftPlanOptions {
  /** Always rewrite the whole table when anything differs (rollback: independent of handles). */
  readonly wholeTable?: boolean;
}

/** The edits from `current` to `desired`, without policy warnings (rollback, remove-all). */
export function planNftState(
  node: string,
  current: NftGuardState,
  desired: NftDesired,
  options: NftPlanOptions = {},
): NftNodePlan {
  const edits = nftEdits(current, desired, options);
  return {
    node,
    stateHash: nftStateHash(current),
    current,
    desired,
    edits,
    noop: edits.length === 0,
    warnings: [],
    errors: [],
  };
}

function nftEdits(current: NftGuardState, desired: NftDesired, options: NftPlanOptions): NftEdit[] {
  if (!desired.present) return current.table === 'present' ? [{ kind: 'table-remove' }] : [];
  if (nftStateMatches(current, desired)) return [];
  const reasons = current.table === 'absent' ? ['table absent'] : rewriteReasons(current, desired);
  if (options.wholeTable && reasons.length === 0) reasons.push('rollback');
  if (reasons.length > 0 || current.table === 'absent') return [{ kind: 'table-write', reasons, desired }];
  return inPlaceEdits(current, desired);
}

/** Why in-place edits cannot bring `current` to `desired`; empty when they can. */
export function rewriteReasons(current: NftGuardState, desired: NftDesired): string[] {
  if (current.table === 'absent') return ['table absent'];
  const reasons: string[] = [];
  const chain = current.chains.find((c) => c.name === GUARD_CHAIN.name);
  if (!chain) reasons.push(`chain ${GUARD_CHAIN.name} missing`);
  else if (chainSpecText(chain) !== chainSpecText(GUARD_CHAIN))
    reasons.push(`chain ${chain.name} is "${chainSpecText(chain)}", not "${chainSpecText(GUARD_CHAIN)}"`);
  for (const c of current.chains)
    if (c.name !== GUARD_CHAIN.name) reasons.push(`chain ${c.name} is not ours`);
  for (const o of current.others) reasons.push(`${o} is not ours`);
  for (const d of desired.sets) {
    const s = current.sets.find((x) => x.name === d.name);
    if (s && !setShapeOk(s, d)) reasons.push(`set ${s.name} is ${s.type} [${s.flags.join(',')}]`);
  }
  if (chain?.rules.some((r) => r.handle === undefined)) reasons.push('a rule without a handle');
  if (current.sets.some((s) => s.handle === undefined)) reasons.push('a set without a handle');
  return reasons;
}

function setShapeOk(s: NftStateSet, d: NftDesiredSet): boolean {
  return s.type === setType(d.family) && s.flags.length === 1 && s.flags[0] === 'interval';
}

function inPlaceEdits(current: NftGuardState & { table: 'present' }, desired: NftDesired): NftEdit[] {
  const edits: NftEdit[] = [];
  const chain = current.chains.find((c) => c.name === GUARD_CHAIN.name);
  // Rules: a multiset difference by text; extra copies and foreign rules are removed.
  const want = new Map<string, number>();
  for (const r of desired.rules) want.set(ruleText(r), (want.get(ruleText(r)) ?? 0) + 1);
  for (const r of chain?.rules ?? []) {
    const key = stateRuleText(r);
    const n = want.get(key) ?? 0;
    if (n > 0) want.set(key, n - 1);
    else edits.push({ kind: 'rule-remove', rule: r, handle: r.handle as NftHandle });
  }
  const sets = new Map(current.sets.map((s) => [s.name, s]));
  for (const d of desired.sets) {
    const s = sets.get(d.name);
    if (!s) {
      edits.push({ kind: 'set-create', set: d });
      continue;
    }
    const have = new Set(s.elements);
    const wanted = new Set<string>(d.elements);
    const added = d.elements.filter((e) => !have.has(e));
    const removed = s.elements.filter((e) => !wanted.has(e));
    if (added.length > 0 || removed.length > 0) edits.push({ kind: 'set-update', set: d, added, removed });
  }
  const wantedSets = new Set(desired.sets.map((s) => s.name));
  for (const s of current.sets) {
    // rewriteReasons made sure every set that goes has a handle.
    if (!wantedSets.has(s.name))
      edits.push({ kind: 'set-remove', name: s.name, handle: s.handle as NftHandle });
  }

  for (const r of desired.rules) {
    const key = ruleText(r);
    const n = want.get(key) ?? 0;
    if (n > 0) {
      want.set(key, n - 1);
      edits.push({ kind: 'rule-add', rule: r });
    }
  }
  return edits;
}

/** True when the node's guard state changed since the plan was made (re-read it under the node lock). */
export function isNftPlanStale(plan: Pick<NftNodePlan, 'stateHash'>, fresh: NftGuardState): boolean {
  return nftStateHash(fresh) !== plan.stateHash;
}
