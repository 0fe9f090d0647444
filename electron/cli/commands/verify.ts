// `npg verify`: does every node hold the policy's guard, in front of kube-proxy? Exit 0 all in
// order, 1 drift (each finding names node, port and what differs), 2 could not check. --watch
// re-checks on an interval and reports findings as they appear and disappear. --probe and
// --probe-from NODE add live TCP connects to the guarded NodePorts (engine/probe-nodes.ts): a probe
// whose outcome differs from what the policy says for its source is drift like any other.
import type { Command } from 'commander';
import { toCidr } from '../../../shared/guard/cidr.js';
import type { ProbeResult } from '../../../shared/guard/probe.js';
import type { VerifyStatus } from '../../../shared/guard/verify.js';
import type { Policy } from '../../../shared/workspace/schema.js';
import { type ProbeReport, probeNodes } from '../../engine/probe-nodes.js';
import { PROBE_MAX_SECONDS } from '../../engine/probe-script.js';
import type { Session } from '../../engine/session.js';
import { blockCountersOf, type VerifyResult, verifyNodes } from '../../engine/verify-nodes.js';
import { CliError, EXIT_DIFFERENCE, EXIT_FAILURE, EXIT_OK } from '../exit.js';
import {
  type FleetCliOptions,
  fleetOptions,
  loadOrFail,
  note,
  printJson,
  progress,
  type Runner,
  secondsFlag,
  withSession,
} from './common.js';

interface VerifyOptions extends FleetCliOptions {
  readonly watch?: string;
  readonly count?: string;
  readonly full?: boolean;
  readonly probe?: boolean;
  readonly probeFrom?: string;
  readonly probeTimeout?: string;
  readonly probeAllAddresses?: boolean;
  readonly probeSource?: string;
}

/** The probe flags, checked before any connection. */
interface ProbeRequest {
  readonly fromHere: boolean;
  readonly fromNode?: string;
  readonly timeoutMs: number;
  readonly allAddresses: boolean;
  readonly source?: string;
}

/** One verify round: the rule check, and the probes when asked for. */
interface Round {
  readonly status: VerifyStatus;
  readonly verify: VerifyResult;
  readonly probes?: ProbeReport;
}

const RANK: Readonly<Record<VerifyStatus, number>> = { ok: 0, drift: 1, error: 2 };

const CODE = { ok: EXIT_OK, drift: EXIT_DIFFERENCE, error: EXIT_FAILURE } as const;

function findingsOf(round: Round): string[] {
  const r = round.verify;
  const lines = r.nodes.flatMap((n) =>
    n.ok ? n.verify.findings.filter((f) => f.severity !== 'info').map((f) => f.message) : [n.message],
  );
  if (round.probes) {
    lines.push(...round.probes.problems);
    lines.push(...round.probes.results.filter((p) => p.verdict !== 'ok').map((p) => p.message));
  }
  return lines;
}

function probeInfoOf(p: ProbeReport | undefined): string[] {
  if (!p) return [];
  return [
    ...p.results.filter((x) => x.verdict === 'ok').map((x) => x.message),
    ...p.notProbed.map((x) => `${x.protocol}/${x.port}: ${x.reason}`),
    ...p.notes,
  ];
}

function infoOf(r: VerifyResult): string[] {
  return r.nodes.flatMap((n) => {
    if (!n.ok) return [];
    const lines = n.verify.findings.filter((f) => f.severity === 'info').map((f) => f.message);
    for (const a of n.audit)
      lines.push(
        a.sources.length
          ? `${n.node}: ${a.protocol}/${a.port} (${a.family === 'ipv4' ? 'IPv4' : 'IPv6'}) audit: would block ${a.sources.map((s) => `${s.source} (${s.flows} flow${s.flows === 1 ? '' : 's'})`).join(', ')}`
          : `${n.node}: ${a.protocol}/${a.port} (${a.family === 'ipv4' ? 'IPv4' : 'IPv6'}) audit: no recent source would be blocked`,
      );
    return [...lines, ...n.notes];
  });
}

