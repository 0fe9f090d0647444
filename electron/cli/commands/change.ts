// `npg plan`, `npg apply`, `npg rollback`, `npg remove`: the CLI face of the change use case
// (engine/use-cases/change.ts), which reads, plans, gates, asks and rolls out. Here: flags in, the
// plan and outcomes out (stdout), progress and refusals on stderr, and the report's exit code:
// 0 done (or nothing to do), 1 a difference (blocked, stale, drift after the change, skipped nodes;
// for plan: changes needed), 2 bad input or failure to run.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { showValue } from '../../../shared/guard/field-error.js';
import { checkSavedPlan, type SavedPlan } from '../../engine/change-gate.js';
import type { ChangeOp } from '../../engine/node-change.js';
import {
  type ChangeChecks,
  type ChangeEvent,
  type ChangeReport,
  type ChangeRequest,
  checkChangeRequest,
  checksOf,
  runChange,
} from '../../engine/use-cases/change.js';
import { changeJson, outcomeLine } from '../../engine/use-cases/change-format.js';
import { progressOf } from '../../engine/use-cases/io.js';
import { type LoadedWorkspace, writeFileAtomic } from '../../engine/workspace-file.js';
import { CliError, EXIT_FAILURE } from '../exit.js';
import { say } from '../io.js';
import {
  confirmOrRefuse,
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

interface ChangeOptions extends FleetCliOptions {
  readonly yes?: boolean;
  readonly continue?: boolean;
  readonly canary?: string;
  readonly confirmWithin?: string;
  readonly killEstablished?: boolean;
  readonly allowEmpty?: boolean;
  readonly podCidr?: string[];
  readonly lbHealthCheck?: string[];
  readonly guardAnyway?: string[];
  readonly out?: string;
  readonly plan?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The workspace's `cluster` values, plus what --pod-cidr / --lb-health-check add for this run. */
function checksFrom(opts: ChangeOptions, loaded: LoadedWorkspace): ChangeChecks {
  const anyway = (opts.guardAnyway ?? []).flatMap((v) => v.split(','));
  const names = new Set(loaded.workspace.inventory.nodes.map((n) => n.name));
  const unknown = anyway.find((n) => !names.has(n));
  if (unknown !== undefined)
    throw new CliError(`--guard-anyway ${showValue(unknown)}: no such node in ${loaded.path}`);
  const r = checksOf(loaded.workspace.cluster, {
    ...(opts.allowEmpty ? { allowEmpty: true } : {}),
    podCidrs: (opts.podCidr ?? []).flatMap((v) => v.split(',')),
    healthCheckRanges: (opts.lbHealthCheck ?? []).flatMap((v) => v.split(',')),
    guardAnyway: anyway,
  });
  if (!r.ok) throw new CliError(r.message);
  return r.checks;
}

async function readPlanFile(path: string): Promise<SavedPlan> {
  let v: unknown;
  try {
    v = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new CliError(`--plan ${path}: ${(err as Error).message}`);
  }
  const r = checkSavedPlan(v);
  if (!r.ok) throw new CliError(`--plan ${path}: ${r.reason}`);
  return r.plan;
}

/** The flags as a request; every check that needs no connection runs here (exit 2, nothing sent). */
async function requestOf(
  op: ChangeOp | 'plan',
  opts: ChangeOptions,
  loaded: LoadedWorkspace,
): Promise<ChangeRequest> {
  const confirmSeconds = secondsFlag('--confirm-within', opts.confirmWithin, 10, 86_400);
  const checks = op === 'apply' || op === 'plan' ? checksFrom(opts, loaded) : {};
  const req: ChangeRequest = {
    op,
    checks,
    ...(confirmSeconds ? { confirmSeconds } : {}),
    ...(opts.canary !== undefined ? { canary: opts.canary } : {}),
    ...(opts.continue ? { continueOnFailure: true } : {}),
    ...(opts.killEstablished ? { killEstablished: true } : {}),
  };
  const valid = checkChangeRequest(loaded, req);
  if (!valid.ok) throw new CliError(valid.message);
  return opts.plan !== undefined ? { ...req, savedPlan: await readPlanFile(opts.plan) } : req;
}

/** Progress on stderr as the nodes are read and changed; the plan on stdout once it is made. */
function eventPrinter(opts: ChangeOptions): (e: ChangeEvent) => void {
  const read = progress(opts, 'read');
  return (e) => {
    if (e.kind === 'read') read?.(progressOf(e));
    else if (e.kind === 'planned') {
      if (!opts.json) say(`${e.lines.join('\n')}\n`);
    } else if (!opts.quiet && !opts.json) say(`npg: ${outcomeLine(e.outcome)}\n`, process.stderr);
  };
}

/** What the report says after the plan was printed; `path` is the workspace, for the confirm hint. */
async function printReport(report: ChangeReport, opts: ChangeOptions, path: string): Promise<void> {
  switch (report.outcome) {
    case 'planned':
      if (opts.out) await writeFileAtomic(opts.out, `${JSON.stringify(report.savedPlan, null, 2)}\n`, 0o644);
      if (opts.json) printJson(changeJson(report));
      return;
    case 'held':
      if (opts.json) printJson(changeJson(report));
      else if (report.gate.outcome === 'nothing') note(opts, report.gate.message);
      else say(`npg: ${report.gate.message}\n`, process.stderr);
      return;
    case 'ran': {
      if (opts.json) return printJson(changeJson(report));
      const { run, confirmSeconds } = report;
      say(`${run.outcomes.map(outcomeLine).join('\n')}\n`);
      if (confirmSeconds && run.outcomes.some((o) => o.status === 'applied' && o.timer))
        say(
          `confirm within ${confirmSeconds} s: npg confirm --workspace ${path} (otherwise the nodes restore their saved guard)\n`,
        );
      return;
    }
    default:
      // confirmOrRefuse throws its own refusals; these are the other ways nothing was sent.
      throw new CliError(
        `${report.op}: ${report.outcome === 'cancelled' ? 'cancelled' : 'not confirmed'}; nothing changed`,
        EXIT_FAILURE,
      );
  }
}

export async function runChangeCommand(op: ChangeOp | 'plan', opts: ChangeOptions): Promise<number> {
  const loaded = await loadOrFail(opts);
  const req = await requestOf(op, opts, loaded);
  const store = storeOf(loaded, opts);
  return withSession(loaded, opts, async (session) => {
    const report = await runChange(session, loaded, store, req, {
      onEvent: eventPrinter(opts),
      confirm: async (question) => {
        await confirmOrRefuse(opts.yes, op, question);
        return true;
      },
    });
    await printReport(report, opts, loaded.path);
    return report.exitCode;
  });
}

function planOptions(cmd: Command): Command {
  return cmd
    .option('--allow-empty', 'guard a port whose allow-list is empty (it blocks every source)')
    .option('--pod-cidr <CIDR>', 'pod CIDR to warn about when not allowed (repeatable)', collect)
    .option(
      '--lb-health-check <CIDR|gcp|azure>',
      'load-balancer health-check range to warn about (repeatable)',
      collect,
    )
    .option(
      '--guard-anyway <NODE>',
      'guard this node even where Cilium, Calico eBPF or kube-router may serve its NodePorts before netfilter; verify --probe then judges (repeatable)',
      collect,
    );
}

function changeOptions(cmd: Command): Command {
  return cmd
    .option(
      '--confirm-within <SECONDS>',
      'commit-confirmed: nodes restore their saved guard unless `npg confirm` comes in time (10-86400)',
    )
    .option('--yes', 'do not ask for confirmation (required without a terminal)')
    .option('--continue', 'go on with the other nodes after a node fails')
    .option('--canary <NODE>', 'the node changed (and verified) first; default the first node that changes');
}

export function registerChangeCommands(program: Command, run: Runner): void {
  fleetOptions(
    planOptions(
      program
        .command('plan')
        .description(
          'show, per node, the exact change apply would make (exit 0: nothing to do, 1: changes or blocked)',
        )
        .option('--out <FILE>', 'save the plan; `npg apply --plan FILE` refuses if the nodes changed since'),
    ),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  npg plan --workspace c.yaml\n  npg plan --workspace c.yaml --json | jq ".nodes[].transactions"',
    )
    .action((opts: ChangeOptions) => run(runChangeCommand('plan', opts)));

  fleetOptions(
    changeOptions(
      planOptions(
        program
          .command('apply')
          .description("make every node's guard match the policy: one iptables-restore per node and family")
          .option(
            '--kill-established',
            'delete conntrack entries of now-blocked sources, so their open connections end',
          )
          .option('--plan <FILE>', 'apply only if the nodes and policy still match this saved plan'),
      ),
    ),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  npg apply --workspace c.yaml\n  npg apply --workspace c.yaml --yes --confirm-within 120 && npg confirm --workspace c.yaml\n  npg plan --workspace c.yaml --out p.json && npg apply --workspace c.yaml --plan p.json --yes',
    )
    .action((opts: ChangeOptions) => run(runChangeCommand('apply', opts)));

  fleetOptions(
    changeOptions(
      program
        .command('rollback')
        .description("restore every node's guard to what it was before its last change (our chains only)"),
    ),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  npg rollback --workspace c.yaml --yes\n  npg rollback --workspace c.yaml --yes --confirm-within 60',
    )
    .action((opts: ChangeOptions) => run(runChangeCommand('rollback', opts)));

  fleetOptions(
    changeOptions(
      program
        .command('remove')
        .description('remove the guard from every node: all NPG- chains and the entry jump'),
    ),
  )
    .addHelpText('after', '\nExamples:\n  npg remove --workspace c.yaml --yes')
    .action((opts: ChangeOptions) => run(runChangeCommand('remove', opts)));
}
