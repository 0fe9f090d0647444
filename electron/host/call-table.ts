// The host side of the wire format (shared/api/wire.ts), whatever carries it (the loopback
// WebSocket, the engine's worker thread): each valid call runs through the checked dispatcher
// with its own AbortController and an emit() for its events, and is answered by exactly one
// result; `{cancel: id}` aborts it. Refusals are answered as data, never thrown.
import type { ClientMessage } from '../../shared/api/wire.js';
import type { ApiResult } from '../../shared/api.js';
import type { Dispatch } from './dispatch.js';

type Failure = Extract<ApiResult<unknown>, { ok: false }>;

export const failure = (code: Failure['error']['code'], message: string): Failure => ({
  ok: false,
  error: { code, message },
});

export interface CallTableOptions {
  /** Calls one peer may have in flight; a client looping without awaiting hits this, not our memory. */
  readonly maxCalls?: number;
  /** Why no new call is taken now (the engine is closing), or undefined. */
  readonly refuseNew?: () => string | undefined;
}

export interface CallTable {
  accept(msg: ClientMessage): void;
  /** Aborts every call in flight (the peer went away, or the engine closes). */
  abortAll(reason: string): void;
  /** Settles when every call has answered. */
  settled(): Promise<void>;
}

/** `send` posts one envelope and says whether it could (false: closed, or not serialisable). */
export function callTable(
  dispatch: Dispatch,
  send: (msg: unknown) => boolean,
  opts: CallTableOptions = {},
): CallTable {
  const calls = new Map<number, AbortController>();
  const running = new Set<Promise<void>>();
  const refuse = (id: number | null, message: string) => send({ id, result: failure('bad-input', message) });

  async function run(id: number, method: string, payload: unknown): Promise<void> {
    const controller = new AbortController();
    calls.set(id, controller);
    // Events after the result would break "events, then exactly one result": drop them.
    const emit = (event: unknown) => {
      if (calls.get(id) === controller) send({ id, event });
    };
    let result: ApiResult<unknown>;
    try {
      result = await dispatch(method, payload, { signal: controller.signal, emit });
    } catch (err) {
      // The dispatcher turns errors into data; this is the backstop that keeps the host alive.
      result = failure(
        'failed',
        `${method}: ${String(err instanceof Error ? err.message : err).split('\n')[0]}`,
      );
    }
    calls.delete(id);
    if (!send({ id, result }))
      send({ id, result: failure('failed', `${method}: the result cannot be sent`) });
  }

  return {
    accept(msg) {
      if ('cancel' in msg) {
        // Unknown ids are calls that already finished: their result is on its way, nothing to do.
        calls.get(msg.cancel)?.abort(new Error('cancelled by the caller'));
        return;
      }
      const busy = opts.refuseNew?.();
      if (busy) return void send({ id: msg.id, result: failure('failed', `${msg.method}: ${busy}`) });
      if (calls.has(msg.id)) return void refuse(null, `id ${msg.id} is already in use by a call in progress`);
      if (opts.maxCalls !== undefined && calls.size >= opts.maxCalls)
        return void refuse(msg.id, `too many calls in progress (at most ${opts.maxCalls} per connection)`);
      const p = run(msg.id, msg.method, msg.payload).finally(() => running.delete(p));
      running.add(p);
    },
    abortAll(reason) {
      for (const controller of calls.values()) controller.abort(new Error(reason));
    },
    settled: () => Promise.allSettled(running).then(() => undefined),
  };
}
