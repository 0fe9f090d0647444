// The verify use case behind `npg verify` and the desktop's checks: does every node hold the
// policy's guard, in front of kube-proxy; optionally with live TCP probes (probe-nodes.ts) whose
// outcome is judged against the policy. One round, or rounds on an interval until stopped (watch),
// each reporting the findings that appeared and resolved since the round before.
import { toCidr } from '../../../shared/guard/cidr.js';
import type { VerifyStatus } from '../../../shared/guard/verify.js';
import type { LocalStore } from '../local-store.js';
import { type ProbeReport, probeNodes } from '../probe-nodes.js';
import { PROBE_MAX_SECONDS } from '../probe-script.js';
import type { Session } from '../session.js';
import { blockCountersOf, type VerifyResult, verifyNodes } from '../verify-nodes.js';
import type { LoadedWorkspace } from '../workspace-file.js';
import { type ExitCode, type NodeStepEvent, sleep, stepListener, type UseCaseIo } from './io.js';

/** Live probes: from this machine, and/or over SSH from one inventory node to the others. */
export interface ProbeRequest {
  readonly fromHere: boolean;
  readonly fromNode?: string;
  readonly timeoutMs: number;
  /** Every global address a node reports, not only the inventory's host. */
  readonly allAddresses: boolean;
  /** The address the nodes see this machine as (NAT between); default: the route's source. */
  readonly source?: string;
}

export interface VerifyRequest {
  /** Read the whole nat table, not only PREROUTING and our chains. */
  readonly full?: boolean;
  readonly probe?: ProbeRequest;
}

export type VerifyEvent =
  | NodeStepEvent<'verify'>
  /** The rule check is done and the probes start (they take up to their time limit). */
  | { readonly kind: 'probing' };

/** One round: the rule check, the probes when asked for, and the worse of the two. */
export interface VerifyReport {
  readonly status: VerifyStatus;
  readonly verify: VerifyResult;
  readonly probes?: ProbeReport;
  readonly exitCode: ExitCode;
}

/** A watch round: what is wrong now, and what changed since the round before. */
export interface WatchRound extends VerifyReport {
  readonly round: number;
  /** When the round ended (ISO). */
  readonly time: string;
  readonly findings: readonly string[];
  readonly appeared: readonly string[];
  readonly resolved: readonly string[];
}

export interface WatchRequest extends VerifyRequest {
  readonly periodSeconds: number;
  /** Stop after this many rounds (default: until the signal aborts). */
  readonly rounds?: number;
}

export interface WatchReport {
  /** The last finished round's status ('ok' when none finished). */
  readonly status: VerifyStatus;
  readonly rounds: number;
  readonly exitCode: ExitCode;
}

const RANK: Readonly<Record<VerifyStatus, number>> = { ok: 0, drift: 1, error: 2 };
const EXIT: Readonly<Record<VerifyStatus, ExitCode>> = { ok: 0, drift: 1, error: 2 };

/** 0 the nodes hold the policy, 1 drift (probes included), 2 could not check. */
export function verifyExitCode(status: VerifyStatus): ExitCode {
  return EXIT[status];
}

/** The worse of the rule check and the probes: a probe that could not run is an error too. */
export function worseStatus(a: VerifyStatus, b: VerifyStatus): VerifyStatus {
  return RANK[b] > RANK[a] ? b : a;
}

/** Why `--probe-from` cannot be that node, if it cannot (the CLI's message). */
export function probeFromProblem(loaded: LoadedWorkspace, fromNode: string): string | undefined {
  const inventory = loaded.workspace.inventory.nodes.map((n) => n.name);
  if (inventory.includes(fromNode)) return undefined;
  return `--probe-from ${JSON.stringify(fromNode)}: not in the inventory (${inventory.join(', ')})`;
}

/** What can be refused before any connection, in the CLI's words. */
export function checkVerifyRequest(
  loaded: LoadedWorkspace,
  req: VerifyRequest,
): { ok: true } | { ok: false; message: string } {
  const p = req.probe;
  if (!p) return { ok: true };
  const from = p.fromNode === undefined ? undefined : probeFromProblem(loaded, p.fromNode);
  if (from) return { ok: false, message: from };
  if (p.source !== undefined) {
    const c = toCidr(p.source);
    if (!c || c.prefix !== (c.family === 'ipv4' ? 32 : 128))
      return { ok: false, message: `--probe-source ${JSON.stringify(p.source)}: one IPv4 or IPv6 address` };
    if (!p.fromHere)
      return { ok: false, message: "--probe-source needs --probe (it is this machine's address)" };
  }
  const s = p.timeoutMs / 1000;
  if (!Number.isInteger(s) || s < 1 || s > PROBE_MAX_SECONDS)
    return {
      ok: false,
      message: `--probe-timeout ${JSON.stringify(String(s))}: whole seconds from 1 to ${PROBE_MAX_SECONDS}`,
    };
  return { ok: true };
}

