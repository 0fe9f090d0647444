// Small-file persistence for the shell (settings, encrypted secrets): read a file that may not
// exist yet, and replace a file atomically so a crash or power cut leaves either the old or the
// new content, never a torn one.
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic as writeAtomically } from '../engine/workspace-file.js';

/** The file's text, or undefined when it does not exist. Other errors are thrown. */
export async function readOptionalFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * The engine's one atomic writer (temp file beside the target, fsync, rename, fsync the folder;
 * symbolic links written through), with the folder made first and 0600 unless told otherwise:
 * what the shell keeps is private to the user.
 */
export async function writeFileAtomic(path: string, data: string, mode = 0o600): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeAtomically(path, data, mode);
}

/** Runs async jobs one after another (so two saves never interleave), whatever each returns. */
export function serialQueue(): <T>(job: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(job: () => Promise<T>): Promise<T> => {
    const run = tail.then(job, job);
    tail = run.catch(() => undefined);
    return run;
  };
}
