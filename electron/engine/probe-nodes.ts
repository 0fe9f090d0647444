// Live probes for `npg verify --probe / --probe-from NODE`: real TCP connects to every guarded TCP
// NodePort of every node, from this machine or, over SSH, from one node of the inventory to the
// others, each judged against the policy for the source address the node sees
// (shared/guard/probe.ts decides; this module only sends packets and runs PROBE_SCRIPT).
//
// Bounded everywhere: each connect has its own time limit, at most `concurrency` run at once from
// here and PROBE_BATCH per script run on a node, and nothing new starts after the total time limit
// (what is left is reported as not run, which counts as "could not check").
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';
import { toCidr } from '../../shared/guard/cidr.js';
import { desiredGuard, type GuardedPort } from '../../shared/guard/desired.js';
import {
  blockCounterSettles,
  judgeProbe,
  type NotProbed,
  type ProbeJob,
  type ProbeOrigin,
  type ProbeOutcome,
  type ProbeResult,
  type ProbeTarget,
  type ProbeVerdict,
  planProbes,
  probeKey,
  probeStatus,
  readProbeReport,
} from '../../shared/guard/probe.js';
import type { Family } from '../../shared/vocabulary.js';
import type { Policy } from '../../shared/workspace/schema.js';
import { PROBE_BATCH, PROBE_MAX_SECONDS, PROBE_SCRIPT } from './probe-script.js';
import { parseScriptOutput } from './sections.js';
import { explain, type Session } from './session.js';

export interface ProbeOptions {
  /** Probe from this machine (`--probe`). */
  readonly fromHere?: boolean;
  /** Probe over SSH from this inventory node to the others (`--probe-from`). */
  readonly fromNode?: string;
  /** Per connect (default 2000; from a node, whole seconds up to PROBE_MAX_SECONDS). */
  readonly timeoutMs?: number;
  /** Nothing new starts after this (default 60 s). */
  readonly totalMs?: number;
  /** Connects at once from this machine (default 16). */
  readonly concurrency?: number;
  /**
   * The address the nodes see this machine as, when NAT sits in between; used for its family
   * instead of the route's source address.
   */
  readonly source?: string;
  /** Also every global address the node reports (verify's read), not only its inventory host. */
  readonly nodeAddresses?: ReadonlyMap<string, readonly string[]>;
  /**
   * The guard's block-rule counters (blockCounterKey -> packets) before the probes, and a way to
   * read them again for some nodes after: an allowed source that did not get through while its
   * port's block rule counted nothing was not stopped by the guard (judgeProbe).
   */
  readonly blockCounters?: {
    readonly before: ReadonlyMap<string, number>;
    readonly after: (nodes: readonly string[]) => Promise<ReadonlyMap<string, number>>;
  };
  readonly signal?: AbortSignal;
}

/** The key of one block rule's counter: node, family and guarded port. */
export function blockCounterKey(node: string, family: Family, protocol: string, port: number): string {
  return `${node} ${family} ${protocol}/${port}`;
}

export interface ProbeReport {
  readonly status: ProbeVerdict;
  readonly results: readonly ProbeResult[];
  readonly notProbed: readonly NotProbed[];
  /** Said to the operator, changes nothing (a node reached through a bastion is not probed from here). */
  readonly notes: readonly string[];
  /** Could not check (a host that does not resolve): count as errors. */
  readonly problems: readonly string[];
}

const DEFAULT_TIMEOUT_MS = 2000;
const DEFAULT_TOTAL_MS = 60_000;
const DEFAULT_CONCURRENCY = 16;
const MAX_ADDRESSES_PER_HOST = 4;
const LOOKUP_TIMEOUT_MS = 5000;

const single = (text: string): { address: string; family: Family } | undefined => {
  const c = toCidr(text);
  return c && c.prefix === (c.family === 'ipv4' ? 32 : 128)
    ? { address: c.address, family: c.family }
    : undefined;
};

