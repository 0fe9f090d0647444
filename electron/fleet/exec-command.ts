// One exec channel on an open connection: send the command text, feed stdin, collect stdout and
// stderr, stop it on timeout or cancellation. The text has already been validated and quoted.
import type { Client, ClientChannel } from 'ssh2';
import { DEFAULT_OUTPUT_LIMITS, type OutputLimits } from './limits';

export type ExecOutcome =
  | {
      readonly status: 'exited';
      /** null when the process died from a signal. */
      readonly code: number | null;
      readonly signal: string | undefined;
      readonly stdout: Buffer;
      readonly stderr: Buffer;
    }
  | { readonly status: 'timeout' }
  | { readonly status: 'cancelled' }
  /** The command sent more than its cap on one stream: we stopped reading and closed the channel. */
  | { readonly status: 'output-exceeded'; readonly stream: 'stdout' | 'stderr'; readonly limitBytes: number }
  /** The server refused the channel (e.g. MaxSessions) or the connection was already closing. */
  | { readonly status: 'channel-failed'; readonly message: string }
  /** The channel closed without an exit status: the connection dropped mid-command. */
  | { readonly status: 'connection-lost'; readonly message: string };

export interface ExecOptions {
  readonly stdin?: string | Buffer;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Default DEFAULT_OUTPUT_LIMITS. */
  readonly limits?: OutputLimits;
}

/**
 * Collects one stream's chunks up to a cap. `push` answers false once the cap is passed: the
 * caller then stops reading (a node streaming without end must not grow this process).
 */
export class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(readonly limitBytes: number) {}

  push(chunk: Buffer): boolean {
    this.size += chunk.length;
    if (this.size > this.limitBytes) return false;
    this.chunks.push(chunk);
    return true;
  }

  get length(): number {
    return this.size;
  }

  all(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/**
 * One command's outcome, or `timeout` after options.timeoutMs, or `cancelled` when the signal
 * aborts, whichever comes first. `begin` starts the command and reports through `finish` (calls
 * after the first are ignored); `settled` runs once with the outcome. A timeout or cancel only
 * stops our waiting: the caller's `settled` retires whatever still runs the command.
 */
export function outcomeWithin(
  options: { readonly timeoutMs: number; readonly signal?: AbortSignal | undefined },
  begin: (finish: (outcome: ExecOutcome) => void) => void,
  settled: (outcome: ExecOutcome) => void,
): Promise<ExecOutcome> {
  if (options.signal?.aborted) return Promise.resolve({ status: 'cancelled' });
  return new Promise((resolve) => {
    let done = false;
    const finish = (outcome: ExecOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      settled(outcome);
      resolve(outcome);
    };
    const onAbort = () => finish({ status: 'cancelled' });
    const timer = setTimeout(() => finish({ status: 'timeout' }), options.timeoutMs);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    begin(finish);
  });
}

/** Ends a long-lived channel from our side (stdin EOF, then close); it may already be closing. */
export function hangUp(channel: ClientChannel): void {
  try {
    channel.end();
    channel.close();
  } catch {
    // already closing
  }
}

/** Whether an outcome means we stopped waiting (or reading) while the command may still run. */
export function gaveUp(outcome: ExecOutcome): boolean {
  return (
    outcome.status === 'timeout' || outcome.status === 'cancelled' || outcome.status === 'output-exceeded'
  );
}

export function execCommand(client: Client, command: string, options: ExecOptions): Promise<ExecOutcome> {
  let channel: ClientChannel | undefined;
  let settled = false;
  // Dropping the channel only stops our waiting: sshd hangs up the command's pipes but lets it
  // run. The command's own end is the node-side `timeout` wrapper (see sudo.ts); a "signal"
  // request would not help: sshd ignores it for root logins, and for sudo it could only kill
  // that wrapper (the one process the user owns), removing the deadline.
  const stop = () => channel?.close();
  return outcomeWithin(
    options,
    (finish) => {
      const limits = options.limits ?? DEFAULT_OUTPUT_LIMITS;
      const stdout = new CappedBuffer(limits.stdout);
      const stderr = new CappedBuffer(limits.stderr);
      const take = (buffer: CappedBuffer, stream: 'stdout' | 'stderr', chunk: Buffer) => {
        if (settled) return; // data already on its way when we stopped
        if (!buffer.push(chunk)) finish({ status: 'output-exceeded', stream, limitBytes: buffer.limitBytes });
      };
      let exit: { code: number | null; signal: string | undefined } | undefined;
      try {
        client.exec(command, (err, stream) => {
          if (err) {
            finish({ status: 'channel-failed', message: err.message });
            return;
          }
          channel = stream;
          if (settled) {
            stop(); // timed out or cancelled while the channel was opening
            return;
          }
          stream.on('data', (chunk: Buffer) => take(stdout, 'stdout', chunk));
          stream.stderr.on('data', (chunk: Buffer) => take(stderr, 'stderr', chunk));
          stream.on('exit', (code: number | null, signal?: string) => {
            exit = { code: typeof code === 'number' ? code : null, signal: signal ?? undefined };
          });
          stream.on('error', () => {}); // surfaced as a close without exit status below
          stream.on('close', () => {
            if (exit === undefined) {
              finish({ status: 'connection-lost', message: 'channel closed without an exit status' });
            } else {
              finish({
                status: 'exited',
                ...exit,
                stdout: stdout.all(),
                stderr: stderr.all(),
              });
            }
          });
          if (options.stdin === undefined) stream.end();
          else stream.end(options.stdin);
        });
      } catch (err) {
        finish({ status: 'channel-failed', message: (err as Error).message });
      }
    },
    (outcome) => {
      settled = true;
      if (gaveUp(outcome)) stop();
    },
  );
}
