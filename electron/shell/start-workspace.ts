// Which workspace the window opens at start: the one named on the command line
// (`--workspace FILE` or `--workspace=FILE`), else the last one opened (the engine's recent list,
// the same one the start screen shows in the browser too).
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';

export const WORKSPACE_FLAG = '--workspace';

/**
 * The absolute path given with --workspace in argv (the last one wins), or null. A flag without a
 * value (end of argv, or followed by another --option) is ignored. Stops at a bare `--`.
 */
export function workspaceFromArgv(argv: readonly string[], cwd: string): string | null {
  let found: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    let value: string | undefined;
    if (arg === WORKSPACE_FLAG) {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        value = next;
        i++;
      }
    } else if (arg.startsWith(`${WORKSPACE_FLAG}=`)) {
      value = arg.slice(WORKSPACE_FLAG.length + 1);
    }
    if (value !== undefined && value.length > 0 && !value.includes('\0')) found = resolve(cwd, value);
  }
  return found;
}

const fileExists = async (path: string): Promise<boolean> => {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
};

/**
 * The workspace the app opens at start (the engine's `startWorkspace` answer): the command-line
 * workspace; else the last one opened, but only if it still exists, so a deleted workspace does
 * not greet the user with an error. (Opening it puts it on the recent list.)
 */
export async function resolveStartWorkspace(opts: {
  readonly argvWorkspace: string | null;
  readonly lastWorkspace: () => Promise<string | null>;
  readonly exists?: (path: string) => Promise<boolean>;
}): Promise<string | null> {
  if (opts.argvWorkspace !== null) return opts.argvWorkspace;
  const last = await opts.lastWorkspace();
  const exists = opts.exists ?? fileExists;
  return last !== null && (await exists(last)) ? last : null;
}