/** One round. The store is not needed by a verify; it is taken so every use case is called alike. */
export async function runVerify(
  session: Session,
  loaded: LoadedWorkspace,
  _store: LocalStore,
  req: VerifyRequest,
  io: UseCaseIo<VerifyEvent> = {},
): Promise<VerifyReport> {
  const valid = checkVerifyRequest(loaded, req);
  if (!valid.ok) throw new Error(valid.message);
  const policy = loaded.workspace.policy;
  const read = req.full ? ('nat' as const) : ('guard' as const);
  const { signal } = io;
  const onProgress = stepListener('verify', io.onEvent);
  const verify = await verifyNodes(session, policy, {
    read,
    ...(onProgress ? { onProgress } : {}),
    ...(signal ? { signal } : {}),
  });
  const probe = req.probe;
  if (!probe || signal?.aborted) return { status: verify.status, verify, exitCode: EXIT[verify.status] };
  io.onEvent?.({ kind: 'probing' });
  const probes = await probeNodes(session, policy, {
    fromHere: probe.fromHere,
    ...(probe.fromNode !== undefined ? { fromNode: probe.fromNode } : {}),
    timeoutMs: probe.timeoutMs,
    ...(probe.source ? { source: probe.source } : {}),
    ...(probe.allAddresses
      ? {
          nodeAddresses: new Map(verify.nodes.flatMap((n) => (n.ok ? [[n.node, n.addresses] as const] : []))),
        }
      : {}),
    // An allowed source that did not get through while the block rule counted nothing was not
    // stopped by the guard: the counters are read again for the nodes probed.
    blockCounters: {
      before: blockCountersOf(verify),
      after: async (nodes) =>
        blockCountersOf(await verifyNodes(session, policy, { read, nodes, ...(signal ? { signal } : {}) })),
    },
    ...(signal ? { signal } : {}),
  });
  const status = worseStatus(verify.status, probes.status);
  return { status, verify, probes, exitCode: EXIT[status] };
}

/**
 * Rounds every `periodSeconds` until `signal` aborts or `rounds` are done (`npg verify --watch`).
 * Later rounds of the session compare the resident nft listing instead of reading (verify-read.ts),
 * so a watch costs the nodes little. A round cut short by the signal is not reported.
 */
export async function watchVerify(
  session: Session,
  loaded: LoadedWorkspace,
  store: LocalStore,
  req: WatchRequest,
  io: UseCaseIo<VerifyEvent> & { readonly onRound?: (round: WatchRound) => void } = {},
): Promise<WatchReport> {
  const { signal } = io;
  let last = new Set<string>();
  let status: VerifyStatus = 'ok';
  let done = 0;
  for (let round = 1; !signal?.aborted; round++) {
    const r = await runVerify(session, loaded, store, req, io);
    if (signal?.aborted) break;
    status = r.status;
    done = round;
    const now = new Set(findingsOf(r));
    io.onRound?.({
      ...r,
      round,
      time: new Date().toISOString(),
      findings: [...now],
      appeared: [...now].filter((f) => !last.has(f)),
      resolved: [...last].filter((f) => !now.has(f)),
    });
    last = now;
    if (req.rounds !== undefined && round >= req.rounds) break;
    await sleep(req.periodSeconds * 1000, signal);
  }
  return { status, rounds: done, exitCode: EXIT[status] };
}

/** What a round needs to be worded: the rule check and, when asked for, the probes. */
export type RoundLike = Pick<VerifyReport, 'status' | 'verify' | 'probes'>;

/** Everything wrong, one line each: drift, nodes not checked, probes that could not run or differ. */
export function findingsOf(round: RoundLike): string[] {
  const lines = round.verify.nodes.flatMap((n) =>
    n.ok ? n.verify.findings.filter((f) => f.severity !== 'info').map((f) => f.message) : [n.message],
  );
  if (round.probes) {
    lines.push(...round.probes.problems);
    lines.push(...round.probes.results.filter((p) => p.verdict !== 'ok').map((p) => p.message));
  }
  return lines;
}
