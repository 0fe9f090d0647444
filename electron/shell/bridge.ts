// What the preload exposes as window.npg, built from an injected ipcRenderer so it is unit-tested:
// one named function per api.ts method (startWorkspace among them), cancel and onMenu. Never
// ipcRenderer, a generic send, or an IPC event object (its `sender` is ipcRenderer). One
// `npg:event` listener routes progress events by call id to the caller's onEvent; a call's entry
// is removed when the call settles, so nothing leaks.
import type { ApiResult } from '../../shared/api.js';
import { isCallId, refusal } from './call-registry.js';
import { CANCEL_CHANNEL, channelFor, EVENT_CHANNEL, MENU_CHANNEL } from './channels.js';
import { isMenuMessage, type MenuMessage } from './menu.js';

/** The part of Electron's ipcRenderer the bridge uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  send(channel: string, ...args: unknown[]): void;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

export type CallFn = (
  payload: unknown,
  callId: number,
  onEvent?: (event: unknown) => void,
) => Promise<ApiResult<unknown>>;

export interface NpgShellBridge {
  /** Aborts a call in flight; its result still arrives (as an error). */
  cancel(callId: number): void;
  /** Subscribes to app menu actions; returns the unsubscribe function. */
  onMenu(cb: (msg: MenuMessage) => void): () => void;
}

export type NpgBridge = NpgShellBridge & {
  readonly [method: string]: CallFn | NpgShellBridge[keyof NpgShellBridge];
};

const reserved = new Set(['cancel', 'onMenu']);

const failed = (message: string): ApiResult<unknown> => ({ ok: false, error: { code: 'failed', message } });

function isApiResult(x: unknown): x is ApiResult<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as { ok?: unknown }).ok === 'boolean';
}

export function createBridge(ipc: IpcRendererLike, methods: readonly string[]): Readonly<NpgBridge> {
  const onEvents = new Map<number, ((event: unknown) => void) | undefined>();
  // One entry per subscription (not per function), so subscribing the same function twice and
  // unsubscribing once leaves one subscription.
  const menuListeners = new Set<{ readonly cb: (msg: MenuMessage) => void }>();

  ipc.on(EVENT_CHANNEL, (_event, msg) => {
    if (typeof msg !== 'object' || msg === null) return;
    const { callId, event } = msg as { callId?: unknown; event?: unknown };
    if (!isCallId(callId)) return;
    const onEvent = onEvents.get(callId);
    if (!onEvent) return;
    try {
      onEvent(event);
    } catch (err) {
      console.error('npg: a progress listener threw', err);
    }
  });

  ipc.on(MENU_CHANNEL, (_event, msg) => {
    if (!isMenuMessage(msg)) return;
    const copy: MenuMessage = { action: msg.action };
    for (const { cb } of [...menuListeners]) {
      try {
        cb(copy);
      } catch (err) {
        console.error('npg: a menu listener threw', err);
      }
    }
  });

  const call =
    (method: string): CallFn =>
    async (payload, callId, onEvent) => {
      if (!isCallId(callId)) return refusal(`${method}: callId must be a positive safe integer`);
      if (onEvent !== undefined && typeof onEvent !== 'function') {
        return refusal(`${method}: onEvent must be a function`);
      }
      if (onEvents.has(callId)) return refusal(`${method}: call ${callId} is already in flight`);
      onEvents.set(callId, onEvent);
      try {
        const result = await ipc.invoke(channelFor(method), { callId, payload });
        return isApiResult(result) ? result : failed(`${method}: malformed reply from the main process`);
      } catch (err) {
        return failed(`${method}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      } finally {
        onEvents.delete(callId);
      }
    };

  const bridge: Record<string, unknown> = {};
  for (const method of methods) {
    if (reserved.has(method) || Object.hasOwn(bridge, method)) {
      throw new Error(`npg bridge: API method name ${method} collides with a bridge function`);
    }
    bridge[method] = call(method);
  }
  const shell: NpgShellBridge = {
    cancel(callId) {
      if (isCallId(callId)) ipc.send(CANCEL_CHANNEL, callId);
    },
    onMenu(cb) {
      if (typeof cb !== 'function') return () => {};
      const entry = { cb };
      menuListeners.add(entry);
      return () => {
        menuListeners.delete(entry);
      };
    },
  };
  return Object.freeze(Object.assign(bridge, shell)) as Readonly<NpgBridge>;
}
