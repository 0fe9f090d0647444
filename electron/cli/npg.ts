// `npg`: the command line over the engine. Exit codes per DESIGN.md: 0 ok, 1 difference, 2 bad
// input or failure; every error is one line `npg: <what and where>`.
import { Command, CommanderError } from 'commander';
import { registerChangeCommands } from './commands/change.js';
import { registerConfirm } from './commands/confirm.js';
import { registerDiscover } from './commands/discover.js';
import { registerExport } from './commands/export.js';
import { registerHistory } from './commands/history.js';
import { registerInspect } from './commands/inspect.js';
import { registerNodes } from './commands/nodes.js';
import { registerPolicy } from './commands/policy.js';
import { registerTrace } from './commands/trace.js';
import { registerVerify } from './commands/verify.js';
import { CliError, EXIT_FAILURE } from './exit.js';

const program = new Command('npg')
  .description('NodePort Guard: see and restrict who can reach a Kubernetes NodePort')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

let pending: Promise<number> | undefined;
const run = (p: Promise<number>): void => {
  pending = p;
};

registerInspect(program, run);
registerTrace(program, run);
registerNodes(program, run);
registerDiscover(program, run);
registerPolicy(program, run);
registerChangeCommands(program, run);
registerVerify(program, run);
registerConfirm(program, run);
registerHistory(program, run);
registerExport(program, run);

function fail(message: string): never {
  process.stderr.write(`npg: ${message.split('\n')[0]}\n`);
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
    process.stderr.write(`npg: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  fail(`internal error: ${(err as Error).stack ?? err}`);
}
