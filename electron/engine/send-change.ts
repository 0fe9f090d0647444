// Sending one node's change: CHANGE_SCRIPT under the node lock (stale check, save, one
// iptables-restore per family, undo of the first family if the second fails, the commit-confirmed
// timer), then a fresh read and verify. The outcome says which state the node is in: old, new, or
// unknown (connection lost mid-way: the transactions are atomic, so it is one or the other).
import {
  type NftFinding,
  type NftPortVerify,
  nftDesired,
  nftStateHash,
  nftStateMatches,
} from '../../shared/guard/nft/index.js';
import { stateAfter } from '../../shared/guard/render.js';
import { emptyFamilyState, type FamilyGuardState, guardStateHash } from '../../shared/guard/state.js';
import {
  type Finding,
  type NodeVerify,
  type PortVerify,
  type VerifyStatus,
  verifyNode,
} from '../../shared/guard/verify.js';
import { firstVisibleLine } from '../../shared/text/visible.js';
import type { NodeStepContext } from '../fleet/index.js';
import { verifyNftSnapshot } from './nft-change.js';
import { type BundleMeta, changeBundle, type NodeChange } from './node-change.js';
import { CHANGE_SCRIPT } from './node-scripts.js';
import { markerValue, parseScriptOutput } from './sections.js';
import { explain, readErrorMessage, readNode } from './session.js';
import type { NodeSnapshot } from './snapshot.js';

/** A node's verify by either guard: iptables (NodeVerify) or nft (NftNodeVerify), or both summed up. */
export interface GuardVerify {
  readonly node: string;
  readonly status: VerifyStatus;
  readonly findings: readonly (Finding | NftFinding)[];
  readonly ports: readonly (PortVerify | NftPortVerify)[];
}