/** The host SSH dials for a node (an address, or a name looked up here), plus its reported addresses. */
async function targetsOf(
  session: Session,
  nodeAddresses: ReadonlyMap<string, readonly string[]> | undefined,
): Promise<{ targets: ProbeTarget[]; problems: string[] }> {
  const problems: string[] = [];
  const perNode = await Promise.all(
    session.nodes.map(async (node): Promise<ProbeTarget[]> => {
      const host = (session.fleet.node(node)?.host ?? '').replace(/^\[(.*)\]$/, '$1');
      const found: { address: string; family: Family }[] = [];
      const literal = single(host);
      if (literal) found.push(literal);
      else if (host) {
        const got = await lookupBounded(host);
        if (typeof got === 'string') problems.push(`${node}: host ${host} not probed: ${got}`);
        else found.push(...got.slice(0, MAX_ADDRESSES_PER_HOST));
      }
      for (const a of nodeAddresses?.get(node) ?? []) {
        const s = single(a);
        if (s) found.push(s);
      }
      const seen = new Set<string>();
      return found
        .filter((f) => !seen.has(f.address) && seen.add(f.address))
        .map((f) => ({ node, address: f.address, family: f.family }));
    }),
  );
  return { targets: perNode.flat(), problems };
}

async function lookupBounded(host: string): Promise<{ address: string; family: Family }[] | string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(
      () => resolve(`no answer from the resolver within ${LOOKUP_TIMEOUT_MS / 1000} s`),
      LOOKUP_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([
      lookup(host, { all: true, verbatim: true }).then(
        (all) => all.flatMap((a) => single(a.address) ?? []),
        (err: NodeJS.ErrnoException) => `does not resolve (${err.code ?? err.message})`,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The source address this machine's routing picks for `address` (a connected UDP socket sends nothing). */
export function routeSource(address: string, family: Family): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket(family === 'ipv4' ? 'udp4' : 'udp6');
    const done = (value: string | undefined) => {
      socket.close();
      resolve(value === undefined ? undefined : single(value)?.address);
    };
    socket.once('error', () => done(undefined));
    socket.connect(9, address, () => {
      try {
        done(socket.address().address);
      } catch {
        done(undefined);
      }
    });
  });
}

const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL']);

/** One TCP connect: connected, refused (a reset), timeout, or why it could not be tried. */
export function tcpProbe(
  address: string,
  family: Family,
  port: number,
  timeoutMs: number,
): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, family: family === 'ipv4' ? 4 : 6 });
    let settled = false;
    const finish = (outcome: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
    socket.once('connect', () => finish({ kind: 'connected' }));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      if (code === 'ECONNREFUSED') finish({ kind: 'refused' });
      else if (code === 'ETIMEDOUT') finish({ kind: 'timeout' });
      else if (UNREACHABLE.has(code)) finish({ kind: 'unreachable', detail: code });
      else finish({ kind: 'error', detail: code || err.message });
    });
  });
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const portKey = (protocol: string, port: number) => `${protocol}/${port}`;

