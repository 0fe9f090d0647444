// `npg`: the command line over the engine. Exit codes per DESIGN.md: 0 ok, 1 difference, 2 bad
// input or failure; every error is one line `npg: <what and where>`.
import { Command, CommanderError } from 'commander';
import { CliError, EXIT_FAILURE } from './exit.js';
import { say } from './io.js';

const program = new Command('npg')
  .description('NodePort Guard: see and restrict who can reach a Kubernetes NodePort')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

let pending: Promise<number> | undefined;
const run = (p: Promise<number>): void => {
  pending = p;
};

// Commands are loaded on demand (the bundle is split per dynamic import, scripts/build-node.mjs):
// `npg inspect --file` and `npg trace` need neither the workspace (yaml, zod) nor SSH, and
// compiling those modules was most of their start-up. Every other invocation, --help included,
// loads them all.
const onDump: Readonly<Record<string, () => Promise<void>>> = {
  inspect: async () => (await import('./commands/inspect.js')).registerInspect(program, run),
  trace: async () => (await import('./commands/trace.js')).registerTrace(program, run),
};
const only = onDump[process.argv[2] ?? ''];
if (only) {
  await only();
} else {
  const [inspect, trace, nodes, discover, policy, change, verify, confirm, history, exportCmd] =
    await Promise.all([
      import('./commands/inspect.js'),
      import('./commands/trace.js'),
      import('./commands/nodes.js'),
      import('./commands/discover.js'),
      import('./commands/policy.js'),
      import('./commands/change.js'),
      import('./commands/verify.js'),
      import('./commands/confirm.js'),
      import('./commands/history.js'),
      import('./commands/export.js'),
    ]);
  inspect.registerInspect(program, run);
  trace.registerTrace(program, run);
  nodes.registerNodes(program, run);
  discover.registerDiscover(program, run);
  policy.registerPolicy(program, run);
  change.registerChangeCommands(program, run);
  verify.registerVerify(program, run);
  confirm.registerConfirm(program, run);
  history.registerHistory(program, run);
  exportCmd.registerExport(program, run);
}

function fail(message: string): never {
  say(`npg: ${message.split('\n')[0]}\n`, process.stderr);
  process.exit(EXIT_FAILURE);
}

try {
  program.parse(process.argv);
  if (pending) process.exitCode = await pending;
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version are not errors; usage mistakes are bad input (2).
    process.exit(err.exitCode === 0 ? 0 : EXIT_FAILURE);
  }
  if (err instanceof CliError) {
    say(`npg: ${err.message}\n`, process.stderr);
    process.exit(err.exitCode);
  }
  fail(`internal error: ${(err as Error).stack ?? err}`);
}
