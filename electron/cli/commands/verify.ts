// `npg verify`: the CLI face of the verify use case (engine/use-cases/verify.ts). Does every node
// hold the policy's guard, in front of kube-proxy? Exit 0 all in order, 1 drift (each finding names
// node, port and what differs), 2 could not check. --watch re-checks on an interval and reports
// findings as they appear and disappear. --probe and --probe-from NODE add live TCP connects to the
// guarded NodePorts: a probe whose outcome differs from what the policy says for its source is
// drift like any other.
import type { Command } from 'commander';
import { toCidr } from '../../../shared/guard/cidr.js';
import { PROBE_MAX_SECONDS } from '../../engine/probe-script.js';
import type { Session } from '../../engine/session.js';
import { progressOf } from '../../engine/use-cases/io.js';
import {
  type ProbeRequest,
  probeFromProblem,
  runVerify,
  type VerifyRequest,
  watchVerify,
} from '../../engine/use-cases/verify.js';
import { verifyJson, verifyLines, watchJson, watchLines } from '../../engine/use-cases/verify-format.js';
import type { LoadedWorkspace } from '../../engine/workspace-file.js';
import { CliError } from '../exit.js';
import { say } from '../io.js';
import {
  type FleetCliOptions,
  fleetOptions,
  loadOrFail,
  note,
  printJson,
  progress,
  type Runner,
  secondsFlag,
  storeOf,
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

/** --probe / --probe-from and their settings, strictly parsed (bad input: exit 2 before any connection). */
export function probeRequest(opts: VerifyOptions, loaded: LoadedWorkspace): ProbeRequest | undefined {
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
  const notThere = fromNode === undefined ? undefined : probeFromProblem(loaded, fromNode);
  if (notThere) throw new CliError(notThere);
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

/** One round: per-node progress on stderr, the findings (or the summary) on stdout. */
async function once(
  session: Session,
  loaded: LoadedWorkspace,
  req: VerifyRequest,
  opts: VerifyOptions,
): Promise<number> {
  const show = progress(opts, 'verify');
  const r = await runVerify(session, loaded, storeOf(loaded, opts), req, {
    ...(show ? { onEvent: (e) => (e.kind === 'verify' ? show(progressOf(e)) : undefined) } : {}),
  });
  if (opts.json) printJson(verifyJson(r));
  else say(`${verifyLines(r).join('\n')}\n`);
  return r.exitCode;
}

/** Rounds until SIGINT/SIGTERM or --count: what changed since the last round, stamped. */
async function watch(
  session: Session,
  loaded: LoadedWorkspace,
  req: VerifyRequest & { periodSeconds: number; rounds?: number },
  opts: VerifyOptions,
): Promise<number> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const report = await watchVerify(session, loaded, storeOf(loaded, opts), req, {
      signal: stop.signal,
      onRound: (r) => {
        if (opts.json) {
          const line = watchJson(r);
          if (line) process.stdout.write(`${JSON.stringify(line)}\n`);
        } else for (const l of watchLines(r)) say(`${l}\n`);
      },
    });
    note(opts, `watch ended: ${report.status}`);
    return report.exitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export async function runVerifyCommand(opts: VerifyOptions): Promise<number> {
  const loaded = await loadOrFail(opts);
  const interval = secondsFlag('--watch', opts.watch, 1, 86_400);
  const count = secondsFlag('--count', opts.count, 1, 1_000_000);
  const probe = probeRequest(opts, loaded);
  const req: VerifyRequest = { ...(opts.full ? { full: true } : {}), ...(probe ? { probe } : {}) };
  return withSession(loaded, opts, (session) =>
    interval === undefined
      ? once(session, loaded, req, opts)
      : watch(
          session,
          loaded,
          { ...req, periodSeconds: interval, ...(count !== undefined ? { rounds: count } : {}) },
          opts,
        ),
  );
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
    .action((opts: VerifyOptions) => run(runVerifyCommand(opts)));
}
