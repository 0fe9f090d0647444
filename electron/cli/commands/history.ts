// `npg history`: the local record of every apply, rollback and remove made from this workspace
// (append-only JSONL next to it), newest last.
import type { Command } from 'commander';
import { readHistory } from '../../engine/history.js';
import { EXIT_OK } from '../exit.js';
import { formatTable } from '../format-table.js';
import { say } from '../io.js';
import {
  type FleetCliOptions,
  loadOrFail,
  note,
  printJson,
  type Runner,
  secondsFlag,
  storeOf,
  workspaceOptions,
} from './common.js';

interface HistoryOptions extends FleetCliOptions {
  readonly limit?: string;
}

export async function runHistory(opts: HistoryOptions): Promise<number> {
  const loaded = await loadOrFail(opts);
  const limit = secondsFlag('--limit', opts.limit, 1, 1_000_000);
  const h = await readHistory(storeOf(loaded, opts));
  const records = limit ? h.records.slice(-limit) : h.records;
  for (const p of h.problems) note(opts, `warning: ${p}`);
  if (opts.json) printJson({ file: storeOf(loaded, opts).historyFile, records, problems: h.problems });
  else if (records.length === 0) say('no changes recorded yet\n');
  else
    say(
      `${formatTable(
        ['TIME', 'OP', 'OUTCOME', 'TOKEN', 'NODES', 'OPERATOR'],
        records.map((r) => {
          const counts = new Map<string, number>();
          for (const n of r.nodes) counts.set(n.status, (counts.get(n.status) ?? 0) + 1);
          return [
            r.time,
            `${r.op}${r.confirmWithinSeconds ? ` (confirm ${r.confirmWithinSeconds}s)` : ''}`,
            r.outcome,
            r.token,
            [...counts].map(([s, n]) => `${n} ${s}`).join(', '),
            r.operator,
          ];
        }),
      )}\n`,
    );
  return EXIT_OK;
}

export function registerHistory(program: Command, run: Runner): void {
  workspaceOptions(
    program
      .command('history')
      .description('every apply, rollback and remove made from this workspace, with per-node results')
      .option('--limit <N>', 'only the last N records'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  npg history --workspace c.yaml --limit 10\n  npg history --workspace c.yaml --json | jq ".records[-1].nodes"',
    )
    .action((opts: HistoryOptions) => run(runHistory(opts)));
}
