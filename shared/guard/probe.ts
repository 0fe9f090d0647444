// Live probes, the pure part: which (node, address, port) to probe, what each probe must show for
// the source the node sees (from the policy alone), and how a probe's real outcome compares. The
// engine (electron/engine/probe-nodes.ts) sends the packets; this module decides.
//
// Only TCP is probed: a connect either completes (the guard let the source through), is reset (the
// guard REDIRECTs a blocked source to the blackhole port, where nothing listens) or times out
// (something dropped it). UDP has no handshake: no answer means allowed-and-silent as much as
// blocked, so a UDP probe cannot tell the two apart; SCTP tools are rarely on a node. Neither is
// probed, and the result says so.
import type { Family, Protocol } from '../vocabulary';
import { familyName } from '../vocabulary';
import { findAllowing } from './allow-list';
import { toCidr } from './cidr';
import type { GuardedPort } from './desired';

/** Where a probe starts: this machine (the app host), or a node of the inventory over SSH. */
export type ProbeOrigin = { readonly kind: 'app-host' } | { readonly kind: 'node'; readonly node: string };

/** One address of a node to probe. */
export interface ProbeTarget {
  readonly node: string;
  /** Canonical address (as ip(6)tables and `ip route` print it). */
  readonly address: string;
  readonly family: Family;
}

export interface ProbeJob extends ProbeTarget {
  readonly port: number;
  readonly protocol: 'tcp';
}

export type ProbeOutcomeKind = 'connected' | 'refused' | 'timeout' | 'unreachable' | 'error' | 'not-run';

export interface ProbeOutcome {
  readonly kind: ProbeOutcomeKind;
  /** The tool's own words for unreachable/error, why a probe did not run. */
  readonly detail?: string;
}

export type Expected = 'connected' | 'refused';

export interface Expectation {
  readonly expected: Expected;
  /** Why: `allowed by 198.18.0.0/24 (office)`, `198.18.0.1 is not on the allow-list`, `audit mode`. */
  readonly reason: string;
}

export type ProbeVerdict = 'ok' | 'drift' | 'error';

export interface ProbeResult extends ProbeJob {
  readonly from: ProbeOrigin;
  /** The source address the node sees (undefined: could not be found). */
  readonly source?: string;
  readonly mode: GuardedPort['mode'];
  readonly expected?: Expected;
  readonly reason: string;
  readonly outcome: ProbeOutcome;
  /** ok: as expected; drift: the guard does not act as the policy says; error: could not check. */
  readonly verdict: ProbeVerdict;
  /** One line naming node, port, source and what happened. */
  readonly message: string;
}

export interface NotProbed {
  readonly port: number;
  readonly protocol: Protocol;
  readonly reason: string;
}

export interface ProbePlan {
  readonly jobs: readonly ProbeJob[];
  readonly notProbed: readonly NotProbed[];
}

const NOT_PROBED: Readonly<Record<Exclude<Protocol, 'tcp'>, string>> = {
  udp: 'UDP is not probed: without a handshake, no answer from an allowed port looks the same as a blocked one',
  sctp: 'SCTP is not probed: nodes rarely have an SCTP client, and a blocked association looks like a silent one',
};

/** Every (target, guarded TCP port) pair, in node, address, port order; other protocols listed as not probed. */
export function planProbes(ports: readonly GuardedPort[], targets: readonly ProbeTarget[]): ProbePlan {
  const tcp = ports.filter((p) => p.protocol === 'tcp');
  const notProbed = ports.flatMap((p): NotProbed[] =>
    p.protocol === 'tcp' ? [] : [{ port: p.port, protocol: p.protocol, reason: NOT_PROBED[p.protocol] }],
  );
  const jobs = targets.flatMap((t) => tcp.map((p): ProbeJob => ({ ...t, port: p.port, protocol: 'tcp' })));
  return { jobs, notProbed };
}

