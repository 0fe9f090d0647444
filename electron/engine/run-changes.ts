// Rolling a change out over the fleet: the canary node first (change + verify), then the rest in
// parallel; at the first failure no further node is started unless the caller asked to continue.
// Each node's state before the change is written locally first, then sent. Every outcome names
// the node's state: unchanged, new (applied), or old (stale, failed, skipped).
import { randomBytes } from 'node:crypto';
import { fingerprint } from '../../shared/guard/hash.js';
import { serializeNftSavedState } from '../../shared/guard/nft/index.js';
import { serializeSavedState } from '../../shared/guard/saved-state.js';
import type { ProgressListener } from '../fleet/index.js';
import { appendHistory, type HistoryNodeResult, type HistoryRecord, historyPlans } from './history.js';
import { type KillResult, killEstablished } from './kill-established.js';
import { type LocalStore, operatorName, saveBeforeState, writePending } from './local-store.js';
import { type NodeChange, stateHashes } from './node-change.js';
import { type GuardVerify, type SendOutcome, sendChange } from './send-change.js';
import type { Session } from './session.js';

export type NodeOutcome =
  | { readonly node: string; readonly status: 'unchanged' }
  | {
      readonly node: string;
      readonly status: 'applied';
      readonly verify?: GuardVerify;
      readonly timer?: string;
      readonly killed?: KillResult;
      readonly message?: string;
    }
  | { readonly node: string; readonly status: 'stale' | 'pending'; readonly message: string }
  | {
      readonly node: string;
      readonly status: 'failed';
      readonly message: string;
      readonly state: 'old' | 'new' | 'mixed' | 'unknown';
    }
  | { readonly node: string; readonly status: 'skipped'; readonly message: string };

export interface RunChangesOptions {
  /** Commit-confirmed: seconds until the nodes restore their saved state unless confirmed. */
  readonly confirmSeconds?: number;
  /** Go on with the other nodes after a failure. */
  readonly continueOnFailure?: boolean;
  /** The canary node (default: the first node that changes, in inventory order). */
  readonly canary?: string;
  /** After an apply: delete conntrack entries of now-blocked sources. */
  readonly killEstablished?: boolean;
  /** Limit for one node's change script (default 120 s; it waits up to 60 s for the node lock). */
  readonly changeTimeoutMs?: number;
  readonly store: LocalStore;
  readonly workspacePath: string;
  readonly policyHash?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
  /** One line per node as it finishes (for stderr). */
  readonly onNodeDone?: (outcome: NodeOutcome) => void;
}

export interface RunChangesResult {
  readonly token: string;
  readonly planHash: string;
  readonly outcomes: readonly NodeOutcome[];
  readonly outcome: 'ok' | 'difference' | 'failed';
}

export function planHashOf(changes: readonly NodeChange[]): string {
  return fingerprint(
    changes
      .map(
        (c) =>
          `${c.node}\n${c.restores.map((r) => `${r.family}\n${r.text}`).join('\n')}${c.nft?.text ? `\nnft\n${c.nft.text}` : ''}`,
      )
      .join('\n--\n'),
  );
}

function isFailure(o: NodeOutcome): boolean {
  if (o.status === 'applied') return o.verify !== undefined && o.verify.status !== 'ok';
  return o.status !== 'unchanged' && o.status !== 'skipped';
}

