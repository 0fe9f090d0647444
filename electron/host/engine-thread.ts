// The main-process side of the engine's thread (engine-worker.ts): a Dispatch, like the one
// createDispatcher returns, whose calls run in a worker_threads Worker, so Electron's main thread
// only passes messages while the engine parses and reads nodes. Each call gets a fresh id; its
// events go to ctx.emit, ctx.signal's abort becomes {cancel: id}, and exactly one result settles
// it. If the worker dies, every call in flight settles as `failed` with one line saying why, and
// the next call starts a new worker (the engine's session, open workspace and loaded dumps are
// lost with it; its own messages say so: "load it again", "open a workspace").
import type { Worker } from 'node:worker_threads';
import { HostMessageSchema } from '../../shared/api/wire.js';
import { type ApiResult, checkRequest, methods } from '../../shared/api.js';
import type { Dispatch } from './dispatch.js';

export interface EngineThreadOptions {
  /** Starts one worker running engine-worker's protocol (main.ts: `new Worker(file, {workerData})`). */
  readonly spawn: () => Worker;
  /** Where the one line about a stopped engine goes; console.error by default. */
  readonly log?: (line: string) => void;
  /** How long close() waits for the engine to close before terminating its thread. */
  readonly closeTimeoutMs?: number;
}

export interface EngineThread {
  readonly dispatch: Dispatch;
  /** Closes the engine (its SSH sessions) and ends the thread; later calls fail. */
  close(): Promise<void>;
}

interface Pending {
  readonly resolve: (r: ApiResult<unknown>) => void;
  readonly emit: ((event: unknown) => void) | undefined;
  readonly detach: () => void;
}

interface Running {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  /** Resolves when the worker has exited, for whatever reason. */
  readonly exited: Promise<void>;
  stopped: boolean;
}

const failure = (message: string): ApiResult<never> => ({ ok: false, error: { code: 'failed', message } });

const oneLine = (err: unknown): string =>
  String(err instanceof Error ? err.message : err)
    .split('\n')[0]!
    .trim()
    .slice(0, 300) || 'no reason given';

export function startEngineThread(options: EngineThreadOptions): EngineThread {
  const log = options.log ?? ((line: string) => console.error(line));
  const closeTimeoutMs = options.closeTimeoutMs ?? 3000;
  let current: Running | undefined;
  let nextId = 1;
  let closed = false;

  /** Settles every call of `run` as failed; the next call starts a new worker. */
  function stop(run: Running, reason: string, quiet = false): void {
    if (run.stopped) return;
    run.stopped = true;
    if (current === run) current = undefined;
    if (!quiet) log(`NodePort Guard: the engine stopped (${reason}); the next call starts it again`);
    const calls = [...run.pending.values()];
    run.pending.clear();
    for (const call of calls) {
      call.detach();
      call.resolve(failure(`the engine stopped: ${reason}`));
    }
    void run.worker.terminate().catch(() => undefined);
  }

  function start(): Running {
    const worker = options.spawn();
    let onExit!: () => void;
    const run: Running = {
      worker,
      pending: new Map(),
      exited: new Promise<void>((resolve) => (onExit = resolve)),
      stopped: false,
    };
    worker.on('message', (msg: unknown) => receive(run, msg));
    worker.on('messageerror', (err: unknown) =>
      log(`NodePort Guard: engine message dropped: ${oneLine(err)}`),
    );
    worker.on('error', (err: unknown) => stop(run, oneLine(err), closed));
    worker.on('exit', (code: number) => {
      onExit();
      stop(run, `its thread exited with code ${code}`, closed);
    });
    return run;
  }

  function receive(run: Running, msg: unknown): void {
    const parsed = HostMessageSchema.safeParse(msg);
    if (!parsed.success) {
      // A result that breaks the envelope (an error message over its bound, say) still ends its
      // call: a call left waiting would hang the UI's spinner forever.
      const loose: { id?: unknown; result?: unknown } = typeof msg === 'object' && msg !== null ? msg : {};
      const id = typeof loose.id === 'number' && 'result' in loose ? loose.id : undefined;
      const call = id === undefined ? undefined : run.pending.get(id);
      log('NodePort Guard: the engine sent a malformed message; dropped');
      if (call && id !== undefined) {
        run.pending.delete(id);
        call.detach();
        call.resolve(failure('the engine sent a malformed result'));
      }
      return;
    }
    const m = parsed.data;
    if ('event' in m) {
      run.pending.get(m.id)?.emit?.(m.event);
      return;
    }
    if (m.id === null) {
      // Answers a message the worker could not read: a bug on this side, not a call's result.
      if (!m.result.ok) log(`NodePort Guard: the engine refused a message: ${m.result.error.message}`);
      return;
    }
    const call = run.pending.get(m.id);
    if (!call) return;
    run.pending.delete(m.id);
    call.detach();
    call.resolve(m.result as ApiResult<unknown>);
  }

  const dispatch: Dispatch = (method, payload, ctx = {}) => {
    // An unknown method is answered here, as the dispatcher would; the payload is checked there.
    if (typeof method !== 'string' || !Object.hasOwn(methods, method)) {
      const r = checkRequest(method, payload);
      return Promise.resolve(r.ok ? failure(`${String(method)}: not dispatched`) : r);
    }
    if (closed) return Promise.resolve(failure(`${method}: the engine is closed`));
    let run: Running;
    try {
      run = current ?? start();
    } catch (err) {
      return Promise.resolve(failure(`${method}: the engine could not start: ${oneLine(err)}`));
    }
    current = run;
    const id = nextId++;
    const { signal, emit } = ctx;
    return new Promise((resolve) => {
      const cancel = () => {
        if (run.pending.has(id) && !run.stopped) run.worker.postMessage({ cancel: id });
      };
      signal?.addEventListener('abort', cancel, { once: true });
      run.pending.set(id, {
        resolve,
        emit,
        detach: () => signal?.removeEventListener('abort', cancel),
      });
      try {
        run.worker.postMessage({ id, method, payload });
      } catch (err) {
        // Not cloneable (a function, a symbol): the same one line the dispatcher would give.
        run.pending.delete(id);
        signal?.removeEventListener('abort', cancel);
        resolve(failure(`${method}: the request cannot be sent: ${oneLine(err)}`));
        return;
      }
      if (signal?.aborted) cancel();
    });
  };

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    const run = current;
    if (!run) return;
    run.worker.postMessage({ close: true });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), closeTimeoutMs);
    });
    const outcome = await Promise.race([run.exited, timedOut]);
    clearTimeout(timer);
    stop(run, 'it was closed', true);
    if (outcome === 'timeout') await run.worker.terminate();
  }

  return { dispatch, close };
}