export type SendOutcome =
  | {
      readonly status: 'applied';
      readonly verify?: GuardVerify;
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
        message:
          rest[0] === 'nft'
            ? `${node}: plan is stale: table inet nodeport-guard changed since it was read; nothing changed, plan again`
            : `${node}: plan is stale: the ${rest[0] === 'v6' ? 'IPv6' : 'IPv4'} guard or PREROUTING changed since it was read; nothing changed, plan again`,
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
        message: `${node}: ${TOOL_OF[rest[0] ?? ''] ?? 'iptables-restore'} failed${stderr ? `: ${stderr}` : ''}; node left at its old guard${undone(out.events)}`,
      };
    case 'undo-failed':
      return {
        status: 'failed',
        state: 'mixed',
        message: `${node}: ${PART_OF[rest[0] ?? ''] ?? 'IPv4'} change failed and undoing the ${PART_OF[rest[1] ?? ''] ?? 'IPv4'} part failed too${stderr ? `: ${stderr}` : ''}; run npg verify and npg rollback`,
      };
    case 'read-failed':
      return {
        status: 'failed',
        state: 'old',
        message: `${node}: could not read ${rest[0] === 'nft' ? 'table inet nodeport-guard' : `the ${rest[0] === 'v6' ? 'IPv6' : 'IPv4'} nat table`} under the lock${stderr ? `: ${stderr}` : ''}; nothing changed`,
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

/** The parts of the change script's output: which tool a part runs, and its name in messages. */
const TOOL_OF: Readonly<Record<string, string>> = {
  v4: 'iptables-restore',
  v6: 'ip6tables-restore',
  nft: 'nft -f',
};
const PART_OF: Readonly<Record<string, string>> = { v4: 'IPv4', v6: 'IPv6', nft: 'nft table' };

function undone(events: readonly (readonly string[])[]): string {
  const parts = events.filter((e) => e[0] === 'undone').map((e) => PART_OF[e[1] ?? ''] ?? e[1]);
  return parts.length ? ` (${parts.join(' and ')} part undone)` : '';
}

async function readAfter(
  ctx: NodeStepContext,
  change: NodeChange,
): Promise<{ ok: true; verify: GuardVerify; snapshot: NodeSnapshot } | { ok: false; message: string }> {
  const chains = change.desired.families.flatMap((f) => f.chains.map((c) => c.name));
  const r = await readNode(ctx.run, change.node, 'guard', [...new Set(chains)], readsNft(change));
  if (!r.ok) return { ok: false, message: readErrorMessage(r.error) };
  return { ok: true, snapshot: r.value, verify: verifyChange(r.value, change) };
}

/** A change with an nft part is read back with our table listed, whatever kube-proxy's mode. */
const readsNft = (change: NodeChange): 'nft' | 'iptables' => (change.nft ? 'nft' : 'iptables');

/** After a change: each part against what it should have left (an apply's nft part: the policy). */
export function verifyChange(snapshot: NodeSnapshot, change: NodeChange): GuardVerify {
  const nft = change.nft;
  if (!nft) return verifySnapshot(snapshot, change.desired);
  const n = verifyNftSnapshot(snapshot, nft.policy, nft.target);
  if (change.before.length === 0 && change.restores.length === 0) return n;
  return mergeVerify(verifySnapshot(snapshot, change.desired), n);
}

const RANK: Readonly<Record<VerifyStatus, number>> = { ok: 0, drift: 1, error: 2 };

function mergeVerify(a: GuardVerify, b: GuardVerify): GuardVerify {
  return {
    node: a.node,
    status: RANK[b.status] > RANK[a.status] ? b.status : a.status,
    findings: [...a.findings, ...b.findings],
    ports: [...a.ports, ...b.ports],
  };
}

/** The worst status of many verifies. */
export function worstStatus(nodes: readonly Pick<GuardVerify, 'status'>[]): VerifyStatus {
  return nodes.reduce<VerifyStatus>((s, n) => (RANK[n.status] > RANK[s] ? n.status : s), 'ok');
}

/** After a lost connection: does the node hold the state before the change, the one after, or neither? */
async function whichState(ctx: NodeStepContext, change: NodeChange): Promise<'old' | 'new' | 'unknown'> {
  const chains = [
    ...new Set([
      ...change.desired.families.flatMap((f) => f.chains.map((c) => c.name)),
      ...change.before.flatMap((s) => s.chains.map((c) => c.name)),
    ]),
  ];
  const r = await readNode(ctx.run, change.node, 'guard', chains, readsNft(change));
  if (!r.ok) return 'unknown';
  const nft = change.nft;
  let nftState: 'old' | 'new' | 'unknown' | undefined;
  if (nft) {
    const t = r.value.nftGuard?.table;
    // Handles are the kernel's: the new table matches by content, the old one is the one read.
    nftState = !t?.ok
      ? 'unknown'
      : nftStateMatches(t.value, nft.target)
        ? 'new'
        : nftStateHash(t.value) === nftStateHash(nft.before)
          ? 'old'
          : 'unknown';
    if (change.before.length === 0) return nftState;
  }
  const families = change.desired.families.map((f) => f.family);
  const now = families.map((f) => r.value.families.find((s) => s.family === f)?.state ?? emptyFamilyState(f));
  const bare = (states: readonly FamilyGuardState[]) =>
    guardStateHash(states.map((s) => ({ ...s, kubeServicesAt: undefined, foreignReferences: [] })));
  const iptState =
    bare(now) === bare(stateAfter(change.desired))
      ? 'new'
      : bare(now) === bare(change.before)
        ? 'old'
        : 'unknown';
  // A change with both parts is old or new only when both parts say so (the script may have died
  // between them).
  if (nftState === undefined || nftState === iptState) return iptState;
  return 'unknown';
}

/**
 * A node against the policy's desired guard, by the guard its kube-proxy mode takes: our nft table
 * in nftables mode (sets, rules, and every nat prerouting chain that runs at or before ours), else
 * our iptables chains.
 */
export function verifyGuard(snapshot: NodeSnapshot, desired: NodeChange['desired']): GuardVerify {
  if (snapshot.guardBackend === 'nft') return verifyNftSnapshot(snapshot, desired, nftDesired(desired));
  return verifySnapshot(snapshot, desired);
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
