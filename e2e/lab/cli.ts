// `npm run lab -- <command>`: the lab's command line. Thin: parses arguments and calls the
// modules that do the work.
import { Command } from 'commander';
import { regenerateFixtures } from './fixture-gen/regen';

const program = new Command('lab').description('NodePort Guard test lab (network namespaces; needs root)');

program
  .command('fixtures')
  .description('regenerate e2e/lab/fixtures from real iptables-save output (temporary npgfx-* namespace)')
  .action(async () => {
    await regenerateFixtures();
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`lab: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
});
