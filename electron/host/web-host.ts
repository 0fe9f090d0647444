// The loopback web host: serves the built renderer and carries the api.ts contract over one
// WebSocket. It lets the same UI run in a plain browser (and under Playwright) where Electron
// cannot start. It binds to loopback only and requires a per-run token, because any local web
// page could otherwise drive the engine (and through it, SSH to the cluster).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer } from 'ws';
import type { Dispatch } from './dispatch.js';
import { contentSecurityPolicy } from './security.js';

export interface WebHostOptions {
  readonly dispatch: Dispatch;
  /** Folder holding the built renderer (index.html + assets). */
  readonly staticDir: string;
  readonly port?: number;
  readonly host?: '127.0.0.1' | '::1';
  /** Fixed token for tests; random otherwise. */
  readonly token?: string;
}

export interface WebHost {
  readonly url: string;
  readonly token: string;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.map': 'application/json',
};

/** 80 MiB: the largest request (a dump) plus envelope. */
const MAX_MESSAGE_BYTES = 80 * 1024 * 1024;

function tokenMatches(expected: string, given: string | null): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startWebHost(opts: WebHostOptions): Promise<WebHost> {
  const token = opts.token ?? randomBytes(18).toString('base64url');
  const host = opts.host ?? '127.0.0.1';
  const root = resolve(opts.staticDir);

  async function serveStatic(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const rel = path === '/' ? 'index.html' : decodeURIComponent(path).replace(/^\/+/, '');
    const file = normalize(join(root, rel));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': MIME[extname(file)] ?? 'application/octet-stream',
        'content-security-policy': contentSecurityPolicy({ allowWebSocket: true }),
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
      });
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  }

  const server = createServer((req, res) => {
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    void serveStatic(req, res);
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const origin = req.headers.origin;
    const ownOrigin = `http://${req.headers.host}`;
    if (
      url.pathname !== '/api' ||
      !tokenMatches(token, url.searchParams.get('token')) ||
      (origin && origin !== ownOrigin)
    ) {
      socket.write('HTTP/1.1 403 Forbidden\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data) => {
        let msg: { id?: unknown; method?: unknown; payload?: unknown };
        try {
          msg = JSON.parse(String(data));
        } catch {
          ws.send(
            JSON.stringify({
              id: null,
              result: { ok: false, error: { code: 'bad-input', message: 'message is not JSON' } },
            }),
          );
          return;
        }
        const id = typeof msg.id === 'number' ? msg.id : null;
        void opts.dispatch(msg.method, msg.payload).then((result) => {
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id, result }));
        });
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const hostPart = host === '::1' ? '[::1]' : host;
  return {
    url: `http://${hostPart}:${port}/?token=${token}`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
