// Run the real `npg` binary (bin/npg.js) as a child process, the way scripts and CI do.
import { spawn, spawnSync } from 'node:child_process';

export interface NpgRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function npg(
  args: readonly string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<NpgRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/npg.js', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** stdout parsed as JSON, with the run's stderr in the error when it is not JSON. */
export function json<T = Record<string, unknown>>(r: NpgRun): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(
      `not JSON (exit ${r.code}): ${r.stdout.slice(0, 500)}\nstderr: ${r.stderr.slice(0, 2000)}`,
    );
  }
}

/** The same, waited for: for short runs on files, where a test reads better without await. */
export function npgSync(args: readonly string[], input?: string): NpgRun {
  const r = spawnSync(process.execPath, ['bin/npg.js', ...args], {
    encoding: 'utf8',
    input,
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
