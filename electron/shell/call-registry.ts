// The pure half of the Electron IPC transport: the shape of a call message, the registry of calls
// in flight (keyed by the sending webContents and the renderer's call id), and the life of one
// call from message to result. ipc-main.ts wires these to ipcMain; nothing here imports Electron,
// so every decision is unit-tested with fakes.

import { CallIdSchema } from '../../shared/api/wire.js';
import type { ApiResult } from '../../shared/api.js';
import type { Dispatch } from '../host/dispatch.js';
import { EVENT_CHANNEL } from './channels.js';

export interface CallMessage {
  readonly callId: number;
  readonly payload: unknown;
}

export type Refusal = {
  readonly ok: false;
  readonly error: { readonly code: 'bad-input'; readonly message: string };
};

export const refusal = (message: string): Refusal => ({ ok: false, error: { code: 'bad-input', message } });

/** A call id is a positive safe integer (the wire format's CallIdSchema). */
export function isCallId(x: unknown): x is number {
  return CallIdSchema.safeParse(x).success;
}

/** `{callId, payload}` and nothing else; the payload itself is checked by the dispatcher. */
export function parseCallMessage(
  method: string,
  msg: unknown,
): { readonly ok: true; readonly value: CallMessage } | Refusal {
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
    return refusal(`IPC ${method}: the message is not an object {callId, payload}`);
  }
  const keys = Object.keys(msg);
  const extra = keys.find((k) => k !== 'callId' && k !== 'payload');
  if (extra !== undefined) return refusal(`IPC ${method}: unexpected field ${extra.slice(0, 40)}`);
  const { callId, payload } = msg as { callId?: unknown; payload?: unknown };
  if (!isCallId(callId)) return refusal(`IPC ${method}: callId must be a positive safe integer`);
  return { ok: true, value: { callId, payload } };
}

/**
 * Calls in flight, per sender (a webContents id). A cancelled call stays registered until it
 * settles, so its id cannot be reused meanwhile; when the sender goes away (closed, reloaded,
 * crashed) all its calls are aborted and dropped at once, so a reloaded page may reuse ids.
 */
export class CallRegistry {
  readonly #calls = new Map<number, Map<number, AbortController>>();

  /** Registers a call; undefined when that sender already has a call with this id in flight. */
  start(sender: number, callId: number): AbortController | undefined {
    let calls = this.#calls.get(sender);
    if (!calls) {
      calls = new Map();
      this.#calls.set(sender, calls);
    }
    if (calls.has(callId)) return undefined;
    const controller = new AbortController();
    calls.set(callId, controller);
    return controller;
  }

  /** Drops a settled call (only if it is still this controller's entry). */
  finish(sender: number, callId: number, controller: AbortController): void {
    const calls = this.#calls.get(sender);
    if (calls?.get(callId) !== controller) return;
    calls.delete(callId);
    if (calls.size === 0) this.#calls.delete(sender);
  }

  /** Aborts one call; false when there is no such call in flight. */
  cancel(sender: number, callId: number): boolean {
    const controller = this.#calls.get(sender)?.get(callId);
    if (!controller) return false;
    controller.abort(new Error('cancelled by the caller'));
    return true;
  }

  /** Aborts and drops every call of a sender; returns how many there were. */
  cancelAll(sender: number, why = 'the window went away'): number {
    const calls = this.#calls.get(sender);
    if (!calls) return 0;
    this.#calls.delete(sender);
    for (const controller of calls.values()) controller.abort(new Error(why));
    return calls.size;
  }

  /** Aborts every call of every sender (the transport is being unregistered). */
  cancelEverything(why = 'the IPC API was unregistered'): number {
    let n = 0;
    for (const sender of [...this.#calls.keys()]) n += this.cancelAll(sender, why);
    return n;
  }

  size(sender?: number): number {
    if (sender !== undefined) return this.#calls.get(sender)?.size ?? 0;
    let n = 0;
    for (const calls of this.#calls.values()) n += calls.size;
    return n;
  }
}

/** What runCall needs of a webContents. */
export interface CallSender {
  readonly id: number;
  isDestroyed(): boolean;
  send(channel: string, message: unknown): void;
}

/**
 * One call, from raw message to result: validate, register, dispatch with a signal and an emit
 * that streams events to this sender (dropped once the call is aborted, so a stale call can never
 * feed a reloaded page that reuses its id), deregister. Never throws: errors are data.
 */
export async function runCall(opts: {
  readonly registry: CallRegistry;
  readonly dispatch: Dispatch;
  readonly sender: CallSender;
  readonly method: string;
  readonly msg: unknown;
}): Promise<ApiResult<unknown>> {
  const { registry, dispatch, sender, method } = opts;
  const parsed = parseCallMessage(method, opts.msg);
  if (!parsed.ok) return parsed;
  const { callId, payload } = parsed.value;
  const controller = registry.start(sender.id, callId);
  if (!controller) return refusal(`IPC ${method}: call ${callId} is already in flight`);
  const { signal } = controller;
  const emit = (event: unknown): void => {
    if (signal.aborted || sender.isDestroyed()) return;
    try {
      sender.send(EVENT_CHANNEL, { callId, event });
    } catch {
      // The frame went away between the check and the send; the call's result will say so.
    }
  };
  try {
    return await dispatch(method, payload, { signal, emit });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, error: { code: 'failed', message: `${method}: ${message.split('\n')[0]}` } };
  } finally {
    registry.finish(sender.id, callId, controller);
  }
}
