// A persistent `sh` on one exec channel, fed one command at a time on its stdin. An SSH exec costs
// the node a new sshd session process and a login shell per command (several fork/execs, ~10-20 ms
// of CPU on a small VM); through a shell that is already running, a command costs only its own
// processes. Warm reads of a 20-node fleet spend most of their time there.
//
// Framing: after each command the shell prints `\n<marker> <exit status>\n` on stdout and
// `\n<marker>\n` on stderr, where the marker holds a random nonce made for that command; the
// command never sees the nonce, so its output cannot imitate the end. The command's stdin is
// /dev/null (the shell's own stdin is the command stream), so only commands without stdin come
// here; the fleet sends the others on their own exec channel.
import { randomBytes } from 'node:crypto';
import type { Client, ClientChannel } from 'ssh2';
import { type ExecOutcome, gaveUp, hangUp, outcomeWithin } from './exec-command';
import { DEFAULT_OUTPUT_LIMITS, type OutputLimits } from './limits';

/** What the channel runs: a POSIX shell reading commands from stdin (the login shell runs it). */
export const SHELL_PROGRAM = 'exec /bin/sh';

export interface ShellRunOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Default DEFAULT_OUTPUT_LIMITS. */
  readonly limits?: OutputLimits;
}

/** Finds `needle` in a stream of chunks, searching each byte once (outputs can be megabytes). */
class StreamScanner {
  private readonly chunks: Buffer[] = [];
  private length = 0;
  private tail: Buffer = Buffer.alloc(0);

  constructor(readonly needle: Buffer) {}

  /** Adds a chunk; the needle's offset in everything pushed so far, or -1. */
  push(chunk: Buffer): number {
    const window = this.tail.length > 0 ? Buffer.concat([this.tail, chunk]) : chunk;
    const windowStart = this.length - this.tail.length;
    this.chunks.push(chunk);
    this.length += chunk.length;
    const at = window.indexOf(this.needle);
    this.tail = Buffer.from(window.subarray(Math.max(0, window.length - (this.needle.length - 1))));
    return at < 0 ? -1 : windowStart + at;
  }

  /** Bytes pushed so far. */
  get size(): number {
    return this.length;
  }

  all(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

interface Running {
  readonly limits: OutputLimits;
  readonly stdout: StreamScanner;
  readonly stderr: StreamScanner;
  /** stdout up to the end marker, and what followed it so far (the status line). */
  outBody?: Buffer;
  status?: Buffer;
  out?: { readonly body: Buffer; readonly code: number | null };
  err?: Buffer;
  readonly finish: (outcome: ExecOutcome) => void;
}

export class ShellChannel {
  private running: Running | undefined;
  private dead = false;

  private constructor(private readonly channel: ClientChannel) {
    channel.on('data', (chunk: Buffer) => this.onStdout(chunk));
    channel.stderr.on('data', (chunk: Buffer) => this.onStderr(chunk));
    channel.on('error', () => {}); // surfaced as close below
    channel.on('close', () => {
      this.dead = true;
      this.running?.finish({ status: 'connection-lost', message: 'the node shell closed mid-command' });
    });
    channel.stdin.on('error', () => {});
  }

  /** Opens the shell, or says why the server refused the channel. */
  static async open(
    client: Client,
    timeoutMs = 15_000,
  ): Promise<ShellChannel | { readonly message: string }> {
    const opened = await new Promise<ShellChannel | { readonly message: string }>((resolve) => {
      try {
        client.exec(SHELL_PROGRAM, (err, stream) => {
          if (err) resolve({ message: err.message });
          else resolve(new ShellChannel(stream));
        });
      } catch (err) {
        resolve({ message: (err as Error).message });
      }
    });
    if (!(opened instanceof ShellChannel)) return opened;
    // Whatever the login shell prints before ours runs (Debian's bash sources ~/.bashrc for sshd
    // commands; some echo a banner) ends up in front of the first command's output: a first
    // no-op command takes it, so every real command starts clean.
    const ready = await opened.run(':', { timeoutMs });
    if (ready.status !== 'exited' || ready.code !== 0) {
      opened.close();
      return { message: `the node shell did not start (${ready.status})` };
    }
    return opened;
  }

  /** Free for a command: open and not running one. */
  get idle(): boolean {
    return !this.dead && this.running === undefined;
  }

  get closed(): boolean {
    return this.dead;
  }

  /** `command` is shell text already validated and quoted (commandText). */
  run(command: string, options: ShellRunOptions): Promise<ExecOutcome> {
    if (!this.idle) return Promise.resolve({ status: 'channel-failed', message: 'the node shell is busy' });
    const marker = `%%npg-done-${randomBytes(12).toString('hex')}`;
    return outcomeWithin(
      options,
      (finish) => {
        this.running = {
          limits: options.limits ?? DEFAULT_OUTPUT_LIMITS,
          stdout: new StreamScanner(Buffer.from(`\n${marker} `)),
          stderr: new StreamScanner(Buffer.from(`\n${marker}\n`)),
          finish,
        };
        this.channel.write(
          `${command} </dev/null; npg_rc=$?; printf '\\n%s %s\\n' '${marker}' "$npg_rc"; printf '\\n%s\\n' '${marker}' >&2\n`,
        );
      },
      (outcome) => {
        this.running = undefined;
        // A command we stopped waiting for still runs in this shell: it cannot take another.
        if (gaveUp(outcome)) this.close();
      },
    );
  }

  private onStdout(chunk: Buffer): void {
    const r = this.running;
    if (r === undefined || r.out !== undefined) return;
    if (r.outBody === undefined) {
      const at = r.stdout.push(chunk);
      if (this.overCap(r, 'stdout', at < 0 ? r.stdout.size : at)) return;
      if (at < 0) return;
      const all = r.stdout.all();
      r.outBody = all.subarray(0, at);
      r.status = all.subarray(at + r.stdout.needle.length);
    } else {
      r.status = Buffer.concat([r.status ?? Buffer.alloc(0), chunk]);
    }
    const status = r.status ?? Buffer.alloc(0);
    const lineEnd = status.indexOf(0x0a);
    if (lineEnd < 0) return; // the status line is still on its way
    const code = Number(status.subarray(0, lineEnd).toString('ascii'));
    r.out = { body: r.outBody, code: Number.isInteger(code) ? code : null };
    this.settle(r);
  }

  private onStderr(chunk: Buffer): void {
    const r = this.running;
    if (r === undefined || r.err !== undefined) return;
    const at = r.stderr.push(chunk);
    if (this.overCap(r, 'stderr', at < 0 ? r.stderr.size : at)) return;
    if (at < 0) return;
    r.err = r.stderr.all().subarray(0, at);
    this.settle(r);
  }

  /** Ends the command (and, through gaveUp, this shell) once a stream's body passes its cap. */
  private overCap(r: Running, stream: 'stdout' | 'stderr', bodyBytes: number): boolean {
    const limitBytes = r.limits[stream];
    if (bodyBytes <= limitBytes) return false;
    r.finish({ status: 'output-exceeded', stream, limitBytes });
    return true;
  }

  private settle(r: Running): void {
    if (r.out === undefined || r.err === undefined) return;
    r.finish({ status: 'exited', code: r.out.code, signal: undefined, stdout: r.out.body, stderr: r.err });
  }

  close(): void {
    if (this.dead) return;
    this.dead = true;
    hangUp(this.channel);
  }
}
