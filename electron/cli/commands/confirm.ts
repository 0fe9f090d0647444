// `npg confirm`: keep a commit-confirmed change (apply/rollback/remove --confirm-within). Uses a new
// connection to every node the change touched. Exit 0 confirmed (or nothing pending), 1 a node had
// already rolled back (too late) or holds another change, 2 a node could not be reached.
import type { Command } from 'commander';
import { confirmNodes } from '../../engine/confirm.js';
import { readPending, writePending } from '../../engine/local-store.js';
import { EXIT_DIFFERENCE, EXIT_FAILURE, EXIT_OK } from '../exit.js';
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

export async function runConfirm(opts: FleetCliOptions): Promise<number> {
  const loaded = await loadOrFail(opts);
  const store = storeOf(loaded, opts);
  const pending = await readPending(store);
  return withSession(loaded, opts, async (session) => {
    const nodes =
      pending && !opts.node ? session.nodes.filter((n) => pending.nodes.includes(n)) : session.nodes;
    const outcomes = await confirmNodes(session, nodes, pending?.token, {
      onProgress: progress(opts, 'confirm'),
    });
    const failed = outcomes.some((o) => o.status === 'failed');
    const late = outcomes.some((o) => o.status === 'expired' || o.status === 'other');
    if (!failed && pending && outcomes.every((o) => o.status === 'confirmed' || o.status === 'none'))
      await writePending(store, undefined);
    if (opts.json) printJson({ token: pending?.token ?? null, nodes: outcomes });
    else
      process.stdout.write(
        `${outcomes.map((o) => (o.status === 'confirmed' ? `${o.node}: confirmed (${o.token})` : o.message)).join('\n')}\n`,
      );
    return failed ? EXIT_FAILURE : late ? EXIT_DIFFERENCE : EXIT_OK;
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
    .action((opts: FleetCliOptions) => run(runConfirm(opts)));
}
