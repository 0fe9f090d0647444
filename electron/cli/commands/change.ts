// `npg plan`, `npg apply`, `npg rollback`, `npg remove`: read every node, plan the change, show it,
// and (except plan) confirm, then roll it out: canary first, the rest in parallel, stop at the first
// failure unless --continue. Exit 0 done (or nothing to do), 1 a difference (blocked, stale, drift
// after the change, skipped nodes; for plan: changes needed), 2 bad input or failure to run.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { familyName } from '../../../shared/guard/cidr.js';
import type { Cluster } from '../../../shared/workspace/schema.js';
import type { ChangeOp, NodeChange } from '../../engine/node-change.js';
import { groupedPlanLines, planLines } from '../../engine/plan-text.js';
import { checkPolicy, type Prepared, parseCheckCidrs, policyHash, prepare } from '../../engine/prepare.js';
import { type NodeOutcome, planHashOf, runChanges } from '../../engine/run-changes.js';
import { writeFileAtomic } from '../../engine/workspace-file.js';
import { CliError, EXIT_DIFFERENCE, EXIT_FAILURE, EXIT_OK } from '../exit.js';
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
  readonly out?: string;
  readonly plan?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface PlanFile {
  readonly version: 1;
  readonly kind: 'npg-plan';
  readonly time: string;
  readonly workspace: string;
  readonly policyHash: string;
  readonly planHash: string;
  readonly nodes: readonly { readonly node: string; readonly stateHash: string; readonly noop: boolean }[];
}

function planJson(c: NodeChange) {
  return {
    node: c.node,
    noop: c.plan.noop,
    stateHash: c.plan.stateHash,
    backend: c.snapshot.toolBackend,
    families: c.plan.families.map((f) => ({ family: f.family, noop: f.noop, edits: f.edits.length })),
    diff: planLines(c.plan).slice(1),
    transactions: c.restores,
    warnings: c.plan.warnings.map((w) => w.message),
    errors: c.plan.errors.map((e) => e.message),
  };
}

function outcomeJson(o: NodeOutcome) {
  switch (o.status) {
    case 'applied':
      return {
        node: o.node,
        status: o.verify && o.verify.status !== 'ok' ? 'drift' : 'applied',
        ...(o.verify
          ? {
              verify: o.verify.status,
              findings: o.verify.findings.filter((f) => f.severity !== 'info').map((f) => f.message),
            }
          : {}),
        ...(o.timer ? { timer: o.timer } : {}),
        ...(o.killed ? { killed: o.killed } : {}),
        ...(o.message ? { message: o.message } : {}),
      };
    case 'failed':
      return { node: o.node, status: o.status, state: o.state, message: o.message };
    case 'unchanged':
      return { node: o.node, status: o.status };
    default:
      return { node: o.node, status: o.status, message: o.message };
  }
}

function outcomeLine(o: NodeOutcome): string {
  switch (o.status) {
    case 'unchanged':
      return `${o.node}: unchanged`;
    case 'applied': {
      const bad = o.verify?.findings.filter((f) => f.severity !== 'info') ?? [];
      const head = bad.length
        ? `${o.node}: changed, but verify found: ${bad.map((f) => f.message.replace(`${o.node}: `, '')).join('; ')}`
        : `${o.node}: changed and verified${o.verify ? '' : ' (not verified)'}`;
      const at = Number(o.timer?.split(' ')[1]);
      const timer = o.timer
        ? `; rolls back at ${Number.isFinite(at) ? new Date(at * 1000).toISOString() : '?'} (node clock) unless confirmed`
        : '';
      const killed = o.killed?.deleted.length
        ? `; ${o.killed.deleted.length} established flow(s) of blocked sources cut`
        : '';
      return `${head}${timer}${killed}${o.message ? ` (${o.message})` : ''}`;
    }
    case 'failed':
      return `${o.message}${o.state === 'old' || o.message.includes('old guard') ? '' : ` [state: ${o.state}]`}`;
    default:
      return o.message;
  }
}

