// The change use case behind `npg plan|apply|rollback|remove` and the desktop's Plan/Apply: read
// every node, plan, gate, ask, then roll out (canary first). The faces only format the report;
// every decision, the exit code included, is made here so both faces decide alike.

import type { PortRange } from '../../../shared/guard/warnings.js';
import { nodePortRangeOf } from '../../../shared/workspace/ports.js';
import type { Cluster } from '../../../shared/workspace/schema.js';
import { type Gate, gateChange, type SavedPlan, savedPlanOf } from '../change-gate.js';
import type { LocalStore } from '../local-store.js';
import type { ClusterChecks } from '../node-change.js';
import { confirmQuestion, planTextLines } from '../plan-text.js';
import { checkPolicy, type Prepared, parseCheckCidrs, policyHash, prepare } from '../prepare.js';
import { type NodeOutcome, type RunChangesResult, runChanges } from '../run-changes.js';
import type { Session } from '../session.js';
import type { LoadedWorkspace } from '../workspace-file.js';
import { type ExitCode, type NodeStepEvent, stepListener, type UseCaseIo } from './io.js';

export type { ExitCode, UseCaseIo } from './io.js';

export type ChangeRequestOp = 'plan' | 'apply' | 'rollback' | 'remove';

/** Plan-time checks beyond the policy (what `--allow-empty`, `--pod-cidr`, `--lb-health-check` add). */
export interface ChangeChecks {
  readonly allowEmpty?: true;
  readonly podCidrs?: readonly string[];
  readonly healthCheckRanges?: readonly string[];
  /** The workspace's `cluster.nodePortRange`. */
  readonly nodePortRange?: PortRange;
  /** Nodes guarded even where their dataplane may bypass netfilter (cluster.guardAnyway, --guard-anyway). */
  readonly guardAnyway?: readonly string[];
}

export interface ChangeRequest {
  readonly op: ChangeRequestOp;
  /** apply and plan; default: the workspace's `cluster` values (checksOf). */
  readonly checks?: ChangeChecks;
  /** Commit-confirmed: the nodes restore their saved guard unless confirmed within this time. */
  readonly confirmSeconds?: number;
  readonly canary?: string;
  readonly continueOnFailure?: boolean;
  readonly killEstablished?: boolean;
  /** Apply exactly this plan (`npg plan --out`): refused when the nodes or policy changed since. */
  readonly savedPlan?: SavedPlan;
}

export type ChangeEvent =
  | NodeStepEvent<'read'>
  /** Every node read and planned; `lines` is the plan as the CLI prints it, before any question. */
  | { readonly kind: 'planned'; readonly nodes: number; readonly lines: readonly string[] }
  | { readonly kind: 'node-done'; readonly outcome: NodeOutcome };

/** A gate that said no: a node unreadable (failed), blocked or stale (difference), or nothing to do. */
export type HeldGate = Extract<Gate, { go: false }>;

interface ReportBase {
  readonly op: ChangeRequestOp;
  readonly prepared: Prepared;
  readonly exitCode: ExitCode;
}

export type ChangeReport =
  /** op plan: what apply would do; savedPlan is what `--out` writes. */
  | (ReportBase & { readonly outcome: 'planned'; readonly savedPlan: SavedPlan })
  /** The gate held the change: nothing was sent. */
  | (ReportBase & { readonly outcome: 'held'; readonly gate: HeldGate })
  /** The question was answered no, or the signal aborted before anything was sent. */
  | (ReportBase & { readonly outcome: 'not-confirmed' | 'cancelled' })
  | (ReportBase & {
      readonly outcome: 'ran';
      readonly run: RunChangesResult;
      readonly confirmSeconds?: number;
    });

const CONFIRM_MIN_SECONDS = 10;
const CONFIRM_MAX_SECONDS = 86_400;

/** The workspace's `cluster` values plus a run's additions; messages name the CLI's flags. */
export function checksOf(
  cluster: Cluster | undefined,
  extra: {
    allowEmpty?: boolean;
    podCidrs?: readonly string[];
    healthCheckRanges?: readonly string[];
    guardAnyway?: readonly string[];
  } = {},
): { ok: true; checks: ChangeChecks } | { ok: false; message: string } {
  const pods = parseCheckCidrs('--pod-cidr', [...(cluster?.podCidrs ?? []), ...(extra.podCidrs ?? [])]);
  if (!pods.ok) return pods;
  const lb = parseCheckCidrs('--lb-health-check', [
    ...(cluster?.healthCheckRanges ?? []),
    ...(extra.healthCheckRanges ?? []),
  ]);
  if (!lb.ok) return lb;
  const range = nodePortRangeOf(cluster);
  const anyway = [...new Set([...(cluster?.guardAnyway ?? []), ...(extra.guardAnyway ?? [])])];
  return {
    ok: true,
    checks: {
      ...(anyway.length ? { guardAnyway: anyway } : {}),
      ...(extra.allowEmpty ? { allowEmpty: true } : {}),
      ...(pods.cidrs.length ? { podCidrs: pods.cidrs } : {}),
      ...(lb.cidrs.length ? { healthCheckRanges: lb.cidrs } : {}),
      ...(range ? { nodePortRange: range } : {}),
    },
  };
}

/**
 * What can be refused before any connection: the policy (apply and plan), the canary's name, the
 * commit-confirmed time. The messages are the CLI's, so both faces say the same.
 */
