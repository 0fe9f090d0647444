// Plan: the difference between a node's current guard state and the desired one, as data (edits), per
// family. render.ts prints it as one iptables-restore transaction per family; the UI and CLI show the
// same edits as a readable diff. Applying a plan and planning again gives `noop`.
import type { Backend, Rule } from '../netfilter/model';
import type { Family, ProxyMode } from '../vocabulary';
import { type ChainName, ENTRY_CHAIN } from '../vocabulary';
import type { DesiredChain, DesiredGuard, FamilyDesired } from './desired';
import { entryJumpRule } from './rules';
import {
  type EntryJump,
  emptyFamilyState,
  type FamilyGuardState,
  type GuardChain,
  guardStateHash,
  type RulePosition,
  ruleKey,
} from './state';
import { type PlanChecks, type PlanIssue, planIssues } from './warnings';

/** kube-proxy's proxy mode as discovered; `none`: no kube-proxy rules found. */

export interface KubeProxyInfo {
  readonly mode: ProxyMode;
  /** The iptables backend kube-proxy writes to; ours must be the same (never mix legacy and nft). */
  readonly backend: Backend;
}

export type GuardEdit =
  | {
      readonly kind: 'chain-create';
      readonly family: Family;
      readonly chain: ChainName;
      readonly rules: readonly Rule[];
    }
  | {
      readonly kind: 'chain-update';
      readonly family: Family;
      readonly chain: ChainName;
      readonly added: readonly Rule[];
      readonly removed: readonly Rule[];
      /** Same rules, different order (only when nothing was added or removed). */
      readonly reordered: boolean;
      /** The chain's full new contents (the transaction rewrites the whole chain). */
      readonly rules: readonly Rule[];
    }
  | {
      readonly kind: 'chain-remove';
      readonly family: Family;
      readonly chain: ChainName;
      readonly rules: readonly Rule[];
    }
  | { readonly kind: 'entry-add'; readonly family: Family }
  | {
      readonly kind: 'entry-move';
      readonly family: Family;
      /** The existing jump, deleted and inserted again at position 1. */
      readonly from: EntryJump;
      readonly reason: 'after-kube-services' | 'not-canonical';
      readonly kubeServicesAt?: RulePosition;
    }
  | { readonly kind: 'entry-dedupe'; readonly family: Family; readonly jumps: readonly EntryJump[] }
  | { readonly kind: 'entry-remove'; readonly family: Family; readonly jumps: readonly EntryJump[] };

export interface FamilyPlan {
  readonly family: Family;
  readonly current: FamilyGuardState;
  readonly desired: FamilyDesired;
  readonly edits: readonly GuardEdit[];
  readonly noop: boolean;
}

export interface NodePlan {
  readonly node: string;
  /** Which iptables flavour must run the transaction (`iptables-<backend>-restore`). */
  readonly backend: Backend;
  /**
   * Fingerprint of the current guard state of the planned families. The engine re-reads the node
   * right before applying and refuses ("plan is stale") when guardStateHash differs.
   */
  readonly stateHash: string;
  readonly families: readonly FamilyPlan[];
  /** All families' edits, ipv4 first. */
  readonly edits: readonly GuardEdit[];
  readonly noop: boolean;
  readonly warnings: readonly PlanIssue[];
  /** Non-empty: the plan must not be applied. */
  readonly errors: readonly PlanIssue[];
}

export interface PlanNodeInput {
  readonly node: string;
  /** Current state per family (from extractGuardState); a missing family counts as empty. */
  readonly current: readonly FamilyGuardState[];
  readonly desired: DesiredGuard;
  readonly kubeProxy: KubeProxyInfo;
  readonly checks?: PlanChecks;
}

export function planNode(input: PlanNodeInput): NodePlan {
  const families = input.desired.families.map((d) =>
    planFamily(input.current.find((c) => c.family === d.family) ?? emptyFamilyState(d.family), d),
  );
  const { warnings, errors } = planIssues(input, families);
  const edits = families.flatMap((f) => f.edits);
  return {
    node: input.node,
    backend: input.kubeProxy.backend,
    stateHash: guardStateHash(families.map((f) => f.current)),
    families,
    edits,
    noop: edits.length === 0,
    warnings,
    errors,
  };
}