/** The workspace's `cluster` values, plus what --pod-cidr / --lb-health-check add for this run. */
function checksFrom(opts: ChangeOptions, cluster: Cluster | undefined) {
  const pods = parseCheckCidrs('--pod-cidr', [
    ...(cluster?.podCidrs ?? []),
    ...(opts.podCidr ?? []).flatMap((v) => v.split(',')),
  ]);
  if (!pods.ok) throw new CliError(pods.message);
  const lb = parseCheckCidrs('--lb-health-check', [
    ...(cluster?.healthCheckRanges ?? []),
    ...(opts.lbHealthCheck ?? []).flatMap((v) => v.split(',')),
  ]);
  if (!lb.ok) throw new CliError(lb.message);
  return {
    ...(opts.allowEmpty ? { allowEmpty: true } : {}),
    ...(pods.cidrs.length ? { podCidrs: pods.cidrs } : {}),
    ...(lb.cidrs.length ? { healthCheckRanges: lb.cidrs } : {}),
  };
}

async function readPlanFile(path: string): Promise<PlanFile> {
  let v: PlanFile;
  try {
    v = JSON.parse(await readFile(path, 'utf8')) as PlanFile;
  } catch (err) {
    throw new CliError(`--plan ${path}: ${(err as Error).message}`);
  }
  if (v?.kind !== 'npg-plan' || v.version !== 1 || !Array.isArray(v.nodes))
    throw new CliError(`--plan ${path}: not a plan written by npg plan --out`);
  return v;
}

/** Why a saved plan no longer matches what the nodes and the workspace hold now, if it does not. */
function staleAgainst(file: PlanFile, policy: string, prepared: Prepared): string | undefined {
  if (file.policyHash !== policy) return 'the workspace policy changed since the plan was made';
  for (const n of file.nodes) {
    const c = prepared.changes.find((x) => x.node === n.node);
    if (!c) continue;
    if (c.plan.stateHash !== n.stateHash)
      return `${n.node}: plan is stale: its guard state changed since the plan was made`;
  }
  if (planHashOf(prepared.changes) !== file.planHash)
    return 'the planned transactions differ from the saved plan';
  return undefined;
}

