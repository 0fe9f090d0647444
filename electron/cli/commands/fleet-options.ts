// The workspace and connection options of the fleet commands, as commander options. Apart from
// common.ts on purpose: `npg inspect --file` registers them too, and must not load the engine
// (the workspace codec, the fleet) to start.
import { type Command, Option } from 'commander';

export interface FleetCliOptions {
  readonly workspace?: string;
  readonly json?: boolean;
  readonly node?: readonly string[];
  readonly acceptNewHostKeys?: boolean;
  readonly sshConfig?: string;
  readonly concurrency?: string;
  readonly connectTimeout?: string;
  readonly quiet?: boolean;
  readonly stateDir?: string;
}

export type Runner = (p: Promise<number>) => void;

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** --workspace (or NPG_WORKSPACE) and --json, for every command that reads the workspace. */
export function workspaceOptions(cmd: Command): Command {
  return cmd
    .option('--workspace <FILE>', 'the workspace file (default: $NPG_WORKSPACE)')
    .option('--json', 'machine-readable result on stdout')
    .option('--quiet', 'no per-node progress on stderr')
    .addOption(
      new Option('--state-dir <DIR>', 'local history and saved states (default: <workspace>.npg)').hideHelp(),
    );
}

/** Connection options, for commands that contact nodes. */
export function fleetOptions(cmd: Command): Command {
  return workspaceOptions(cmd)
    .option('--node <NAME>', 'only this node (repeat or comma-separate)', collect)
    .option('--accept-new-host-keys', 'record host keys known_hosts lacks (check the fingerprints first)')
    .option('--ssh-config <FILE>', 'ssh config to read, or "none" (default ~/.ssh/config)')
    .option('--concurrency <N>', 'nodes worked on at once (default 32)')
    .option('--connect-timeout <SECONDS>', 'per SSH hop: TCP, key exchange, login (default 15)');
}
