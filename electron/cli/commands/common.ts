// What the fleet commands share: the workspace and connection options, loading the workspace
// (bad input: exit 2 before any node is contacted), per-node progress on stderr, JSON on stdout,
// and the interactive confirmation that --yes skips.
import { createInterface } from 'node:readline/promises';
import { visibleText } from '../../../shared/text/visible.js';
import { type LocalStore, localStore } from '../../engine/local-store.js';
import { openSession, type Session, type SessionOptions, selectNodes } from '../../engine/session.js';
import { type LoadedWorkspace, loadWorkspace } from '../../engine/workspace-file.js';
import type { ProgressEvent } from '../../fleet/index.js';
import { CliError, EXIT_FAILURE } from '../exit.js';
import { say } from '../io.js';
import { terminalCredentials } from '../secret-prompt.js';
import type { FleetCliOptions } from './fleet-options.js';

export { type FleetCliOptions, fleetOptions, type Runner, workspaceOptions } from './fleet-options.js';

export async function loadOrFail(opts: FleetCliOptions): Promise<LoadedWorkspace> {
  const path = opts.workspace ?? process.env.NPG_WORKSPACE;
  if (!path) throw new CliError('--workspace FILE is required (or set NPG_WORKSPACE)');
  const r = await loadWorkspace(path);
  if (!r.ok) throw new CliError(r.message);
  return r.value;
}

export function storeOf(loaded: LoadedWorkspace, opts: FleetCliOptions): LocalStore {
  return localStore(loaded.path, opts.stateDir);
}

function nodeList(opts: FleetCliOptions): string[] | undefined {
  const list = (opts.node ?? [])
    .flatMap((n) => n.split(','))
    .map((n) => n.trim())
    .filter(Boolean);
  return list.length > 0 ? list : undefined;
}

export function sessionOptions(opts: FleetCliOptions): SessionOptions {
  let concurrency: number | undefined;
  if (opts.concurrency !== undefined) {
    concurrency = Number(opts.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024)
      throw new CliError(`--concurrency ${JSON.stringify(opts.concurrency)}: a whole number from 1 to 1024`);
  }
  const nodes = nodeList(opts);
  const connect = secondsFlag('--connect-timeout', opts.connectTimeout, 1, 600);
  return {
    ...(connect !== undefined ? { connectTimeoutMs: connect * 1000 } : {}),
    ...(opts.acceptNewHostKeys ? { acceptNewHostKeys: true } : {}),
    ...(opts.sshConfig !== undefined
      ? { sshConfigPath: opts.sshConfig === 'none' ? null : opts.sshConfig }
      : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(nodes ? { nodes } : {}),
  };
}

/** Validates --node before anything connects. */
export function checkNodes(loaded: LoadedWorkspace, opts: FleetCliOptions): void {
  const r = selectNodes(loaded, nodeList(opts));
  if (!r.ok) throw new CliError(r.message);
}

export async function withSession<T>(
  loaded: LoadedWorkspace,
  opts: FleetCliOptions,
  fn: (session: Session) => Promise<T>,
): Promise<T> {
  // A key trusted on first use is announced even with --quiet: it is the one moment the operator
  // can still compare the fingerprint with the host's.
  let options: SessionOptions = {
    ...sessionOptions(opts),
    onHostKeyAccepted: (e) => say(`npg: ${e.message}\n`, process.stderr),
  };
  const credentials = terminalCredentials();
  if (credentials) options = { ...options, credentials };
  checkNodes(loaded, opts);
  const r = await openSession(loaded, options);
  if (!r.ok) throw new CliError(r.message);
  for (const w of r.session.warnings) if (!opts.quiet) say(`npg: warning: ${w}\n`, process.stderr);
  try {
    return await fn(r.session);
  } finally {
    await r.session.close();
  }
}

/** Per-node lines on stderr: one when a node finishes a step, or fails. */
export function progress(opts: FleetCliOptions, label: string): ((e: ProgressEvent) => void) | undefined {
  if (opts.quiet) return undefined;
  return (e) => {
    if (e.phase === 'done')
      say(`npg: ${e.node}: ${label} done (${(e.durationMs / 1000).toFixed(1)} s)\n`, process.stderr);
    else if (e.phase === 'failed') {
      // Step errors may quote a node's words: one visible line whoever built them.
      const line = visibleText(e.message, 1000);
      say(`npg: ${line.startsWith(e.node) ? line : `${e.node}: ${line}`}\n`, process.stderr);
    }
  };
}

export function note(opts: FleetCliOptions, line: string): void {
  if (!opts.quiet) say(`npg: ${line}\n`, process.stderr);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Ask before changing nodes. --yes skips the question; without a terminal to ask on and without
 * --yes, refuse (exit 2) rather than assume.
 */
export async function confirmOrRefuse(
  yes: boolean | undefined,
  what: string,
  question: string,
): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY || !process.stderr.isTTY)
    throw new CliError(
      `${what}: refusing to change nodes without confirmation: pass --yes (no terminal to ask on)`,
      EXIT_FAILURE,
    );
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${question} [y/N] `)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes')
      throw new CliError(`${what}: not confirmed; nothing changed`, EXIT_FAILURE);
  } finally {
    rl.close();
  }
}

/** A whole number of seconds within bounds, from a flag. */
export function secondsFlag(
  flag: string,
  text: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,6}$/.test(text) || Number(text) < min || Number(text) > max)
    throw new CliError(`${flag} ${JSON.stringify(text)}: whole seconds from ${min} to ${max}`);
  return Number(text);
}