/**
 * What a probe from `source` to a guarded port must show: enforce mode lets an allowed source
 * connect and answers every other source with a reset; audit mode blocks nothing.
 */
export function expectProbe(port: GuardedPort, source: string, family: Family): Expectation | string {
  const src = toCidr(source);
  if (!src) return `source ${JSON.stringify(source)} is not an address`;
  if (src.family !== family)
    return `source ${src.address} is ${familyName(src.family)}, the target ${familyName(family)}`;
  if (port.mode === 'audit') return { expected: 'connected', reason: 'audit mode blocks nothing' };
  const rule = findAllowing(port.allow, src);
  if (rule)
    return {
      expected: 'connected',
      reason: `${src.address} allowed by ${rule.value.cidr}${rule.label ? ` (${rule.label})` : ''}`,
    };
  return {
    expected: 'refused',
    reason: `${src.address} is not on the ${familyName(family)} allow-list`,
  };
}

export function originName(from: ProbeOrigin): string {
  return from.kind === 'app-host' ? 'this machine' : from.node;
}

function outcomeText(o: ProbeOutcome, timeoutMs: number): string {
  switch (o.kind) {
    case 'connected':
      return 'connected';
    case 'refused':
      return 'refused';
    case 'timeout':
      return `timed out after ${timeoutMs / 1000} s`;
    case 'unreachable':
      return `unreachable${o.detail ? ` (${o.detail})` : ''}`;
    case 'error':
      return `failed${o.detail ? ` (${o.detail})` : ''}`;
    case 'not-run':
      return `not run${o.detail ? ` (${o.detail})` : ''}`;
  }
}

/** What an unexpected outcome most likely means, for the operator reading the finding. */
function hint(expected: Expected, o: ProbeOutcome): string {
  if (expected === 'refused' && o.kind === 'connected') return 'the guard let a blocked source through';
  if (expected === 'refused' && o.kind === 'timeout')
    return 'the guard answers a blocked source with a reset; something else dropped the packet';
  if (expected === 'connected' && o.kind === 'refused')
    return 'blocked by the guard, or a service without endpoints';
  if (expected === 'connected' && o.kind === 'timeout')
    return 'dropped: a firewall, or externalTrafficPolicy Local without a local endpoint';
  return '';
}

/**
 * Compare one probe's outcome with what the policy says; the message names node, port, source,
 * outcome. `guardCounted`: whether the port's block rule counted a new connection on that node
 * while the probes ran (unknown: undefined). The guard answers every source it blocks through that
 * rule, so an allowed source refused or dropped while the rule counted nothing was stopped by
 * something else (kube-proxy for a service without endpoints, the pod, a firewall): not drift.
 */
export function judgeProbe(
  job: ProbeJob,
  from: ProbeOrigin,
  port: GuardedPort,
  source: string | undefined,
  outcome: ProbeOutcome,
  timeoutMs: number,
  guardCounted?: boolean,
): ProbeResult {
  const where = `${job.node}: ${job.protocol}/${job.port} (${familyName(job.family)})`;
  const route = `probe from ${originName(from)}${source ? ` (source ${source})` : ''} to ${job.address}:${job.port}`;
  const happened = outcomeText(outcome, timeoutMs);
  const base = { ...job, from, mode: port.mode, outcome, ...(source ? { source } : {}) };
  const exp = source === undefined ? 'the source address is unknown' : expectProbe(port, source, job.family);
  if (typeof exp === 'string')
    return {
      ...base,
      reason: exp,
      verdict: 'error',
      message: `${where}: ${route} ${happened}; cannot tell what to expect: ${exp}`,
    };
  const withExp = { ...base, expected: exp.expected, reason: exp.reason };
  if (outcome.kind === exp.expected)
    return {
      ...withExp,
      verdict: 'ok',
      message: `${where}: ${route} ${happened} as expected (${exp.reason})`,
    };
  if (
    exp.expected === 'connected' &&
    guardCounted === false &&
    (outcome.kind === 'refused' || outcome.kind === 'timeout')
  )
    return {
      ...withExp,
      verdict: 'ok',
      message: `${where}: ${route} ${happened}, but not by the guard: its block rule counted no connection while the probes ran (${exp.reason}; ${outcome.kind === 'refused' ? 'a service without endpoints, or the pod refused' : 'something else dropped it'})`,
    };
  if (outcome.kind === 'connected' || outcome.kind === 'refused' || outcome.kind === 'timeout') {
    const why = hint(exp.expected, outcome);
    return {
      ...withExp,
      verdict: 'drift',
      message: `${where}: ${route} ${happened}, expected ${exp.expected} (${exp.reason})${why ? `: ${why}` : ''}`,
    };
  }
  return {
    ...withExp,
    verdict: 'error',
    message: `${where}: ${route} ${happened}; expected ${exp.expected} (${exp.reason}): could not check`,
  };
}

