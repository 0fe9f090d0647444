// The workspace file on disk: read and validate it (a corrupt file is one line naming the field,
// before anything reaches a node), and write it atomically (temp file in the same folder, fsync,
// rename, fsync the folder), refusing when someone changed it since we read it.
import { randomBytes } from 'node:crypto';
import { lstat, open, readFile, readlink, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { parseWorkspace, serializeWorkspace } from '../../shared/workspace/codec.js';
import type { Workspace } from '../../shared/workspace/schema.js';

export interface LoadedWorkspace {
  readonly path: string;
  readonly dir: string;
  /** The file's text as read (what a later save compares against). */
  readonly text: string;
  readonly workspace: Workspace;
}

export type LoadResult =
  | { readonly ok: true; readonly value: LoadedWorkspace }
  | { readonly ok: false; readonly message: string };

const MAX_BYTES = 4 * 1024 * 1024;

export async function loadWorkspace(path: string): Promise<LoadResult> {
  const abs = resolve(path);
  let text: string;
  try {
    const st = await stat(abs);
    if (!st.isFile()) return { ok: false, message: `workspace ${path}: not a regular file` };
    if (st.size > MAX_BYTES) return { ok: false, message: `workspace ${path}: larger than 4 MiB` };
    text = await readFile(abs, 'utf8');
  } catch (err) {
    return { ok: false, message: `workspace ${path}: ${await danglingOr(abs, err)}` };
  }
  const r = parseWorkspace(text);
  if (!r.ok) {
    const more = r.errors.length > 1 ? ` (and ${r.errors.length - 1} more)` : '';
    return { ok: false, message: `workspace ${path}: ${r.error}${more}` };
  }
  return { ok: true, value: { path: abs, dir: dirname(abs), text, workspace: r.workspace } };
}

export type SaveResult = { readonly ok: true } | { readonly ok: false; readonly message: string };

/**
 * Replace the file with `ws`. `expectedText` is what we read: if the file no longer holds it,
 * someone else wrote it meanwhile and we refuse instead of overwriting their change.
 */
export async function saveWorkspace(
  loaded: Pick<LoadedWorkspace, 'path' | 'text'>,
  ws: Workspace,
): Promise<SaveResult> {
  const text = serializeWorkspace(ws);
  const check = parseWorkspace(text);
  if (!check.ok)
    return { ok: false, message: `workspace ${loaded.path}: would not be valid: ${check.error}` };
  let current: string;
  try {
    current = await readFile(loaded.path, 'utf8');
  } catch (err) {
    return {
      ok: false,
      message: `workspace ${loaded.path}: ${await danglingOr(loaded.path, err)}; nothing written`,
    };
  }
  if (current !== loaded.text)
    return {
      ok: false,
      message: `workspace ${loaded.path}: changed by someone else since it was read; nothing written, run again`,
    };
  try {
    await writeFileAtomic(loaded.path, text);
  } catch (err) {
    return { ok: false, message: `workspace ${loaded.path}: cannot write: ${ioReason(err)}` };
  }
  return { ok: true };
}

/** A symbolic link whose target does not exist: writing through it would create a stray file. */
export class DanglingLinkError extends Error {
  constructor(
    readonly link: string,
    readonly target: string,
  ) {
    super(`a symbolic link to ${target}, which does not exist; nothing written`);
  }
}

/**
 * The file a write to `path` must replace: the final target when `path` is a symbolic link (so
 * the link stays a link), `path` itself for a plain file or a new one.
 */
export async function writeTarget(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  let isLink = false;
  try {
    isLink = (await lstat(path)).isSymbolicLink();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (isLink) throw new DanglingLinkError(path, resolve(dirname(path), await readlink(path)));
  return path;
}

/**
 * Write `text` to `path` so that readers see the old file or the new one, never a mix: a temp file
 * beside the target, fsync, rename over it, fsync the folder. A symbolic link is written through
 * (its target replaced, the link kept); a dangling one is refused (DanglingLinkError). `mode`:
 * the new file's permissions; default, the replaced file's own, else 0600.
 */
export async function writeFileAtomic(path: string, text: string, mode?: number): Promise<void> {
  const target = await writeTarget(path);
  const dir = dirname(target);
  const tmp = `${dir}/.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`;
  let fileMode = mode;
  if (fileMode === undefined) {
    try {
      fileMode = (await stat(target)).mode & 0o777;
    } catch {
      fileMode = 0o600;
    }
  }
  const handle = await open(tmp, 'wx', fileMode);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dir);
}

export async function syncDir(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself is still atomic.
  } finally {
    await handle?.close();
  }
}

export function ioReason(err: unknown): string {
  if (err instanceof DanglingLinkError) return err.message;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return (err as Error).message;
}

/** A missing file that is really a dangling link says so; anything else as ioReason has it. */
async function danglingOr(path: string, err: unknown): Promise<string> {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
    try {
      await writeTarget(path);
    } catch (e) {
      if (e instanceof DanglingLinkError) return e.message.replace(/; nothing written$/, '');
    }
  }
  return ioReason(err);
}
