// A passphrase or password asked on the terminal, as ssh does: the prompt on stderr, nothing
// echoed, Enter ends it, Ctrl-C or Ctrl-D on an empty line skips (the key is not offered). Only
// where stdin and stderr are terminals; elsewhere nothing is asked (an agent or an unencrypted key
// is the way for scripts). One question at a time, though many nodes may connect at once.
import type { CredentialSources } from '../fleet/index.js';
import { say } from './io.js';

/** What one key press does to the secret typed so far. */
export type SecretKey =
  | { readonly kind: 'text'; readonly value: string }
  | { readonly kind: 'done'; readonly value: string | undefined };

/** Applies the bytes of one read from a raw terminal to `typed`. Pure. */
export function typeSecret(typed: string, input: string): SecretKey {
  let value = typed;
  const chars = [...input];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === '\u001b') {
      // An arrow or function key: ESC [ params final (or ESC O x); none of it is typed.
      if (chars[i + 1] === 'O') i += 2;
      else if (chars[i + 1] === '[') {
        i += 2;
        while (i < chars.length && !/[@-~]/.test(chars[i] as string)) i++;
      }
      continue;
    }
    if (ch === '\r' || ch === '\n') return { kind: 'done', value };
    if (ch === '\u0003') return { kind: 'done', value: undefined }; // Ctrl-C: skip
    if (ch === '\u0004') {
      if (value.length === 0) return { kind: 'done', value: undefined }; // Ctrl-D on nothing
      continue;
    }
    if (ch === '\u0015')
      value = ''; // Ctrl-U: start again
    else if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
    else if (ch >= ' ' && value.length < 4096) value += ch;
  }
  return { kind: 'text', value };
}

function askOnTerminal(question: string): Promise<string | undefined> {
  const stdin = process.stdin;
  return new Promise((resolve) => {
    say(question, process.stderr);
    let typed = '';
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.resume();
    const onData = (chunk: Buffer) => {
      const r = typeSecret(typed, chunk.toString('utf8'));
      if (r.kind === 'text') {
        typed = r.value;
        return;
      }
      stdin.off('data', onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      process.stderr.write('\n');
      resolve(r.value === '' ? undefined : r.value);
    };
    stdin.on('data', onData);
  });
}

/** The CLI's credential sources: a terminal prompt, or none without a terminal. */
export function terminalCredentials(): Pick<CredentialSources, 'getPassphrase'> | undefined {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const turn = queue.then(fn);
    queue = turn.catch(() => undefined);
    return turn;
  };
  return {
    getPassphrase: (keyPath, retry) =>
      serial(() =>
        askOnTerminal(`${retry ? 'Bad passphrase, try again' : 'Enter passphrase'} for key '${keyPath}': `),
      ),
  };
}
