// Reading inputs for the CLI: a file path or `-` for standard input, with a size cap so a wrong
// path (a disk image, /dev/zero) fails fast with a clear message instead of eating memory.
import { open } from 'node:fs/promises';
import { terminalText } from '../../shared/text/visible.js';
import { CliError } from './exit.js';

const MAX_INPUT_BYTES = 256 * 1024 * 1024;

export async function readInput(path: string, what: string): Promise<string> {
  if (path === '-') {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of process.stdin) {
      size += (chunk as Buffer).length;
      if (size > MAX_INPUT_BYTES)
        throw new CliError(`${what} (stdin): larger than ${MAX_INPUT_BYTES >> 20} MiB`);
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, 'r');
    const st = await handle.stat();
    if (!st.isFile()) throw new CliError(`${what} ${path}: not a regular file`);
    if (st.size > MAX_INPUT_BYTES)
      throw new CliError(`${what} ${path}: larger than ${MAX_INPUT_BYTES >> 20} MiB`);
    // One decode of the whole file: readFile('utf8') decodes chunk by chunk into a rope of strings
    // that the first reader then flattens, ~50-100 ms more for `npg inspect` on an 8 MB dump.
    return (await handle.readFile()).toString('utf8');
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new CliError(`${what} ${path}: ${why}`);
  } finally {
    await handle?.close();
  }
}

/**
 * A report for people on stdout (or stderr): text from nodes and dumps (service names, comments,
 * chain names, node errors) is in it, so what a terminal would act on is shown escaped. JSON
 * output does not go through here: it is data, and JSON.stringify escapes controls itself.
 */
export function say(text: string, stream: NodeJS.WriteStream = process.stdout): void {
  stream.write(terminalText(text));
}
