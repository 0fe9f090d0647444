// Whether a prepared change may go to the nodes, and why not: the rules every front end (CLI,
// desktop) applies before runChanges. Pure: it reads the prepared plans and a saved plan, if any.
import type { NodeChange } from './node-change.js';
import type { Prepared } from './prepare.js';
import { planHashOf } from './run-changes.js';

/** A plan saved by `npg plan --out` (and the UI's "apply this plan"): what apply must still find. */
export interface SavedPlan {
  readonly version: 1;
  readonly kind: 'npg-plan';
  readonly time: string;
  readonly workspace: string;
  readonly policyHash: string;
  readonly planHash: string;
  readonly nodes: readonly { readonly node: string; readonly stateHash: string; readonly noop: boolean }[];
}

export function savedPlanOf(
  prepared: Prepared,
  workspace: string,
  policyHash: string,
  time: string,
): SavedPlan {
  return {
    version: 1,
    kind: 'npg-plan',
    time,
    workspace,
    policyHash,
    planHash: planHashOf(prepared.changes),
    nodes: prepared.changes.map((c) => ({ node: c.node, stateHash: c.plan.stateHash, noop: c.plan.noop })),
  };
}

/** Checks the shape of a saved plan read from a file; a one-line reason when it is not one. */
export function checkSavedPlan(
  value: unknown,
): { ok: true; plan: SavedPlan } | { ok: false; reason: string } {
  const v = value as Partial<SavedPlan> | null;
  if (v?.kind !== 'npg-plan' || v.version !== 1 || !Array.isArray(v.nodes))
    return { ok: false, reason: 'not a plan written by npg plan --out' };
  return { ok: true, plan: v as SavedPlan };
}

/** Why a saved plan no longer matches what the nodes and the workspace hold now, if it does not. */
export function staleAgainst(saved: SavedPlan, policyHash: string, prepared: Prepared): string | undefined {
  if (saved.policyHash !== policyHash) return 'the workspace policy changed since the plan was made';
  for (const n of saved.nodes) {
    const c = prepared.changes.find((x) => x.node === n.node);
    if (!c) continue;
    if (c.plan.stateHash !== n.stateHash)
      return `${n.node}: plan is stale: its guard state changed since the plan was made`;
  }
  if (planHashOf(prepared.changes) !== saved.planHash)
    return 'the planned transactions differ from the saved plan';
  return undefined;
}

export type Gate =
  | { readonly go: true; readonly work: readonly NodeChange[] }
  | {
      readonly go: false;
      /** failed: a node could not be read; difference: blocked or stale; nothing: every node holds it. */
      readonly outcome: 'failed' | 'difference' | 'nothing';
      readonly message: string;
    };

export interface GateOptions {
  readonly op: string;
  /** Go on with the nodes that could be planned (the CLI's --continue). */
  readonly continueOnFailure?: boolean;
  /** Apply exactly this saved plan: refuse when it is stale. */
  readonly saved?: SavedPlan;
  readonly policyHash: string;
}

/**
 * The order matters: an unreadable node first (nothing changes anywhere unless the caller said to
 * go on without it), then a plan blocked by an error (e.g. an empty allow-list without
 * allowEmpty), then a stale saved plan, then nothing to do.
 */
export function gateChange(prepared: Prepared, options: GateOptions): Gate {
  const u = prepared.unplanned[0];
  if (u && !options.continueOnFailure)
    return {
      go: false,
      outcome: u.status === 'unreachable' ? 'failed' : 'difference',
      message: `${u.message}; nothing changed on any node (--continue changes the others)`,
    };
  const blocked = prepared.changes.find((c) => c.plan.errors.length > 0);
  if (blocked)
    return {
      go: false,
      outcome: 'difference',
      message: `${blocked.plan.errors[0]!.message}; blocked, nothing changed on any node`,
    };
  if (options.saved) {
    const why = staleAgainst(options.saved, options.policyHash, prepared);
    if (why)
      return {
        go: false,
        outcome: 'difference',
        message: `${why}; re-plan (npg plan --out), nothing changed`,
      };
  }
  const work = prepared.changes.filter((c) => !c.plan.noop);
  if (work.length === 0)
    return {
      go: false,
      outcome: 'nothing',
      message: `nothing to ${options.op}: every node already holds it`,
    };
  return { go: true, work };
}