function probeJson(p: ProbeResult) {
  return {
    from: p.from.kind === 'app-host' ? 'app-host' : p.from.node,
    origin: p.from.kind,
    node: p.node,
    address: p.address,
    family: p.family,
    port: p.port,
    protocol: p.protocol,
    mode: p.mode,
    ...(p.source ? { source: p.source } : {}),
    ...(p.expected ? { expected: p.expected } : {}),
    outcome: p.outcome.kind,
    ...(p.outcome.detail ? { detail: p.outcome.detail } : {}),
    verdict: p.verdict,
    reason: p.reason,
    message: p.message,
  };
}

function jsonOf(round: Round) {
  const r = round.verify;
  const p = round.probes;
  return {
    status: round.status,
    ...(p
      ? {
          probes: {
            status: p.status,
            results: p.results.map(probeJson),
            notProbed: p.notProbed,
            notes: p.notes,
            problems: p.problems,
          },
        }
      : {}),
    nodes: r.nodes.map((n) =>
      n.ok
        ? {
            node: n.node,
            status: n.verify.status,
            findings: n.verify.findings.map((f) => ({
              kind: f.kind,
              severity: f.severity,
              message: f.message,
            })),
            ports: n.verify.ports.map((p) => ({
              port: p.port,
              protocol: p.protocol,
              mode: p.mode,
              status: p.status,
              counters: p.counters,
            })),
            audit: n.audit,
            ...(n.pending ? { pending: n.pending } : {}),
            notes: n.notes,
          }
        : { node: n.node, status: 'error', error: n.message },
    ),
  };
}

/** --probe / --probe-from and their settings, strictly parsed (bad input: exit 2 before any connection). */
export function probeRequest(opts: VerifyOptions, inventory: readonly string[]): ProbeRequest | undefined {
  const fromHere = opts.probe === true;
  const fromNode = opts.probeFrom;
  if (!fromHere && fromNode === undefined) {
    for (const [flag, set] of [
      ['--probe-timeout', opts.probeTimeout !== undefined],
      ['--probe-all-addresses', opts.probeAllAddresses === true],
      ['--probe-source', opts.probeSource !== undefined],
    ] as const)
      if (set) throw new CliError(`${flag} needs --probe or --probe-from NODE`);
    return undefined;
  }
  if (fromNode !== undefined && !inventory.includes(fromNode))
    throw new CliError(
      `--probe-from ${JSON.stringify(fromNode)}: not in the inventory (${inventory.join(', ')})`,
    );
  let source: string | undefined;
  if (opts.probeSource !== undefined) {
    const c = toCidr(opts.probeSource);
    if (!c || c.prefix !== (c.family === 'ipv4' ? 32 : 128))
      throw new CliError(`--probe-source ${JSON.stringify(opts.probeSource)}: one IPv4 or IPv6 address`);
    if (!fromHere) throw new CliError("--probe-source needs --probe (it is this machine's address)");
    source = c.address;
  }
  const seconds = secondsFlag('--probe-timeout', opts.probeTimeout, 1, PROBE_MAX_SECONDS) ?? 2;
  return {
    fromHere,
    ...(fromNode !== undefined ? { fromNode } : {}),
    timeoutMs: seconds * 1000,
    allAddresses: opts.probeAllAddresses === true,
    ...(source ? { source } : {}),
  };
}

async function verifyRound(
  session: Session,
  policy: Policy,
  read: 'guard' | 'nat',
  probe: ProbeRequest | undefined,
  run: { readonly signal?: AbortSignal; readonly onProgress?: ReturnType<typeof progress> },
): Promise<Round> {
  const verify = await verifyNodes(session, policy, {
    read,
    ...(run.onProgress ? { onProgress: run.onProgress } : {}),
    ...(run.signal ? { signal: run.signal } : {}),
  });
  if (!probe || run.signal?.aborted) return { status: verify.status, verify };
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
    blockCounters: {
      before: blockCountersOf(verify),
      after: async (nodes) => blockCountersOf(await verifyNodes(session, policy, { read, nodes })),
    },
    ...(run.signal ? { signal: run.signal } : {}),
  });
  const status = RANK[probes.status] > RANK[verify.status] ? probes.status : verify.status;
  return { status, verify, probes };
}

