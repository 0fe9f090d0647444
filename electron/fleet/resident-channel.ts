// A program kept running on a node, on an exec channel of its own, answering one request at a time
// on its stdin: a tool whose start-up costs far more than its answer is started once per
// connection instead of once per read (interactive nft: ~25 ms of CPU to start on a small VM,
// ~1 ms to list a few chains). It ends with the channel: sshd closes its stdin, it reads EOF and
// exits; nothing stays behind on the node.
//
// Framing is the program's (ResidentProgram): after each request we send a request that makes
// the program print a line holding a random nonce, and the answer is what came before it.
import { randomBytes } from 'node:crypto';
import type { Client, ClientChannel } from 'ssh2';
import { CappedBuffer, type ExecOutcome, gaveUp, hangUp, outcomeWithin } from './exec-command';
import { DEFAULT_OUTPUT_LIMITS, type OutputLimits } from './limits';
import type { ResidentProgram } from './types';

export interface AskOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/**
 * The answer so far, appended in place: capacity doubles (up to the cap), so an answer of n bytes
 * in many chunks costs O(n) copying, where concatenating per chunk cost O(n^2).
 */
class AnswerBuffer {
  private bytes: Buffer = Buffer.alloc(0);
  private used = 0;

  get length(): number {
    return this.used;
  }

  append(chunk: Buffer, cap: number): void {
    const need = this.used + chunk.length;
    if (need > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.min(cap, Math.max(need, this.bytes.length * 2, 4096)));
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    chunk.copy(this.bytes, this.used);
    this.used = need;
  }

  view(): Buffer {
    return this.bytes.subarray(0, this.used);
  }

  clear(): void {
    this.bytes = Buffer.alloc(0);
    this.used = 0;
  }
}

interface Pending {
  readonly nonce: string;
  readonly limitBytes: number;
  readonly finish: (outcome: ExecOutcome) => void;
}

export class ResidentChannel {
  private readonly stdout = new AnswerBuffer();
  /** Kept only to explain the program's end. */
  private readonly stderr: CappedBuffer;
  private exit: { code: number | null; signal: string | undefined } | undefined;
  private pending: Pending | undefined;
  /** Asks wait for the one before them: the program answers in order, one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private dead = false;

  private constructor(
    private readonly channel: ClientChannel,
    private readonly program: ResidentProgram,
    private readonly limits: OutputLimits,
  ) {
    this.stderr = new CappedBuffer(limits.stderr);
    channel.on('data', (chunk: Buffer) => this.onStdout(chunk));
    channel.stderr.on('data', (chunk: Buffer) => this.onStderr(chunk));
    channel.on('exit', (code: number | null, signal?: string) => {
      this.exit = { code: typeof code === 'number' ? code : null, signal: signal ?? undefined };
    });
    channel.on('error', () => {}); // surfaced as close below
    channel.on('close', () => this.onClose());
    channel.stdin.on('error', () => {});
  }

  /** Starts the program (`command`: commandText of its argv), or says why the channel was refused. */
  static open(
    client: Client,
    command: string,
    program: ResidentProgram,
    /** stdout per answer; stderr for the program's whole life. */
    limits: OutputLimits = DEFAULT_OUTPUT_LIMITS,
  ): Promise<ResidentChannel | { readonly message: string }> {
    return new Promise((resolve) => {
      try {
        client.exec(command, (err, stream) => {
          if (err) resolve({ message: err.message });
          else resolve(new ResidentChannel(stream, program, limits));
        });
      } catch (err) {
        resolve({ message: (err as Error).message });
      }
    });
  }

  get closed(): boolean {
    return this.dead;
  }

  /** Sends `input`; the answer as the stdout of an `exited` outcome with status 0. */
  ask(input: string, options: AskOptions): Promise<ExecOutcome> {
    const turn = this.queue.then(() => this.askNow(input, options));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private askNow(input: string, options: AskOptions): Promise<ExecOutcome> {
    if (this.dead) return Promise.resolve(this.endedOutcome());
    const nonce = randomBytes(12).toString('hex');
    return outcomeWithin(
      options,
      (finish) => {
        this.pending = { nonce, limitBytes: this.limits.stdout, finish };
        this.stdout.clear();
        this.channel.write(`${input}${this.program.endRequest(nonce)}`);
      },
      (outcome) => {
        this.pending = undefined;
        // An answer we stopped waiting for may still arrive and would be taken for the next one.
        if (gaveUp(outcome)) this.close();
      },
    );
  }

  private onStdout(chunk: Buffer): void {
    const p = this.pending;
    if (p === undefined) return; // nothing asked: nothing to keep
    if (this.stdout.length + chunk.length > p.limitBytes) {
      // A program that keeps answering must not grow this process; gaveUp retires the channel.
      this.stdout.clear();
      p.finish({ status: 'output-exceeded', stream: 'stdout', limitBytes: p.limitBytes });
      return;
    }
    const newFrom = this.stdout.length;
    this.stdout.append(chunk, p.limitBytes);
    const length = this.program.answerLength(this.stdout.view(), p.nonce, newFrom);
    if (length === undefined) return;
    // A copy: the buffer is reused for the next answer.
    const answer = Buffer.from(this.stdout.view().subarray(0, length));
    this.stdout.clear();
    p.finish({ status: 'exited', code: 0, signal: undefined, stdout: answer, stderr: Buffer.alloc(0) });
  }

  private onStderr(chunk: Buffer): void {
    if (this.dead) return;
    const stderr = this.stderr;
    if (stderr.push(chunk)) return;
    const p = this.pending;
    if (p !== undefined)
      p.finish({ status: 'output-exceeded', stream: 'stderr', limitBytes: stderr.limitBytes });
    else this.close(); // nobody asked: nothing to tell, but the stream must end
  }

  private onClose(): void {
    this.dead = true;
    this.pending?.finish(this.endedOutcome());
  }

  /** The program ended: its exit status and stderr (a missing tool, sudo refusing), or a lost connection. */
  private endedOutcome(): ExecOutcome {
    const exit = this.exit;
    if (exit === undefined || exit.code === 0 || exit.code === null)
      return {
        status: 'connection-lost',
        message: `${this.program.name} ended ${exit === undefined ? 'without an exit status' : `(${exit.signal ?? 'status 0'})`} before answering`,
      };
    return {
      status: 'exited',
      code: exit.code,
      signal: exit.signal,
      stdout: Buffer.alloc(0),
      stderr: this.stderr.all(),
    };
  }

  close(): void {
    if (this.dead) return;
    this.dead = true;
    hangUp(this.channel);
  }
}
