// `npg plan`, `npg apply`, `npg rollback`, `npg remove`: read every node, plan the change, show it,
// and (except plan) confirm, then roll it out: canary first, the rest in parallel, stop at the first
// failure unless --continue. Exit 0 done (or nothing to do), 1 a difference (blocked, stale, drift
// after the change, skipped nodes; for plan: changes needed), 2 bad input or failure to run.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { familyName } from '../../../shared/guard/cidr.js';
import type { Cluster } from '../../../shared/workspace/schema.js';
import { checkSavedPlan, gateChange, type SavedPlan, savedPlanOf } from '../../engine/change-gate.js';
import type { ChangeOp, NodeChange } from '../../engine/node-change.js';
import { groupedPlanLines, planLines } from '../../engine/plan-text.js';
import { checkPolicy, parseCheckCidrs, policyHash, prepare } from '../../engine/prepare.js';
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
    if (!opts.json) {
      const lines = groupedPlanLines(changes.map((c) => c.plan));
      for (const u of prepared.untouched) lines.push(u.message);
      for (const u of unplanned) lines.push(u.message);
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    if (op === 'plan') {
      if (opts.out) {
        const file = savedPlanOf(prepared, loaded.path, policyHash(policy), new Date().toISOString());
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
      const due = changes.some((c) => !c.plan.noop || c.plan.errors.length > 0);
      return !due && unplanned.length === 0 ? EXIT_OK : EXIT_DIFFERENCE;
    }

    const gate = gateChange(prepared, {
      op,
      policyHash: policyHash(policy),
      ...(opts.continue ? { continueOnFailure: true } : {}),
      ...(planFile ? { saved: planFile } : {}),
    });
    if (!gate.go) {
      if (gate.outcome === 'nothing') {
        if (opts.json)
          printJson({
            op,
            outcome: 'ok',
            nodes: changes.map((c) => ({ node: c.node, status: 'unchanged' })),
            unplanned,
            untouched,
          });
        else note(opts, gate.message);
        return unplanned.length > 0 ? EXIT_DIFFERENCE : EXIT_OK;
      }
      if (opts.json)
        printJson({
          op,
          outcome: gate.outcome,
          error: gate.message,
          nodes: changes.map(planJson),
          unplanned,
          untouched,
        });
      else process.stderr.write(`npg: ${gate.message}\n`);
      return gate.outcome === 'failed' ? EXIT_FAILURE : EXIT_DIFFERENCE;
    }
    const work = gate.work;
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
