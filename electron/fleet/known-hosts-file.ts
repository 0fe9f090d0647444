// Reading and appending the known_hosts file. Appends are one write(2) on an O_APPEND descriptor,
// so a concurrent reader (or another ssh) sees either the old file or the old file plus the whole
// new line, and in-process appends to one file are queued so two trust decisions never interleave.
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type ParsedKnownHosts, parseKnownHosts } from './known-hosts';

export type KnownHostsRead =
  | { readonly ok: true; readonly known: ParsedKnownHosts }
  | { readonly ok: false; readonly message: string };

/** Reads and parses the file; a missing file is an empty one (nothing trusted yet). */
export async function readKnownHostsFile(path: string): Promise<KnownHostsRead> {
  try {
    return { ok: true, known: parseKnownHosts(await readFile(path, 'utf8')) };
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return { ok: true, known: parseKnownHosts('') };
    return { ok: false, message: `cannot read known_hosts ${path}: ${errMessage(err)}` };
  }
}

const appendQueues = new Map<string, Promise<unknown>>();

export type AppendResult = { readonly ok: true } | { readonly ok: false; readonly message: string };

/** Appends one line (ending in a newline) atomically; creates the file (0600) and folder if needed. */
export function appendKnownHostsLine(path: string, line: string): Promise<AppendResult> {
  const previous = appendQueues.get(path) ?? Promise.resolve();
  const next = previous.then(() => appendNow(path, line));
  const tail = next.finally(() => {
    if (appendQueues.get(path) === tail) appendQueues.delete(path);
  });
  appendQueues.set(path, tail);
  return next;
}

async function appendNow(path: string, line: string): Promise<AppendResult> {
  if (!line.endsWith('\n') || line.indexOf('\n') !== line.length - 1) {
    return { ok: false, message: 'a known_hosts record is exactly one line' };
  }
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const handle = await open(path, 'a+', 0o600);
    try {
      // A file whose last line lacks its newline would glue our record onto it.
      const { size } = await handle.stat();
      let prefix = '';
      if (size > 0) {
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, size - 1);
        if (last[0] !== 0x0a) prefix = '\n';
      }
      await handle.write(prefix + line);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return { ok: true };
  } catch (err) {
    return { ok: false, message: `cannot record host key in ${path}: ${errMessage(err)}` };
  }
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
