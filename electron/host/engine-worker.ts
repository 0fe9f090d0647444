// The engine's own thread (worker_threads): Electron's main process starts this file through
// engine-thread.ts, so that parsing a 10 MB dump or reading a hundred nodes never blocks the
// window's IPC or the menu. It speaks the envelopes of shared/api/wire.ts over its parentPort,
// the same ones the loopback WebSocket carries, validated the same way:
//
//   main -> worker   { id, method, payload }   start a call through the checked dispatcher
//   main -> worker   { cancel: id }            abort that call (its result still arrives)
//   main -> worker   { close: true }           abort every call, close the engine, end the thread
//   worker -> main   { id, event }             progress events of call id
//   worker -> main   { id, result }            exactly one result per call; id null answers a
//                                              message that was not a valid envelope
import { isMainThread, type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { ClientMessageSchema } from '../../shared/api/wire.js';
import type { ApiResult } from '../../shared/api.js';
import { createEngineService, type EngineOptions } from '../engine/service.js';
import { createDispatcher, type Dispatch } from './dispatch.js';

/** What main passes as workerData: the engine's options, and nothing else. */
export function engineOptionsFrom(data: unknown): EngineOptions {
  if (data === null || typeof data !== 'object') return {};
  const { startWorkspace } = data as { startWorkspace?: unknown };
  return typeof startWorkspace === 'string' ? { startWorkspace } : {};
}

const failure = (message: string): ApiResult<never> => ({ ok: false, error: { code: 'failed', message } });

const firstLine = (err: unknown): string =>
  String(err instanceof Error ? err.message : err)
    .split('\n')[0]!
    .slice(0, 300);

/** Serves calls from `port` until `{close: true}`, then closes the engine and calls `exit`. */
export function serveEngine(
  port: MessagePort,
  dispatch: Dispatch,
  closeEngine: () => Promise<void>,
  exit: () => void,
): void {
  const calls = new Map<number, AbortController>();
  const running = new Set<Promise<void>>();
  let closing = false;

  const post = (msg: unknown): boolean => {
    try {
      port.postMessage(msg);
      return true;
    } catch {
      return false; // not cloneable (a function, a class with private state): the caller says why
    }
  };

  async function run(id: number, method: string, payload: unknown): Promise<void> {
    const controller = new AbortController();
    calls.set(id, controller);
    // Events after the result would break "events, then exactly one result": drop them.
    const emit = (event: unknown) => {
      if (calls.get(id) === controller) post({ id, event });
    };
    let result: ApiResult<unknown>;
    try {
      result = await dispatch(method, payload, { signal: controller.signal, emit });
    } catch (err) {
      // The dispatcher turns errors into data; this is the backstop that keeps the thread alive.
      result = failure(`${method}: ${firstLine(err)}`);
    }
    calls.delete(id);
    if (!post({ id, result })) post({ id, result: failure(`${method}: the result cannot be sent`) });
  }

  async function close(): Promise<void> {
    if (closing) return;
    closing = true;
    for (const controller of calls.values()) controller.abort(new Error('the engine is closing'));
    // Let the aborted calls answer (as cancelled) before the thread goes, for a moment at most.
    await Promise.race([Promise.allSettled(running), new Promise((r) => setTimeout(r, 1000).unref())]);
    try {
      await closeEngine();
    } catch (err) {
      console.error(`NodePort Guard engine: close: ${firstLine(err)}`);
    }
    exit();
  }

  port.on('message', (msg: unknown) => {
    if (isCloseMessage(msg)) return void close();
    const parsed = ClientMessageSchema.safeParse(msg);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? issue.path.join('.') : 'message';
      return void post({
        id: null,
        result: { ok: false, error: { code: 'bad-input', message: `engine thread: ${where}: invalid` } },
      });
    }
    const m = parsed.data;
    if ('cancel' in m) {
      // Unknown ids are calls that already finished: their result is on its way.
      calls.get(m.cancel)?.abort(new Error('cancelled by the caller'));
      return;
    }
    if (closing) {
      return void post({ id: m.id, result: failure(`${m.method}: the engine is closing`) });
    }
    if (calls.has(m.id)) {
      return void post({
        id: null,
        result: { ok: false, error: { code: 'bad-input', message: `id ${m.id} is already in use` } },
      });
    }
    const p = run(m.id, m.method, m.payload).finally(() => running.delete(p));
    running.add(p);
  });
}

function isCloseMessage(msg: unknown): boolean {
  return (
    typeof msg === 'object' &&
    msg !== null &&
    (msg as { close?: unknown }).close === true &&
    Object.keys(msg).length === 1
  );
}

if (!isMainThread && parentPort) {
  const engine = createEngineService(engineOptionsFrom(workerData));
  // process.exit in a worker ends this thread only, whatever sockets or timers the engine left.
  serveEngine(
    parentPort,
    createDispatcher(engine),
    () => engine.close(),
    () => process.exit(0),
  );
}