export async function runChangeCommand(op: ChangeOp | 'plan', opts: ChangeOptions): Promise<number> {
  const loaded = await loadOrFail(opts);
  const policy = loaded.workspace.policy;
  const confirmSeconds = secondsFlag('--confirm-within', opts.confirmWithin, 10, 86_400);
  const checks = op === 'apply' || op === 'plan' ? checksFrom(opts, loaded.workspace.cluster) : {};
  if (op === 'apply' || op === 'plan') {
    const problems = checkPolicy(policy);
    if (problems.length > 0)
      throw new CliError(
        `${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}; nothing sent`,
      );
  }
  if (opts.canary !== undefined && !loaded.workspace.inventory.nodes.some((n) => n.name === opts.canary))
    throw new CliError(`--canary ${JSON.stringify(opts.canary)}: not a node of the inventory`);
  const planFile = opts.plan !== undefined ? await readPlanFile(opts.plan) : undefined;
  const store = storeOf(loaded, opts);
  const verb = op === 'plan' ? 'apply' : op;

  return withSession(loaded, opts, async (session) => {
    const prepared = await prepare(session, verb, policy, {
      checks,
      store,
      onProgress: progress(opts, 'read'),
    });
    const { changes, unplanned, untouched } = prepared;
    const blocked = changes.filter((c) => c.plan.errors.length > 0);
    const work = changes.filter((c) => !c.plan.noop);
    if (!opts.json) {
      const lines = groupedPlanLines(changes.map((c) => c.plan));
      for (const u of prepared.untouched) lines.push(u.message);
      for (const u of unplanned) lines.push(u.message);
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    if (op === 'plan') {
      if (opts.out) {
        const file: PlanFile = {
          version: 1,
          kind: 'npg-plan',
          time: new Date().toISOString(),
          workspace: loaded.path,
          policyHash: policyHash(policy),
          planHash: planHashOf(changes),
          nodes: changes.map((c) => ({ node: c.node, stateHash: c.plan.stateHash, noop: c.plan.noop })),
        };
        await writeFileAtomic(opts.out, `${JSON.stringify(file, null, 2)}\n`, 0o644);
      }
      if (opts.json)
        printJson({
          op: 'plan',
          nodes: changes.map(planJson),
          unplanned,
          untouched,
          planHash: planHashOf(changes),
        });
      if (unplanned.some((u) => u.status === 'unreachable')) return EXIT_FAILURE;
      return work.length === 0 && blocked.length === 0 && unplanned.length === 0 ? EXIT_OK : EXIT_DIFFERENCE;
    }

    const refuse = (code: number, message: string, extra: object = {}): number => {
      if (opts.json)
        printJson({
          op,
          outcome: code === EXIT_FAILURE ? 'failed' : 'difference',
          error: message,
          nodes: changes.map(planJson),
          unplanned,
          untouched,
          ...extra,
        });
      else process.stderr.write(`npg: ${message}\n`);
      return code;
    };
    if (unplanned.length > 0 && !opts.continue) {
      const u = unplanned[0]!;
      return refuse(
        u.status === 'unreachable' ? EXIT_FAILURE : EXIT_DIFFERENCE,
        `${u.message}; nothing changed on any node (--continue changes the others)`,
      );
    }
    if (blocked.length > 0) {
      const e = blocked[0]!.plan.errors[0]!;
      return refuse(EXIT_DIFFERENCE, `${e.message}; blocked, nothing changed on any node`);
    }
    if (planFile) {
      const why = staleAgainst(planFile, policyHash(policy), prepared);
      if (why) return refuse(EXIT_DIFFERENCE, `${why}; re-plan (npg plan --out), nothing changed`);
    }
    if (work.length === 0) {
      if (opts.json)
        printJson({
          op,
          outcome: 'ok',
          nodes: changes.map((c) => ({ node: c.node, status: 'unchanged' })),
          unplanned,
          untouched,
        });
      else note(opts, `nothing to ${op}: every node already holds it`);
      return unplanned.length > 0 ? EXIT_DIFFERENCE : EXIT_OK;
    }
    const fams = new Set(work.flatMap((c) => c.restores.map((r) => familyName(r.family))));
    await confirmOrRefuse(
      opts.yes,
      op,
      `${op} on ${work.length} node${work.length === 1 ? '' : 's'} (${[...fams].join(', ')})${confirmSeconds ? `, rolled back after ${confirmSeconds} s unless confirmed` : ''}?`,
    );
    const result = await runChanges(session, changes, {
      store,
      workspacePath: loaded.path,
      policyHash: policyHash(policy),
      ...(confirmSeconds ? { confirmSeconds } : {}),
      ...(opts.continue ? { continueOnFailure: true } : {}),
      ...(opts.canary ? { canary: opts.canary } : {}),
      ...(opts.killEstablished ? { killEstablished: true } : {}),
      onNodeDone:
        opts.quiet || opts.json ? undefined : (o) => process.stderr.write(`npg: ${outcomeLine(o)}\n`),
    });
    if (opts.json) {
      printJson({
        op,
        token: result.token,
        planHash: result.planHash,
        outcome: result.outcome,
        ...(confirmSeconds ? { confirmWithinSeconds: confirmSeconds } : {}),
        nodes: result.outcomes.map(outcomeJson),
        unplanned,
        untouched,
        plans: changes.map(planJson),
      });
    } else {
      process.stdout.write(`${result.outcomes.map(outcomeLine).join('\n')}\n`);
      if (confirmSeconds && result.outcomes.some((o) => o.status === 'applied' && o.timer))
        process.stdout.write(
          `confirm within ${confirmSeconds} s: npg confirm --workspace ${loaded.path} (otherwise the nodes restore their saved guard)\n`,
        );
    }
    if (result.outcome === 'failed' || unplanned.some((u) => u.status === 'unreachable')) return EXIT_FAILURE;
    if (result.outcome === 'difference' || unplanned.length > 0) return EXIT_DIFFERENCE;
    return EXIT_OK;
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
