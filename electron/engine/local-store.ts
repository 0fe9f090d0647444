// What NodePort Guard keeps on this machine, next to the workspace file (`<workspace>.npg/`):
//   history.jsonl                 every apply / rollback / remove, appended and fsynced, never rewritten
//   saved/<node>/<time>-<token>.v4|v6|nft  the node's guard state before each change (the local copy)
//   pending.json                  the last commit-confirmed change waiting for `npg confirm`
// Everything is written with fsync; files that are replaced are replaced atomically.
import { mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { syncDir, writeFileAtomic } from './workspace-file.js';

export interface LocalStore {
  readonly dir: string;
  readonly historyFile: string;
}

export function localStore(workspacePath: string, override?: string): LocalStore {
  const dir = override ?? `${workspacePath}.npg`;
  return { dir, historyFile: join(dir, 'history.jsonl') };
}

export function operatorName(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? 'unknown';
  }
  return `${user}@${hostname()}`;
}

async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

/** Keep the node's state before a change (before anything is sent to it). */
export async function saveBeforeState(
  store: LocalStore,
  node: string,
  stamp: string,
  files: ReadonlyMap<string, string>,
): Promise<void> {
  const dir = join(store.dir, 'saved', node);
  await ensureDir(dir);
  for (const [suffix, text] of files) await writeFileAtomic(join(dir, `${stamp}.${suffix}`), text, 0o600);
  await prune(dir);
}

/** Saved states kept per node; the history keeps the record of older changes. */
const KEEP_SAVED = 50;

async function prune(dir: string): Promise<void> {
  const names = await readdir(dir);
  const stamps = [...new Set(names.map((n) => n.replace(/\.(v4|v6|nft)$/, '')))].sort();
  const old = new Set(stamps.slice(0, Math.max(0, stamps.length - KEEP_SAVED)));
  for (const n of names)
    if (old.has(n.replace(/\.(v4|v6|nft)$/, ''))) await rm(join(dir, n), { force: true });
}

/** The newest locally saved state of a node (stamp `<time>-<token>`, suffix -> text), if any. */
export async function latestSavedState(
  store: LocalStore,
  node: string,
): Promise<{ stamp: string; files: Map<string, string> } | undefined> {
  const dir = join(store.dir, 'saved', node);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  const stamps = [...new Set(names.map((n) => n.replace(/\.(v4|v6|nft)$/, '')))].sort();
  const last = stamps.at(-1);
  if (!last) return undefined;
  const files = new Map<string, string>();
  for (const suffix of ['v4', 'v6', 'nft']) {
    try {
      files.set(suffix, await readFile(join(dir, `${last}.${suffix}`), 'utf8'));
    } catch {
      // that family was not part of the change
    }
  }
  return { stamp: last, files };
}

export interface PendingRecord {
  readonly token: string;
  readonly time: string;
  readonly confirmWithinSeconds: number;
  readonly nodes: readonly string[];
}

export async function writePending(store: LocalStore, record: PendingRecord | undefined): Promise<void> {
  await ensureDir(store.dir);
  const file = join(store.dir, 'pending.json');
  if (record === undefined) {
    await rm(file, { force: true });
    await syncDir(store.dir);
  } else await writeFileAtomic(file, `${JSON.stringify(record)}\n`, 0o600);
}

export async function readPending(store: LocalStore): Promise<PendingRecord | undefined> {
  try {
    const v = JSON.parse(await readFile(join(store.dir, 'pending.json'), 'utf8')) as PendingRecord;
    return typeof v.token === 'string' && /^[0-9a-f]{16}$/.test(v.token) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Append one line and fsync it before returning: a crash right after still has it on disk. */
export async function appendLine(file: string, line: string): Promise<void> {
  if (line.includes('\n')) throw new RangeError('history record must be one line');
  const dir = file.slice(0, file.lastIndexOf('/'));
  await ensureDir(dir);
  const handle = await open(file, 'a', 0o600);
  try {
    await handle.appendFile(`${line}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}
