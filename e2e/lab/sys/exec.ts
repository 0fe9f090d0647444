// The lab's one way to run a program: argv only (no shell), a timeout on every call, optional
// stdin, optionally inside a network namespace (`ip netns exec NS argv...`).
import { execFile } from 'node:child_process';

export interface RunOptions {
  /** Run inside this network namespace. */
  readonly netns?: string;
  readonly input?: string;
  /** Default 15 s: nothing the lab runs should take longer. */
  readonly timeoutMs?: number;
  /** Exit codes that count as success (default [0]). */
  readonly okCodes?: readonly number[];
  readonly env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: RunResult,
  ) {
    const detail = result.stderr.trim().split('\n').slice(-3).join(' | ') || `exit ${result.code}`;
    super(`${argv.join(' ')}: ${detail}`);
    this.name = 'CommandError';
  }
}

export function netnsArgv(netns: string | undefined, argv: readonly string[]): string[] {
  return netns ? ['ip', 'netns', 'exec', netns, ...argv] : [...argv];
}

/** Run and return the result whatever the exit code (a timeout or spawn error gives code -1). */
export function runRaw(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const full = netnsArgv(opts.netns, argv);
  const [file, ...args] = full;
  return new Promise((resolve) => {
    const child = execFile(
      file!,
      args,
      {
        timeout: opts.timeoutMs ?? 15_000,
        maxBuffer: 256 * 1024 * 1024,
        env: opts.env ?? process.env,
        killSignal: 'SIGKILL',
      },
      (err, stdout, stderr) => {
        let code = 0;
        if (err)
          code = typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
        if (err && (err as { killed?: boolean }).killed) stderr = `${stderr}\n(timed out)`;
        if (err && code === -1 && !stderr) stderr = err.message;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    // A command that exits without reading its input (a failing iptables-restore) closes the pipe
    // first: its exit status tells what happened, the EPIPE on our side adds nothing.
    child.stdin?.on('error', () => {});
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** Run; throw CommandError unless the exit code is accepted. Returns stdout. */
export async function run(argv: readonly string[], opts: RunOptions = {}): Promise<string> {
  const result = await runRaw(argv, opts);
  if (!(opts.okCodes ?? [0]).includes(result.code))
    throw new CommandError(netnsArgv(opts.netns, argv), result);
  return result.stdout;
}
