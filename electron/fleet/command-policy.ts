// What may run on a node. Every remote command goes through checkArgv before any byte is sent:
// the command name must be one of the binaries the engine uses, no argument may hold a NUL, and
// wrappers that start another program (flock, systemd-run) have their inner command checked by
// the same rules. `sh` runs only scripts that we ship (registered with shippedScript at module
// load), never text built from input; data reaches such a script as positional parameters.

export const ALLOWED_COMMANDS = [
  'iptables-save',
  'ip6tables-save',
  'iptables-restore',
  'ip6tables-restore',
  'iptables',
  'ip6tables',
  'ipset',
  'ipvsadm',
  'ss',
  'ip',
  'conntrack',
  'flock',
  'cat',
  'mkdir',
  'mv',
  'sh',
  'systemd-run',
  'test',
  'true',
  'id',
  'uname',
] as const;

export type AllowedCommand = (typeof ALLOWED_COMMANDS)[number];

/** The command text is sent in one SSH packet; bulk data belongs on stdin. */
export const MAX_COMMAND_CHARS = 64 * 1024;

export type ArgvCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

declare const shippedScriptBrand: unique symbol;
/** Script text that ships with NodePort Guard; only these may follow `sh -c`. */
export type ShippedScript = string & { readonly [shippedScriptBrand]: true };

const shippedScripts = new Set<string>();

/**
 * Registers a fixed script that `sh -c` may run. Call it at module scope with a literal, so the
 * set of scripts is fixed when the program starts; input goes in as "$1", "$2", ... instead.
 */
export function shippedScript(text: string): ShippedScript {
  shippedScripts.add(text);
  return text as ShippedScript;
}

const allowed: ReadonlySet<string> = new Set(ALLOWED_COMMANDS);

const FLOCK_FLAGS = new Set([
  '-s',
  '-x',
  '-e',
  '-n',
  '-o',
  '-u',
  '-F',
  '--shared',
  '--exclusive',
  '--nonblock',
  '--nb',
  '--close',
  '--unlock',
  '--no-fork',
  '--verbose',
]);
const FLOCK_VALUE_OPTIONS = new Set(['-w', '-E', '--timeout', '--wait', '--conflict-exit-code']);
const SYSTEMD_RUN_FLAGS = new Set([
  '-q',
  '--quiet',
  '-G',
  '--collect',
  '--no-block',
  '--wait',
  '-P',
  '--pipe',
  '--same-dir',
  '--no-ask-password',
]);
const SH_FLAGS = new Set(['-e', '-u', '-eu', '-ue']);

const fail = (reason: string): ArgvCheck => ({ ok: false, reason });
const OK: ArgvCheck = { ok: true };

/** Checks an argv against the policy above; the reason names the offending part. */
export function checkArgv(argv: readonly unknown[]): ArgvCheck {
  if (argv.length === 0) return fail('empty argv');
  let chars = 0;
  for (const [i, arg] of argv.entries()) {
    if (typeof arg !== 'string') return fail(`argv[${i}] is not a string`);
    if (arg.includes('\0')) return fail(`argv[${i}] contains a NUL byte`);
    chars += arg.length + 3;
  }
  if (chars > MAX_COMMAND_CHARS)
    return fail(`command longer than ${MAX_COMMAND_CHARS} characters; send data on stdin`);
  return checkCommand(argv as readonly string[], 0);
}

function checkCommand(argv: readonly string[], depth: number): ArgvCheck {
  const name = argv[0];
  if (name === undefined) return fail('wrapper without a command to run');
  if (depth > 2) return fail('wrappers nested too deeply');
  if (!allowed.has(name)) {
    return fail(
      name === 'sudo'
        ? 'sudo is added by the fleet itself (set sudo on the node or the request)'
        : `command not allowed: ${JSON.stringify(name)}`,
    );
  }
  switch (name) {
    case 'sh':
      return checkSh(argv);
    case 'flock':
      return checkFlock(argv, depth);
    case 'systemd-run':
      return checkSystemdRun(argv, depth);
    default:
      return OK;
  }
}

function checkSh(argv: readonly string[]): ArgvCheck {
  let i = 1;
  while (i < argv.length && SH_FLAGS.has(argv[i]!)) i++;
  if (argv[i] !== '-c') return fail('sh runs only as `sh [-e] [-u] -c SCRIPT [NAME ARG...]`');
  const script = argv[i + 1];
  if (script === undefined || !shippedScripts.has(script)) {
    return fail('sh -c accepts only scripts that ship with NodePort Guard');
  }
  return OK;
}

function checkFlock(argv: readonly string[], depth: number): ArgvCheck {
  let i = 1;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-c' || arg.startsWith('--command'))
      return fail('flock -c runs a shell string; pass a command');
    if (FLOCK_FLAGS.has(arg)) continue;
    if (FLOCK_VALUE_OPTIONS.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('--') && FLOCK_VALUE_OPTIONS.has(arg.slice(0, arg.indexOf('=')))) continue;
    if (arg.startsWith('-')) return fail(`flock option not allowed: ${JSON.stringify(arg)}`);
    break;
  }
  const lockFile = argv[i];
  if (lockFile === undefined || !lockFile.startsWith('/'))
    return fail('flock needs an absolute lock file path');
  return checkCommand(argv.slice(i + 1), depth + 1);
}

function checkSystemdRun(argv: readonly string[], depth: number): ArgvCheck {
  let i = 1;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (SYSTEMD_RUN_FLAGS.has(arg)) continue;
    // Only the --name=value spelling, so that no option can swallow the command that follows.
    if (/^--[a-z][a-z-]*=/.test(arg)) continue;
    if (arg.startsWith('-'))
      return fail(`systemd-run option not allowed: ${JSON.stringify(arg)} (use --name=value)`);
    break;
  }
  return checkCommand(argv.slice(i), depth + 1);
}