export function planFamily(current: FamilyGuardState, desired: FamilyDesired): FamilyPlan {
  const family = desired.family;
  const edits: GuardEdit[] = [];
  const have = new Map(current.chains.map((c) => [c.name, c]));
  const want = new Set(desired.chains.map((c) => c.name));
  for (const d of desired.chains) {
    const c = have.get(d.name);
    if (!c) edits.push({ kind: 'chain-create', family, chain: d.name, rules: d.rules });
    else {
      const update = chainUpdate(family, c, d);
      if (update) edits.push(update);
    }
  }
  edits.push(...entryEdits(current, desired));
  // Removals last, NPG-PREROUTING after the chains it jumps to, matching the transaction's -X order.
  const gone = current.chains.filter((c) => !want.has(c.name));
  gone.sort((a, b) => Number(a.name === ENTRY_CHAIN) - Number(b.name === ENTRY_CHAIN));
  for (const c of gone) edits.push({ kind: 'chain-remove', family, chain: c.name, rules: c.rules });
  return { family, current, desired, edits, noop: edits.length === 0 };
}

function chainUpdate(family: Family, current: GuardChain, desired: DesiredChain): GuardEdit | undefined {
  const before = current.rules.map(ruleKey);
  const after = desired.rules.map(ruleKey);
  if (before.length === after.length && before.every((k, i) => k === after[i])) return undefined;
  const added = multisetMinus(desired.rules, after, before);
  const removed = multisetMinus(current.rules, before, after);
  return {
    kind: 'chain-update',
    family,
    chain: desired.name,
    added,
    removed,
    reordered: added.length === 0 && removed.length === 0,
    rules: desired.rules,
  };
}

/** The rules of `rules` (with keys `keys`) left over after taking away one per key in `minus`. */
export function multisetMinus(
  rules: readonly Rule[],
  keys: readonly string[],
  minus: readonly string[],
): Rule[] {
  const count = new Map<string, number>();
  for (const k of minus) count.set(k, (count.get(k) ?? 0) + 1);
  const out: Rule[] = [];
  rules.forEach((r, i) => {
    const k = keys[i] ?? '';
    const n = count.get(k) ?? 0;
    if (n > 0) count.set(k, n - 1);
    else out.push(r);
  });
  return out;
}

function entryEdits(current: FamilyGuardState, desired: FamilyDesired): GuardEdit[] {
  const family = desired.family;
  const jumps = current.entryJumps;
  if (!desired.entry) return jumps.length > 0 ? [{ kind: 'entry-remove', family, jumps }] : [];
  const [only, ...more] = jumps;
  if (!only) return [{ kind: 'entry-add', family }];
  if (more.length > 0) return [{ kind: 'entry-dedupe', family, jumps }];
  if (ruleKey(only.rule) !== ruleKey(entryJumpRule())) {
    return [{ kind: 'entry-move', family, from: only, reason: 'not-canonical' }];
  }
  const ks = current.kubeServicesAt;
  if (ks !== undefined && only.position > ks) {
    return [{ kind: 'entry-move', family, from: only, reason: 'after-kube-services', kubeServicesAt: ks }];
  }
  return [];
}

/** The entry jumps an edit deletes (`-D PREROUTING ...`), in order. */
export function entryJumpsRemoved(edit: GuardEdit): readonly EntryJump[] {
  switch (edit.kind) {
    case 'entry-move':
      return [edit.from];
    case 'entry-dedupe':
    case 'entry-remove':
      return edit.jumps;
    default:
      return [];
  }
}

/** Whether an edit (re)inserts the entry jump at PREROUTING position 1. */
export function insertsEntryJump(edit: GuardEdit): boolean {
  return edit.kind === 'entry-add' || edit.kind === 'entry-move' || edit.kind === 'entry-dedupe';
}

/**
 * True when the node's guard state changed since the plan was made (re-read it right before applying,
 * under the node lock): the engine then refuses with "plan is stale" and plans again.
 */
export function isPlanStale(plan: NodePlan, fresh: readonly FamilyGuardState[]): boolean {
  const states = plan.families.map(
    (f) => fresh.find((s) => s.family === f.family) ?? emptyFamilyState(f.family),
  );
  return guardStateHash(states) !== plan.stateHash;
}
