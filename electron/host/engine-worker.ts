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
import { createEngineService, type EngineOptions } from '../engine/service.js';
import { callTable, failure } from './call-table.js';
import { createDispatcher, type Dispatch } from './dispatch.js';

/** What main passes as workerData: the engine's options, and nothing else. */
export function engineOptionsFrom(data: unknown): EngineOptions {
  if (data === null || typeof data !== 'object') return {};
  const { startWorkspace } = data as { startWorkspace?: unknown };
  return typeof startWorkspace === 'string' ? { startWorkspace } : {};
}

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
  let closing = false;
  const post = (msg: unknown): boolean => {
    try {
      port.postMessage(msg);
      return true;
    } catch {
      return false; // not cloneable (a function, a class with private state): the caller says why
    }
  };
  const table = callTable(dispatch, post, {
    refuseNew: () => (closing ? 'the engine is closing' : undefined),
  });

  async function close(): Promise<void> {
    if (closing) return;
    closing = true;
    table.abortAll('the engine is closing');
    // Let the aborted calls answer (as cancelled) before the thread goes, for a moment at most.
    await Promise.race([table.settled(), new Promise((r) => setTimeout(r, 1000).unref())]);
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
      return void post({ id: null, result: failure('bad-input', `engine thread: ${where}: invalid`) });
    }
    table.accept(parsed.data);
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
