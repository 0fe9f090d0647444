// `npg confirm`: keep a commit-confirmed change (apply/rollback/remove --confirm-within). Uses a new
// connection to every node the change touched. Exit 0 confirmed (or nothing pending), 1 a node had
// already rolled back (too late) or holds another change, 2 a node could not be reached.
import type { Command } from 'commander';
import { confirmLine, runConfirm } from '../../engine/use-cases/confirm-change.js';
import { progressOf } from '../../engine/use-cases/io.js';
import { say } from '../io.js';
import {
  type FleetCliOptions,
  fleetOptions,
  loadOrFail,
  printJson,
  progress,
  type Runner,
  storeOf,
  withSession,
} from './common.js';

export async function runConfirmCommand(opts: FleetCliOptions): Promise<number> {
  const loaded = await loadOrFail(opts);
  const store = storeOf(loaded, opts);
  return withSession(loaded, opts, async (session) => {
    const print = progress(opts, 'confirm');
    const report = await runConfirm(session, store, opts.node ? { nodes: session.nodes } : {}, {
      ...(print ? { onEvent: (e) => print(progressOf(e)) } : {}),
    });
    if (opts.json) printJson({ token: report.token, nodes: report.outcomes });
    else say(`${report.outcomes.map(confirmLine).join('\n')}\n`);
    return report.exitCode;
  });
}

export function registerConfirm(program: Command, run: Runner): void {
  fleetOptions(
    program
      .command('confirm')
      .description("keep the last commit-confirmed change: stop the nodes' rollback timers"),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  npg apply --workspace c.yaml --yes --confirm-within 120\n  npg confirm --workspace c.yaml',
    )
    .action((opts: FleetCliOptions) => run(runConfirmCommand(opts)));
}
