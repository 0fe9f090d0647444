// Limits. Output caps: what one command may send back before we stop reading. Concurrency:
// Semaphore: at most N holders, FIFO. NodeGate: at most N *nodes* busy at
// once, however many commands each runs; a node holds one slot while anything runs on it, so a
// step that runs several commands on its node never waits for a second slot (no self-deadlock).

/**
 * What one command may print on stdout. Sized for the largest read we make: an `iptables-save -c`
 * of a 5,000-service cluster is ~15-20 MB (a few KB of rules per service and its endpoints), so a
 * node printing more is broken or hostile, and holding more would only grow the process.
 */
export const MAX_STDOUT_BYTES = 64 * 1024 * 1024;

/** stderr carries one-line complaints: far less. */
export const MAX_STDERR_BYTES = 1024 * 1024;

export interface OutputLimits {
  readonly stdout: number;
  readonly stderr: number;
}

export const DEFAULT_OUTPUT_LIMITS: OutputLimits = { stdout: MAX_STDOUT_BYTES, stderr: MAX_STDERR_BYTES };

/** `64 MiB`, `512 KiB`, `100 bytes`: a limit as the operator reads it. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

export type Release = () => void;

export class Semaphore {
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive integer: ${limit}`);
  }

  /** Waits for a slot; resolves undefined if the signal aborts first. */
  acquire(signal?: AbortSignal): Promise<Release | undefined> {
    if (signal?.aborted) return Promise.resolve(undefined);
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        this.active++;
        resolve(this.releaser());
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(grant);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(undefined);
      };
      this.waiters.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.waiters.shift()?.();
    };
  }
}

interface Holder {
  count: number;
  readonly slot: Promise<Release | undefined>;
}

export class NodeGate {
  private readonly semaphore: Semaphore;
  private readonly holders = new Map<string, Holder>();

  constructor(limit: number) {
    this.semaphore = new Semaphore(limit);
  }

  /** Marks the node busy (taking a slot if it was idle); undefined if the signal aborts first. */
  async enter(node: string, signal?: AbortSignal): Promise<Release | undefined> {
    if (signal?.aborted) return undefined;
    let holder = this.holders.get(node);
    if (holder === undefined) {
      // The slot wait is shared by everyone entering this node, so it is not tied to one signal;
      // each caller races its own signal below.
      holder = { count: 0, slot: this.semaphore.acquire() };
      this.holders.set(node, holder);
    }
    const h = holder;
    h.count++;
    let left = false;
    const leave: Release = () => {
      if (left) return;
      left = true;
      h.count--;
      if (h.count === 0) {
        if (this.holders.get(node) === h) this.holders.delete(node);
        void h.slot.then((release) => release?.());
      }
    };
    const got = await raceAbort(h.slot, signal);
    if (got === 'aborted') {
      leave();
      return undefined;
    }
    return leave;
  }
}

/** Resolves with the promise's value, or 'aborted' as soon as the signal aborts. */
export function raceAbort<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T | 'aborted'> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.resolve('aborted');
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
