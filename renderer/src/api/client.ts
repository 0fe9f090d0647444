// The renderer's API client, derived from shared/api.ts. In Electron the preload exposes the
// methods as window.npg; in a browser the same calls travel over the web host's WebSocket.
import { type ApiMethod, type ApiResult, apiMethods, type NpgApi } from '../../../shared/api';

type Call = (method: ApiMethod, payload: unknown) => Promise<ApiResult<unknown>>;

declare global {
  interface Window {
    npg?: Record<ApiMethod, (req: unknown) => Promise<ApiResult<unknown>>>;
  }
}

function webSocketCall(): Call {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api?token=${encodeURIComponent(token)}`;
  let socket: Promise<WebSocket> | undefined;
  let nextId = 1;
  const pending = new Map<number, (r: ApiResult<unknown>) => void>();

  const open = (): Promise<WebSocket> => {
    socket ??= new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onopen = () => resolve(ws);
      ws.onerror = () => reject(new Error('cannot reach the NodePort Guard host'));
      ws.onclose = () => {
        socket = undefined;
        for (const [id, settle] of pending) {
          pending.delete(id);
          settle({
            ok: false,
            error: { code: 'failed', message: 'connection to the NodePort Guard host closed' },
          });
        }
      };
      ws.onmessage = (ev) => {
        const msg = JSON.parse(String(ev.data)) as { id: number; result: ApiResult<unknown> };
        pending.get(msg.id)?.(msg.result);
        pending.delete(msg.id);
      };
    });
    return socket;
  };

  return async (method, payload) => {
    const ws = await open();
    const id = nextId++;
    return new Promise((resolve) => {
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, payload }));
    });
  };
}

function bridgeCall(): Call | undefined {
  const bridge = window.npg;
  return bridge ? (method, payload) => bridge[method](payload) : undefined;
}

export function createClient(): NpgApi {
  const call = bridgeCall() ?? webSocketCall();
  return Object.fromEntries(apiMethods.map((m) => [m, (req: unknown) => call(m, req)])) as unknown as NpgApi;
}