export async function runVerify(opts: VerifyOptions): Promise<number> {
  const loaded = await loadOrFail(opts);
  const interval = secondsFlag('--watch', opts.watch, 1, 86_400);
  const count = secondsFlag('--count', opts.count, 1, 1_000_000);
  const policy = loaded.workspace.policy;
  const read = opts.full ? ('nat' as const) : ('guard' as const);
  const probe = probeRequest(
    opts,
    loaded.workspace.inventory.nodes.map((n) => n.name),
  );
  return withSession(loaded, opts, async (session) => {
    if (interval === undefined) {
      const r = await verifyRound(session, policy, read, probe, { onProgress: progress(opts, 'verify') });
      if (opts.json) printJson(jsonOf(r));
      else {
        const lines = [...findingsOf(r), ...infoOf(r.verify), ...probeInfoOf(r.probes)];
        const n = r.verify.nodes.length;
        if (r.status === 'ok') {
          const probed = r.probes
            ? `; ${r.probes.results.length} probe${r.probes.results.length === 1 ? '' : 's'} as expected`
            : '';
          lines.unshift(`all ${n} node${n === 1 ? '' : 's'} hold the policy${probed}`);
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      return CODE[r.status];
    }
    // Watch: print what changed since the last round; stop on SIGINT/SIGTERM or after --count rounds.
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let last = new Set<string>();
    let status: VerifyStatus = 'ok';
    try {
      for (let round = 1; !stop.signal.aborted; round++) {
        const r = await verifyRound(session, policy, read, probe, { signal: stop.signal });
        if (stop.signal.aborted) break;
        status = r.status;
        const now = new Set(findingsOf(r));
        const appeared = [...now].filter((f) => !last.has(f));
        const gone = [...last].filter((f) => !now.has(f));
        const time = new Date().toISOString();
        if (opts.json) {
          if (round === 1 || appeared.length || gone.length)
            process.stdout.write(
              `${JSON.stringify({ time, round, ...jsonOf(r), appeared, resolved: gone })}\n`,
            );
        } else {
          if (round === 1 && now.size === 0)
            process.stdout.write(`${time} all ${r.verify.nodes.length} nodes hold the policy\n`);
          for (const f of appeared) process.stdout.write(`${time} DRIFT ${f}\n`);
          for (const f of gone) process.stdout.write(`${time} resolved ${f}\n`);
          if (round > 1 && gone.length && now.size === 0)
            process.stdout.write(`${time} all ${r.verify.nodes.length} nodes hold the policy again\n`);
        }
        last = now;
        if (count !== undefined && round >= count) break;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, interval * 1000);
          stop.signal.addEventListener(
            'abort',
            () => {
              clearTimeout(t);
              resolve();
            },
            { once: true },
          );
        });
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    note(opts, `watch ended: ${status}`);
    return CODE[status];
  });
}

export function registerVerify(program: Command, run: Runner): void {
  fleetOptions(
    program
      .command('verify')
      .description('check every node against the policy (exit 0 in order, 1 drift, 2 could not check)')
      .option('--watch <SECONDS>', 're-check every SECONDS and report drift as it appears')
      .option('--count <N>', 'with --watch: stop after N rounds')
      .option('--full', 'read the whole nat table, not only PREROUTING and our chains')
      .option('--probe', 'also connect from this machine to every guarded TCP NodePort of every node')
      .option('--probe-from <NODE>', 'also connect over SSH from this node to the other nodes')
      .option('--probe-timeout <SECONDS>', `per connect, 1-${PROBE_MAX_SECONDS} (default 2)`)
      .option(
        '--probe-all-addresses',
        "probe every global address a node reports, not only the inventory's host",
      )
      .option(
        '--probe-source <ADDR>',
        'the address nodes see this machine as (NAT between); default: the route source',
      ),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  npg verify --workspace c.yaml\n  npg verify --workspace c.yaml --watch 10\n  npg verify --workspace c.yaml --probe --probe-from node2\n  npg verify --workspace c.yaml --json | jq ".nodes[].findings"',
    )
    .action((opts: VerifyOptions) => run(runVerify(opts)));
}
