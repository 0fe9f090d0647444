// Sending one node's change: CHANGE_SCRIPT under the node lock (stale check, save, one
// iptables-restore per family, undo of the first family if the second fails, the commit-confirmed
// timer), then a fresh read and verify. The outcome says which state the node is in: old, new, or
// unknown (connection lost mid-way: the transactions are atomic, so it is one or the other).
import { stateAfter } from '../../shared/guard/render.js';
import { emptyFamilyState, type FamilyGuardState, guardStateHash } from '../../shared/guard/state.js';
import { type NodeVerify, verifyNode } from '../../shared/guard/verify.js';
import { firstVisibleLine } from '../../shared/text/visible.js';
import type { NodeStepContext } from '../fleet/index.js';
import { type BundleMeta, changeBundle, type NodeChange } from './node-change.js';
import { CHANGE_SCRIPT } from './node-scripts.js';
import { markerValue, parseScriptOutput } from './sections.js';
import { explain, readErrorMessage, readNode } from './session.js';
import type { NodeSnapshot } from './snapshot.js';

export type SendOutcome =
  | {
      readonly status: 'applied';
      readonly verify?: NodeVerify;
      readonly after?: NodeSnapshot;
      /** `sh 1795673383` / `systemd 1795673383`: timer kind and node-clock deadline. */
      readonly timer?: string;
      readonly message?: string;
    }
  | { readonly status: 'stale'; readonly message: string }
  | { readonly status: 'pending'; readonly message: string; readonly token: string }
  | {
      readonly status: 'failed';
      readonly message: string;
      /** old: nothing changed (or undone); new: changed, but the answer was lost; mixed: undo failed; unknown: cannot tell. */
      readonly state: 'old' | 'new' | 'mixed' | 'unknown';
    };

export interface SendOptions {
  readonly meta: BundleMeta;
  readonly confirmSeconds: number;
  readonly timeoutMs?: number;
}

/** The node's own words, one visible line (a node is not trusted: shared/text/visible.ts). */
const firstLine = (text: string): string => firstVisibleLine(text);