export async function runChanges(
  session: Session,
  changes: readonly NodeChange[],
  options: RunChangesOptions,
): Promise<RunChangesResult> {
  const token = randomBytes(8).toString('hex');
  const time = new Date().toISOString();
  const operator = operatorName();
  const planHash = planHashOf(changes);
  const meta = { token, time, operator, planHash };
  const confirmSeconds = options.confirmSeconds ?? 0;
  const outcomes = new Map<string, NodeOutcome>();
  const done = (o: NodeOutcome) => {
    outcomes.set(o.node, o);
    options.onNodeDone?.(o);
  };
  const todo = changes.filter((c) => !c.plan.noop);
  for (const c of changes) if (c.plan.noop) done({ node: c.node, status: 'unchanged' });

  // The local copy of every node's state before the change, before anything is sent.
  const stamp = `${time.replace(/[:.]/g, '-')}-${token}`;
  for (const c of todo) {
    const files = new Map(c.before.map((s) => [s.family === 'ipv4' ? 'v4' : 'v6', serializeSavedState(s)]));
    if (c.nft) files.set('nft', serializeNftSavedState(c.nft.before));
    await saveBeforeState(options.store, c.node, stamp, files);
  }
  if (confirmSeconds > 0 && todo.length > 0) {
    await writePending(options.store, {
      token,
      time,
      confirmWithinSeconds: confirmSeconds,
      nodes: todo.map((c) => c.node),
    });
  }

  let stop = false;
  const one = async (change: NodeChange): Promise<NodeOutcome> => {
    const step = await session.fleet.runOnAll<SendOutcome>(
      [change.node],
      async (ctx) => {
        if (stop) return { ok: true, value: { status: 'failed', state: 'old', message: 'skipped' } };
        return {
          ok: true,
          value: await sendChange(ctx, change, {
            meta,
            confirmSeconds,
            ...(options.changeTimeoutMs ? { timeoutMs: options.changeTimeoutMs } : {}),
          }),
        };
      },
      {
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      },
    );
    const r = step[0];
    if (!r?.ok)
      return {
        node: change.node,
        status: 'failed',
        state: 'old',
        message: r ? r.error.message : `${change.node}: not run`,
      };
    const s = r.value;
    if (s.status === 'failed' && s.message === 'skipped')
      return {
        node: change.node,
        status: 'skipped',
        message: `${change.node}: not started after an earlier failure; old guard kept`,
      };
    let outcome: NodeOutcome;
    switch (s.status) {
      case 'applied': {
        let killed: KillResult | undefined;
        if (options.killEstablished && change.op === 'apply') {
          killed = await killEstablished(session.fleet, change);
        }
        outcome = {
          node: change.node,
          status: 'applied',
          ...(s.verify ? { verify: s.verify } : {}),
          ...(s.timer ? { timer: s.timer } : {}),
          ...(killed ? { killed } : {}),
          ...(s.message ? { message: s.message } : {}),
        };
        break;
      }
      case 'stale':
      case 'pending':
        outcome = { node: change.node, status: s.status, message: s.message };
        break;
      case 'failed':
        outcome = { node: change.node, status: 'failed', state: s.state, message: s.message };
        break;
    }
    if (isFailure(outcome) && !options.continueOnFailure) stop = true;
    return outcome;
  };

  const canaryName =
    options.canary && todo.some((c) => c.node === options.canary) ? options.canary : todo[0]?.node;
  const canary = todo.find((c) => c.node === canaryName);
  if (canary) done(await one(canary));
  const rest = todo.filter((c) => c !== canary);
  await Promise.all(rest.map(async (c) => done(await one(c))));

  const ordered = changes.map((c) => outcomes.get(c.node)!);
  const anyFailed = ordered.some((o) => o.status === 'failed');
  const anyDifference = ordered.some((o) => isFailure(o) || o.status === 'skipped');
  const outcome: RunChangesResult['outcome'] = anyFailed ? 'failed' : anyDifference ? 'difference' : 'ok';
  if (confirmSeconds > 0 && !ordered.some((o) => o.status === 'applied' && o.timer))
    await writePending(options.store, undefined);

  const first = changes[0];
  const record: HistoryRecord = {
    version: 1,
    time,
    operator,
    op: first?.op ?? 'apply',
    workspace: options.workspacePath,
    token,
    planHash,
    ...(options.policyHash ? { policyHash: options.policyHash } : {}),
    ...(confirmSeconds > 0 ? { confirmWithinSeconds: confirmSeconds } : {}),
    outcome,
    nodes: ordered.map((o) => historyEntry(o, changes.find((c) => c.node === o.node)!)),
    plans: historyPlans(changes),
  };
  if (todo.length > 0) await appendHistory(options.store, record);
  return { token, planHash, outcomes: ordered, outcome };
}

function historyEntry(o: NodeOutcome, change: NodeChange): HistoryNodeResult {
  const hashes = stateHashes(change);
  const base = { node: o.node, status: o.status, stateHashBefore: hashes.before };
  switch (o.status) {
    case 'unchanged':
      return base;
    case 'applied':
      return {
        ...base,
        status: o.verify && o.verify.status !== 'ok' ? 'drift' : 'applied',
        stateHashAfter: hashes.after,
        ...(o.timer ? { timer: o.timer } : {}),
        ...(o.verify && o.verify.status !== 'ok'
          ? { message: o.verify.findings.find((f) => f.severity !== 'info')?.message ?? 'verify failed' }
          : {}),
      };
    default:
      return { ...base, message: o.message };
  }
}
