// The workspace file on disk: read and validate it (a corrupt file is one line naming the field,
// before anything reaches a node), and write it atomically (temp file in the same folder, fsync,
// rename, fsync the folder), refusing when someone changed it since we read it.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
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
    return { ok: false, message: `workspace ${path}: ${ioReason(err)}` };
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
    return { ok: false, message: `workspace ${loaded.path}: ${ioReason(err)}` };
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

/** Write `text` to `path` so that readers see the old file or the new one, never a mix. */
export async function writeFileAtomic(path: string, text: string, mode?: number): Promise<void> {
  const dir = dirname(path);
  const tmp = `${dir}/.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`;
  let fileMode = mode;
  if (fileMode === undefined) {
    try {
      fileMode = (await stat(path)).mode & 0o777;
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
    await rename(tmp, path);
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
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return (err as Error).message;
}
