// The renderer's API client, derived from the method table in shared/api.ts. In Electron the
// preload exposes one function per method on window.npg; in a browser the same calls travel over
// the web host's WebSocket. Either way a call may stream progress events (each checked against
// the contract before anyone sees it) and is cancelled through its AbortSignal.
import {
  type ApiMethod,
  type ApiResult,
  apiMethods,
  type CallOptions,
  checkEvent,
  type NpgApi,
} from '../../../shared/api';
import { encodeFileCall, FILE_FIELD, HostMessageSchema } from '../../../shared/api/wire';

type Call = (method: ApiMethod, payload: unknown, opts: CallOptions) => Promise<ApiResult<unknown>>;

type BridgeFn = (
  payload: unknown,
  callId: number,
  onEvent?: (event: unknown) => void,
) => Promise<ApiResult<unknown>>;

declare global {
  interface Window {
    npg?: Record<ApiMethod, BridgeFn> & {
      cancel(callId: number): void;
      /** The app menu (Electron only): returns the unsubscribe function. */
      onMenu(cb: (msg: { action: string }) => void): () => void;
    };
  }
}

const cancelled = (method: string): ApiResult<never> => ({
  ok: false,
  error: { code: 'cancelled', message: `${method}: cancelled` },
});

function deliver(method: string, event: unknown, opts: CallOptions): void {
  const checked = checkEvent(event);
  if (checked) opts.onEvent?.(checked);
  else console.error(`${method}: dropped an event that does not match the contract`);
}

function webSocketCall(): Call {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api`;
  let socket: Promise<WebSocket> | undefined;
  let nextId = 1;
  const pending = new Map<
    number,
    { method: string; opts: CallOptions; settle: (r: ApiResult<unknown>) => void }
  >();

  const open = (): Promise<WebSocket> => {
    socket ??= new Promise<WebSocket>((resolve, reject) => {
      // The token travels in the HttpOnly cookie the page was served with (same origin).
      const ws = new WebSocket(url);
      ws.onopen = () => resolve(ws);
      ws.onerror = () =>
        reject(new Error('cannot reach the NodePort Guard host: is `npm run web` still running?'));
      ws.onclose = () => {
        socket = undefined;
        for (const [id, p] of pending) {
          pending.delete(id);
          p.settle({
            ok: false,
            error: { code: 'failed', message: 'connection to the NodePort Guard host closed' },
          });
        }
      };
      ws.onmessage = (ev) => {
        let raw: unknown;
        try {
          raw = JSON.parse(String(ev.data));
        } catch {
          return;
        }
        const msg = HostMessageSchema.safeParse(raw);
        if (!msg.success || msg.data.id === null) return;
        const p = pending.get(msg.data.id);
        if (!p) return;
        if ('event' in msg.data) deliver(p.method, msg.data.event, p.opts);
        else {
          pending.delete(msg.data.id);
          p.settle(msg.data.result as ApiResult<unknown>);
        }
      };
    });
    return socket;
  };

  return async (method, payload, opts) => {
    if (opts.signal?.aborted) return cancelled(method);
    // Read before the socket is taken (it may close meanwhile); off the page's thread, and sent as
    // bytes, never as one big JSON string.
    let fileBytes: Uint8Array | undefined;
    try {
      fileBytes = opts.file ? new Uint8Array(await opts.file.arrayBuffer()) : undefined;
    } catch (err) {
      return {
        ok: false,
        error: { code: 'failed', message: `cannot read the file: ${(err as Error).message}` },
      };
    }
    if (opts.signal?.aborted) return cancelled(method);
    let ws: WebSocket;
    try {
      ws = await open();
    } catch (err) {
      return { ok: false, error: { code: 'failed', message: (err as Error).message } };
    }
    const id = nextId++;
    return new Promise((resolve) => {
      const onAbort = () => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ cancel: id }));
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      pending.set(id, {
        method,
        opts,
        settle: (r) => {
          opts.signal?.removeEventListener('abort', onAbort);
          resolve(r);
        },
      });
      if (fileBytes === undefined) ws.send(JSON.stringify({ id, method, payload }));
      else ws.send(encodeFileCall({ id, method, payload: payload as object }, fileBytes));
    });
  };
}

function bridgeCall(): Call | undefined {
  const bridge = window.npg;
  if (!bridge) return undefined;
  let nextId = 1;
  return async (method, payload, opts) => {
    if (opts.signal?.aborted) return cancelled(method);
    const id = nextId++;
    // IPC carries the string as it is (a structured clone, no JSON escaping).
    if (opts.file) {
      try {
        payload = { ...(payload as object), [FILE_FIELD]: await opts.file.text() };
      } catch (err) {
        return {
          ok: false,
          error: { code: 'failed', message: `cannot read the file: ${(err as Error).message}` },
        };
      }
    }
    if (opts.signal?.aborted) return cancelled(method);
    const onAbort = () => bridge.cancel(id);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await bridge[method](payload, id, (ev) => deliver(method, ev, opts));
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  };
}

export function createClient(): NpgApi {
  const call = bridgeCall() ?? webSocketCall();
  return Object.fromEntries(
    apiMethods.map((m) => [m, (req: unknown, opts: CallOptions = {}) => call(m, req, opts)]),
  ) as unknown as NpgApi;
}

let client: NpgApi | undefined;

/**
 * The one client of this window; components and stores import it, never thread it through props.
 * Made on first use, so importing a store in a unit test opens no connection.
 */
export const api: NpgApi = new Proxy({} as NpgApi, {
  get: (_target, key) => {
    client ??= createClient();
    return client[key as ApiMethod];
  },
});