/** Probe the guarded TCP NodePorts of the session's nodes as `options` asks; judge every outcome. */
export async function probeNodes(
  session: Session,
  policy: Policy,
  options: ProbeOptions,
): Promise<ProbeReport> {
  const desired = desiredGuard(policy);
  if (!desired.ok)
    return {
      status: 'error',
      results: [],
      notProbed: [],
      notes: [],
      problems: [`policy: ${desired.errors[0]?.message ?? 'invalid'}`],
    };
  const ports = new Map<string, GuardedPort>(
    desired.desired.ports.map((p) => [portKey(p.protocol, p.port), p]),
  );
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = Date.now() + (options.totalMs ?? DEFAULT_TOTAL_MS);
  const { targets, problems } = await targetsOf(session, options.nodeAddresses);
  const plan = planProbes(desired.desired.ports, targets);
  const notes: string[] = [];
  const results: ProbeResult[] = [];
  const judge = (
    job: ProbeJob,
    from: ProbeOrigin,
    source: string | undefined,
    outcome: ProbeOutcome,
    guardCounted?: boolean,
  ) =>
    judgeProbe(
      job,
      from,
      ports.get(portKey(job.protocol, job.port)) as GuardedPort,
      source,
      outcome,
      timeoutMs,
      guardCounted,
    );
  const late = (): string | undefined =>
    options.signal?.aborted
      ? 'cancelled'
      : Date.now() > deadline
        ? 'the total time limit was reached'
        : undefined;

  if (options.fromHere) {
    const viaBastion = new Set(session.nodes.filter((n) => (session.fleet.node(n)?.jumps.length ?? 0) > 0));
    const direct = plan.jobs.filter((j) => !viaBastion.has(j.node));
    for (const node of viaBastion)
      notes.push(
        `${node}: reached through a bastion, so not probed from this machine (use --probe-from another node)`,
      );
    const given = options.source ? single(options.source) : undefined;
    const sources = new Map<string, Promise<string | undefined>>();
    const sourceOf = (j: ProbeJob) => {
      if (given && given.family === j.family) return Promise.resolve(given.address);
      let s = sources.get(j.address);
      if (!s) {
        s = routeSource(j.address, j.family);
        sources.set(j.address, s);
      }
      return s;
    };
    const from: ProbeOrigin = { kind: 'app-host' };
    results.push(
      ...(await mapLimit(direct, options.concurrency ?? DEFAULT_CONCURRENCY, async (job) => {
        const source = await sourceOf(job);
        const stop = late();
        const outcome: ProbeOutcome = stop
          ? { kind: 'not-run', detail: stop }
          : await tcpProbe(job.address, job.family, job.port, timeoutMs);
        return judge(job, from, source, outcome);
      })),
    );
  }

  if (options.fromNode !== undefined) {
    const fromNode = options.fromNode;
    const from: ProbeOrigin = { kind: 'node', node: fromNode };
    const jobs = plan.jobs.filter((j) => j.node !== fromNode);
    const seconds = Math.min(PROBE_MAX_SECONDS, Math.max(1, Math.ceil(timeoutMs / 1000)));
    for (let i = 0; i < jobs.length; i += PROBE_BATCH) {
      const batch = jobs.slice(i, i + PROBE_BATCH);
      const stop = late();
      if (stop) {
        results.push(...batch.map((j) => judge(j, from, undefined, { kind: 'not-run', detail: stop })));
        continue;
      }
      const r = await session.fleet.run(
        fromNode,
        {
          op: 'probe',
          argv: [
            'sh',
            '-c',
            PROBE_SCRIPT,
            'npg-probe',
            String(seconds),
            ...batch.flatMap((j) => [j.address, String(j.port)]),
          ],
          // A TCP connect and a route lookup need no rights.
          sudo: false,
          timeoutMs: (seconds + 15) * 1000,
        },
        options.signal ? { signal: options.signal } : {},
      );
      if (!r.ok) {
        const detail = `on ${fromNode}: ${explain(r.error)}`;
        results.push(...batch.map((j) => judge(j, from, undefined, { kind: 'not-run', detail })));
        continue;
      }
      const report = readProbeReport(parseScriptOutput(r.stdout).events);
      const none =
        report.error !== undefined
          ? `the probe script refused its arguments (${report.error})`
          : report.tool === 'none'
            ? `${fromNode} has neither bash with timeout nor nc to connect with`
            : undefined;
      for (const j of batch) {
        const source = report.sources.get(j.address);
        const outcome: ProbeOutcome = none
          ? { kind: 'not-run', detail: none }
          : (report.outcomes.get(probeKey(j.address, j.port)) ?? {
              kind: 'not-run',
              detail: 'no answer from the probe script',
            });
        results.push(judge(j, from, source, outcome));
      }
    }
  }

  const settled = await settleByCounters(results, options.blockCounters, judge);
  const status: ProbeVerdict = problems.length > 0 ? 'error' : probeStatus(settled);
  return { status, results: settled, notProbed: plan.notProbed, notes, problems };
}

/**
 * Allowed sources that did not get through, judged again with their port's block counter: read
 * once more on their nodes only, compared with the count before the probes.
 */
async function settleByCounters(
  results: readonly ProbeResult[],
  counters: ProbeOptions['blockCounters'],
  judge: (
    job: ProbeJob,
    from: ProbeOrigin,
    source: string | undefined,
    outcome: ProbeOutcome,
    counted: boolean,
  ) => ProbeResult,
): Promise<readonly ProbeResult[]> {
  const suspects = results.filter(blockCounterSettles);
  if (counters === undefined || suspects.length === 0) return results;
  const after = await counters.after([...new Set(suspects.map((r) => r.node))]);
  return results.map((r) => {
    if (!blockCounterSettles(r)) return r;
    const key = blockCounterKey(r.node, r.family, r.protocol, r.port);
    const was = counters.before.get(key);
    const now = after.get(key);
    if (was === undefined || now === undefined) return r;
    const job: ProbeJob = {
      node: r.node,
      address: r.address,
      family: r.family,
      port: r.port,
      protocol: r.protocol,
    };
    return judge(job, r.from, r.source, r.outcome, now > was);
  });
}
