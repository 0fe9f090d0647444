// The loopback web host: serves the built renderer and carries the api.ts contract over one
// WebSocket. It lets the same UI run in a plain browser (and under Playwright) where Electron
// cannot start. It binds to loopback only and requires a per-run token on every request, because
// any local web page could otherwise drive the engine (and through it, SSH to the cluster).
// Who may ask is decided in web-auth.ts; what a socket may say, in web-calls.ts.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Dispatch } from './dispatch.js';
import { contentSecurityPolicy } from './security.js';
import {
  allowedHosts,
  hostAllowed,
  isAuthorized,
  originAllowed,
  sessionCookie,
  tokenMatches,
  tokenProblem,
} from './web-auth.js';
import { serveCalls } from './web-calls.js';

export interface WebHostOptions {
  readonly dispatch: Dispatch;
  /** Folder holding the built renderer (index.html + assets). */
  readonly staticDir: string;
  readonly port?: number;
  readonly host?: '127.0.0.1' | '::1';
  /** Fixed token (tests, NPG_WEB_TOKEN), at least 16 characters; random otherwise. */
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
  '.woff2': 'font/woff2',
};

/** 64 MiB: a 10 MB dump, JSON-escaped (up to 6 bytes per byte in the worst case), plus envelope. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Sent with every response, refusals included. */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': contentSecurityPolicy({ allowWebSocket: true }),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

/** What the request may see: why it is refused (status + text), or its parsed URL. */
type Admission = { status: number; text: string } | { url: URL };

function refusal(status: number, text: string): Admission {
  return { status, text };
}

export async function startWebHost(opts: WebHostOptions): Promise<WebHost> {
  const token = opts.token ?? randomBytes(18).toString('base64url');
  const problem = tokenProblem(token);
  if (problem) throw new Error(problem);
  const bound = opts.host ?? '127.0.0.1';
  const root = resolve(opts.staticDir);
  let hosts: string[] = []; // known once listening (port 0 picks one)
  let printedUrl = '';

  /** The checks every request and upgrade passes, in order: who it claims to be, then the token. */
  function admit(req: IncomingMessage): Admission {
    if (!hostAllowed(req.headers.host, hosts)) return refusal(403, 'unexpected Host header');
    if (!originAllowed(req.headers.origin, hosts)) return refusal(403, 'cross-origin requests are refused');
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://127.0.0.1');
    } catch {
      return refusal(400, 'bad request target');
    }
    if (!isAuthorized(token, url.searchParams.get('token'), req.headers.cookie)) {
      return refusal(401, `NodePort Guard: open the address it printed when it started (${printedUrl})`);
    }
    return { url };
  }

  function reply(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}) {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(`${text}\n`);
  }

  async function serveStatic(pathname: string, res: ServerResponse): Promise<void> {
    let rel: string;
    try {
      rel = pathname === '/' ? 'index.html' : decodeURIComponent(pathname).replace(/^\/+/, '');
    } catch {
      return reply(res, 400, 'bad percent-encoding in the path');
    }
    if (rel.includes('\0')) return reply(res, 400, 'bad path');
    // Source maps would hand out our sources to anyone holding the token; no one needs them here.
    if (/\.map$/i.test(rel)) return reply(res, 404, 'not found');
    const file = normalize(join(root, rel));
    if (file !== root && !file.startsWith(root + sep)) return reply(res, 403, 'outside the UI folder');
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      return reply(res, 404, 'not found');
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' }).end(body);
  }

  function handleRequest(req: IncomingMessage, res: ServerResponse) {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const admission = admit(req);
    if ('status' in admission) return reply(res, admission.status, admission.text);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return reply(res, 405, 'only GET and HEAD', { allow: 'GET, HEAD' });
    }
    const { url } = admission;
    // First visit: trade the token in the address for a cookie, and drop it from the address bar
    // (and so from history and screenshots).
    if (url.pathname === '/' && tokenMatches(token, url.searchParams.get('token'))) {
      url.searchParams.delete('token');
      return reply(res, 303, 'see /', { location: `/${url.search}`, 'set-cookie': sessionCookie(token) });
    }
    serveStatic(url.pathname, res).catch(() => {
      if (!res.headersSent) reply(res, 500, 'internal error');
      else res.destroy();
    });
  }

  /** Refuses an upgrade on the raw socket, with the same headers as any other response. */
  function refuseUpgrade(socket: Duplex, status: number, text: string): void {
    const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status]}`, 'connection: close'];
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) head.push(`${name}: ${value}`);
    head.push('content-type: text/plain; charset=utf-8', `content-length: ${Buffer.byteLength(text) + 1}`);
    socket.end(`${head.join('\r\n')}\r\n\r\n${text}\n`, () => socket.destroy());
  }

  const server = createServer(handleRequest);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy()); // a client vanishing mid-handshake is not our failure
    const admission = admit(req);
    if ('status' in admission) return refuseUpgrade(socket, admission.status, admission.text);
    if (admission.url.pathname !== '/api') return refuseUpgrade(socket, 404, 'not found');
    wss.handleUpgrade(req, socket, head, (ws) => serveCalls(ws, opts.dispatch));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, bound, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  hosts = allowedHosts(bound, port);
  const hostPart = bound === '::1' ? '[::1]' : bound;
  printedUrl = `http://${hostPart}:${port}/?token=…`;
  return {
    url: `http://${hostPart}:${port}/?token=${encodeURIComponent(token)}`,
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