/** A probe the guard's block counter can settle: an allowed source that did not get through. */
export function blockCounterSettles(r: ProbeResult): boolean {
  return r.verdict === 'drift' && r.expected === 'connected';
}

/** The worst verdict (error over drift over ok), as verify ranks its statuses. */
export function probeStatus(results: readonly { readonly verdict: ProbeVerdict }[]): ProbeVerdict {
  if (results.some((r) => r.verdict === 'error')) return 'error';
  if (results.some((r) => r.verdict === 'drift')) return 'drift';
  return 'ok';
}

/** What the node-side probe script reported (see electron/engine/probe-script.ts). */
export interface NodeProbeReport {
  /** `bash` (/dev/tcp under timeout), `nc`, or `none`. */
  readonly tool?: string;
  /** Destination -> the source address the node's routing picks for it (`ip -o route get`). */
  readonly sources: ReadonlyMap<string, string>;
  /** `address port` -> outcome. */
  readonly outcomes: ReadonlyMap<string, ProbeOutcome>;
  readonly error?: string;
}

const OUTCOMES: ReadonlySet<string> = new Set(['connected', 'refused', 'timeout', 'unreachable', 'error']);

export const probeKey = (address: string, port: number): string => `${address} ${port}`;

/** Canonical form of an address the script echoes back, so that it matches the job's address. */
function canonical(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const c = toCidr(text);
  return c && c.prefix === (c.family === 'ipv4' ? 32 : 128) ? c.address : undefined;
}

/**
 * The script's marker lines (`%%npg KEY VALUE...`, split into words):
 * `tool NAME`, `src DST SRC|-`, `probe DST PORT OUTCOME [DETAIL...]`, `error WHAT`.
 */
export function readProbeReport(events: readonly (readonly string[])[]): NodeProbeReport {
  let tool: string | undefined;
  let error: string | undefined;
  const sources = new Map<string, string>();
  const outcomes = new Map<string, ProbeOutcome>();
  for (const [key, ...v] of events) {
    if (key === 'tool' && v[0]) tool = v[0];
    else if (key === 'error') error = v.join(' ') || 'unknown';
    else if (key === 'src') {
      const dst = canonical(v[0]);
      const src = canonical(v[1]);
      if (dst && src) sources.set(dst, src);
    } else if (key === 'probe') {
      const dst = canonical(v[0]);
      const port = Number(v[1]);
      const kind = v[2] ?? '';
      if (!dst || !Number.isInteger(port) || !OUTCOMES.has(kind)) continue;
      const detail = v.slice(3).join(' ').trim();
      outcomes.set(probeKey(dst, port), {
        kind: kind as ProbeOutcomeKind,
        ...(detail ? { detail: detail.slice(0, 200) } : {}),
      });
    }
  }
  return { ...(tool ? { tool } : {}), sources, outcomes, ...(error ? { error } : {}) };
}
