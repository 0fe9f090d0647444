// The command line of `npm run web` (and of `npm start` when it falls back to the browser),
// parsed apart from web-main.ts so the rules are unit-tested without starting a server.
import { resolve } from 'node:path';

export interface WebArgs {
  /** 0: any free port. */
  readonly port: number;
  /** Absolute path of the workspace file to open, if one was named. */
  readonly workspacePath?: string;
}

const USAGE = 'usage: npg web [--port N] [--workspace FILE]';

/** Parses argv (without node and the script); throws an Error with a one-line message. */
export function parseWebArgs(argv: readonly string[], cwd = process.cwd()): WebArgs {
  let port = 0;
  let workspacePath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    // Accept both `--port 8080` and `--port=8080`.
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      const v = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (v === undefined || v === '') throw new Error(`${flag}: needs a value (${USAGE})`);
      return v;
    };
    if (flag === '--port') port = parsePort(value());
    else if (flag === '--workspace') workspacePath = resolve(cwd, value());
    else throw new Error(`${arg}: unknown argument (${USAGE})`);
  }
  return { port, workspacePath };
}

function parsePort(text: string): number {
  const port = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port ${text}: not a port number (0-65535)`);
  }
  return port;
}
