// Starting and stopping the lab's long-running processes, always by PID. A PID is only signalled
// after checking /proc/PID/cmdline still names the lab (PIDs get reused after a crash).
import { spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { netnsArgv } from './exec';

export async function cmdlineOf(pid: number): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

export async function isAlive(pid: number, mustContain?: string): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // A zombie (state Z) has exited; only its parent has not reaped it yet.
    if (/^\d+ \(.*\) Z/.test(stat)) return false;
  } catch {
    return false;
  }
  // Without `mustContain` existence is enough: right after `ip netns exec` execs the daemon its
  // cmdline can be empty for a moment, so only identity checks read it.
  if (mustContain === undefined) return true;
  return (await cmdlineOf(pid))?.includes(mustContain) ?? false;
}

/** Start a detached daemon inside a namespace; stdout/stderr go to `logFile`. Returns its PID. */
export async function startDaemon(
  netns: string,
  argv: readonly string[],
  logFile: string,
  cwd?: string,
): Promise<number> {
  const log = await open(logFile, 'a', 0o644);
  try {
    // `ip netns exec` execs the command in place, so the PID is the daemon's own.
    const full = netnsArgv(netns, argv);
    const child = spawn(full[0]!, full.slice(1), {
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
      ...(cwd ? { cwd } : {}),
    });
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start ${argv[0]} in ${netns}`);
    child.unref();
    return pid;
  } finally {
    await log.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, wait up to `graceMs`, then SIGKILL. Only if the PID still belongs to the lab. */
export async function stopPid(pid: number, mustContain: string, graceMs = 2000): Promise<void> {
  if (!(await isAlive(pid, mustContain))) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!(await isAlive(pid))) return;
    await sleep(50);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Poll `check` every `stepMs` until it returns true or `timeoutMs` passes. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  stepMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}