export function checkChangeRequest(
  loaded: LoadedWorkspace,
  req: ChangeRequest,
): { ok: true } | { ok: false; message: string } {
  const s = req.confirmSeconds;
  if (s !== undefined && (!Number.isInteger(s) || s < CONFIRM_MIN_SECONDS || s > CONFIRM_MAX_SECONDS))
    return {
      ok: false,
      message: `--confirm-within ${JSON.stringify(String(s))}: whole seconds from ${CONFIRM_MIN_SECONDS} to ${CONFIRM_MAX_SECONDS}`,
    };
  if (req.op === 'apply' || req.op === 'plan') {
    if (req.checks === undefined) {
      const c = checksOf(loaded.workspace.cluster);
      if (!c.ok) return c;
    }
    const problems = checkPolicy(loaded.workspace.policy);
    if (problems.length > 0)
      return {
        ok: false,
        message: `${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}; nothing sent`,
      };
  }
  if (req.canary !== undefined && !loaded.workspace.inventory.nodes.some((n) => n.name === req.canary))
    return { ok: false, message: `--canary ${JSON.stringify(req.canary)}: not a node of the inventory` };
  return { ok: true };
}

/** op plan: 2 when a node could not be read, 1 when anything is due (changes, blocked, unplanned). */
export function planExitCode(prepared: Prepared): ExitCode {
  if (prepared.unplanned.some((u) => u.status === 'unreachable')) return 2;
  const due = prepared.changes.some((c) => !c.plan.noop || c.plan.errors.length > 0);
  return !due && prepared.unplanned.length === 0 ? 0 : 1;
}

/** A held gate: nothing to do is fine unless some node could not be planned. */
export function heldExitCode(gate: HeldGate, prepared: Prepared): ExitCode {
  if (gate.outcome === 'nothing') return prepared.unplanned.length > 0 ? 1 : 0;
  return gate.outcome === 'failed' ? 2 : 1;
}

/** After a rollout: a failed node or an unreadable one is 2; drift, skips or unplanned nodes 1. */
export function runExitCode(run: Pick<RunChangesResult, 'outcome'>, prepared: Prepared): ExitCode {
  if (run.outcome === 'failed' || prepared.unplanned.some((u) => u.status === 'unreachable')) return 2;
  if (run.outcome === 'difference' || prepared.unplanned.length > 0) return 1;
  return 0;
}

export async function runChange(
  session: Session,
  loaded: LoadedWorkspace,
  store: LocalStore,
  req: ChangeRequest,
  io: UseCaseIo<ChangeEvent> = {},
): Promise<ChangeReport> {
  // The faces check first (before connecting); this is the guard for a face that did not.
  const valid = checkChangeRequest(loaded, req);
  if (!valid.ok) throw new Error(valid.message);
  const { op, confirmSeconds } = req;
  const policy = loaded.workspace.policy;
  const hash = policyHash(policy);
  const checks = op === 'apply' || op === 'plan' ? checksFor(loaded, req) : {};
  const onProgress = stepListener('read', io.onEvent);
  const prepared = await prepare(session, op === 'plan' ? 'apply' : op, policy, {
    checks,
    store,
    ...(onProgress ? { onProgress } : {}),
    ...(io.signal ? { signal: io.signal } : {}),
  });
  // A read cut short is no plan to show or act on.
  if (io.signal?.aborted) return { op, prepared, outcome: 'cancelled', exitCode: 2 };
  io.onEvent?.({ kind: 'planned', nodes: prepared.changes.length, lines: planTextLines(prepared) });
  if (op === 'plan') {
    const savedPlan = savedPlanOf(prepared, loaded.path, hash, new Date().toISOString());
    return { op, prepared, outcome: 'planned', savedPlan, exitCode: planExitCode(prepared) };
  }

  const gate = gateChange(prepared, {
    op,
    policyHash: hash,
    ...(req.continueOnFailure ? { continueOnFailure: true } : {}),
    ...(req.savedPlan ? { saved: req.savedPlan } : {}),
  });
  if (!gate.go) return { op, prepared, outcome: 'held', gate, exitCode: heldExitCode(gate, prepared) };
  if (io.confirm && !(await io.confirm(confirmQuestion(op, gate.work, confirmSeconds))))
    return { op, prepared, outcome: 'not-confirmed', exitCode: 2 };
  // The last moment a stop costs nothing: after this, nodes change.
  if (io.signal?.aborted) return { op, prepared, outcome: 'cancelled', exitCode: 2 };

  const run = await runChanges(session, prepared.changes, {
    store,
    workspacePath: loaded.path,
    policyHash: hash,
    ...(confirmSeconds ? { confirmSeconds } : {}),
    ...(req.continueOnFailure ? { continueOnFailure: true } : {}),
    ...(req.canary ? { canary: req.canary } : {}),
    ...(req.killEstablished ? { killEstablished: true } : {}),
    ...(io.signal ? { signal: io.signal } : {}),
    ...(io.onEvent
      ? { onNodeDone: (outcome: NodeOutcome) => io.onEvent?.({ kind: 'node-done', outcome }) }
      : {}),
  });
  return {
    op,
    prepared,
    outcome: 'ran',
    run,
    ...(confirmSeconds ? { confirmSeconds } : {}),
    exitCode: runExitCode(run, prepared),
  };
}

/** The request's checks, or the workspace's (already checked by checkChangeRequest). */
function checksFor(loaded: LoadedWorkspace, req: ChangeRequest): ClusterChecks {
  if (req.checks) return req.checks;
  const c = checksOf(loaded.workspace.cluster);
  return c.ok ? c.checks : {};
}