export async function sendChange(
  ctx: NodeStepContext,
  change: NodeChange,
  options: SendOptions,
): Promise<SendOutcome> {
  const node = change.node;
  const r = await ctx.run({
    op: change.op,
    argv: [
      'sh',
      '-c',
      CHANGE_SCRIPT,
      'npg-change',
      change.op,
      change.snapshot.toolBackend,
      options.meta.token,
      String(options.confirmSeconds),
    ],
    stdin: changeBundle(change, options.meta),
    okExitCodes: [0, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    timeoutMs: options.timeoutMs ?? 120_000,
  });
  if (!r.ok) {
    const e = r.error;
    const unknown = e.kind === 'connection-lost' || e.kind === 'timeout' || e.kind === 'cancelled';
    if (!unknown) return { status: 'failed', message: explain(e), state: 'old' };
    // The script may or may not have run. Each family's change is atomic, so the node holds the old
    // guard or the new one: look (on a new connection) and say which.
    const state = await whichState(ctx, change);
    return {
      status: 'failed',
      message: `${explain(e)}; ${
        state === 'unknown'
          ? "could not look again: each family's change is atomic, the node holds the old or the new guard"
          : `read again: the node holds the ${state} guard`
      }`,
      state,
    };
  }
  const out = parseScriptOutput(r.stdout);
  const result = out.markers.get('result') ?? [];
  const [kind = '', ...rest] = result;
  const stderr = firstLine(out.sections.get('stderr')?.body ?? r.stderr);
  switch (kind) {
    case 'ok':
      break;
    case 'stale':
      return {
        status: 'stale',
        message: `${node}: plan is stale: the ${rest[0] === 'v6' ? 'IPv6' : 'IPv4'} guard or PREROUTING changed since it was read; nothing changed, plan again`,
      };
    case 'pending':
      return {
        status: 'pending',
        token: rest[0] ?? '',
        message: `${node}: a commit-confirmed change (${rest[0]}) is waiting for \`npg confirm\`; confirm or roll back first, nothing changed`,
      };
    case 'locked':
      return {
        status: 'failed',
        state: 'old',
        message: `${node}: another change holds the node lock (60 s); nothing changed`,
      };
    case 'restore-failed':
      return {
        status: 'failed',
        state: 'old',
        message: `${node}: ${rest[0] === 'v6' ? 'ip6tables-restore' : 'iptables-restore'} failed${stderr ? `: ${stderr}` : ''}; node left at its old guard${out.events.some((e) => e[0] === 'undone') ? ' (IPv4 part undone)' : ''}`,
      };
    case 'undo-failed':
      return {
        status: 'failed',
        state: 'mixed',
        message: `${node}: ${rest[0] === 'v6' ? 'IPv6' : 'IPv4'} change failed and undoing the ${rest[1] === 'v6' ? 'IPv6' : 'IPv4'} part failed too${stderr ? `: ${stderr}` : ''}; run npg verify and npg rollback`,
      };
    case 'read-failed':
      return {
        status: 'failed',
        state: 'old',
        message: `${node}: could not read the ${rest[0] === 'v6' ? 'IPv6' : 'IPv4'} nat table under the lock${stderr ? `: ${stderr}` : ''}; nothing changed`,
      };
    case 'timer-failed':
      return { status: 'failed', state: 'unknown', message: `${node}: could not arm the confirm timer` };
    default:
      return {
        status: 'failed',
        state: 'old',
        message: `${node}: change script ${kind ? `stopped: ${kind}` : `exited with ${r.code}`}${firstLine(r.stderr) ? `: ${firstLine(r.stderr)}` : ''}`,
      };
  }
  const timer = markerValue(out, 'timer');
  const after = await readAfter(ctx, change);
  if (!after.ok)
    return {
      status: 'applied',
      ...(timer ? { timer } : {}),
      message: `${node}: applied, but verify could not read: ${after.message}`,
    };
  return { status: 'applied', verify: after.verify, after: after.snapshot, ...(timer ? { timer } : {}) };
}

async function readAfter(
  ctx: NodeStepContext,
  change: NodeChange,
): Promise<{ ok: true; verify: NodeVerify; snapshot: NodeSnapshot } | { ok: false; message: string }> {
  const chains = change.desired.families.flatMap((f) => f.chains.map((c) => c.name));
  const r = await readNode(ctx.run, change.node, 'guard', [...new Set(chains)]);
  if (!r.ok) return { ok: false, message: readErrorMessage(r.error) };
  return { ok: true, snapshot: r.value, verify: verifySnapshot(r.value, change.desired) };
}

/** After a lost connection: does the node hold the state before the change, the one after, or neither? */
async function whichState(ctx: NodeStepContext, change: NodeChange): Promise<'old' | 'new' | 'unknown'> {
  const chains = [
    ...new Set([
      ...change.desired.families.flatMap((f) => f.chains.map((c) => c.name)),
      ...change.before.flatMap((s) => s.chains.map((c) => c.name)),
    ]),
  ];
  const r = await readNode(ctx.run, change.node, 'guard', chains);
  if (!r.ok) return 'unknown';
  const families = change.desired.families.map((f) => f.family);
  const now = families.map((f) => r.value.families.find((s) => s.family === f)?.state ?? emptyFamilyState(f));
  const bare = (states: readonly FamilyGuardState[]) =>
    guardStateHash(states.map((s) => ({ ...s, kubeServicesAt: undefined, foreignReferences: [] })));
  if (bare(now) === bare(stateAfter(change.desired))) return 'new';
  if (bare(now) === bare(change.before)) return 'old';
  return 'unknown';
}

export function verifySnapshot(snapshot: NodeSnapshot, desired: NodeChange['desired']): NodeVerify {
  return verifyNode({
    node: snapshot.node,
    desired,
    reads: desired.families.map((f) => {
      const read = snapshot.families.find((s) => s.family === f.family);
      return read ? { family: f.family, state: read.state } : { family: f.family, error: 'not read' };
    }),
    listeningPorts: snapshot.listening,
    ...(snapshot.guardOtherBackend
      ? { backends: { guard: snapshot.guardOtherBackend, kubeProxy: snapshot.kubeBackend } }
      : {}),
  });
}
