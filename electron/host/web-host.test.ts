// The web host over real HTTP and WebSocket, against a fake Dispatch that records what reached it,
// so each test sees exactly what the host let through and how it answers. Every refusal is
// followed by a request that still succeeds: the host must never go down.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type CallContext, encodeFileCall } from '../../shared/api/wire.js';
import type { ApiResult } from '../../shared/api.js';
import type { Dispatch } from './dispatch.js';
import { MAX_CALLS_PER_SOCKET } from './web-calls.js';
import { MAX_MESSAGE_BYTES, startWebHost, type WebHost } from './web-host.js';

const TOKEN = 'test-token-0123456789';

/** What reached the fake dispatcher, and which calls saw their signal abort. */
const seen: { method: unknown; payload: unknown }[] = [];
const aborted: unknown[] = [];

const fakeDispatch: Dispatch = async (method, payload, ctx?: Partial<CallContext>) => {
  seen.push({ method, payload });
  if (method === 'echo') return { ok: true, value: payload };
  if (method === 'progress') {
    for (const step of [1, 2, 3]) ctx?.emit?.({ step });
    return { ok: true, value: 'done' };
  }
  if (method === 'wait') {
    const signal = ctx?.signal;
    await new Promise<void>((resolve) => {
      if (signal?.aborted) resolve();
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    aborted.push(payload);
    return { ok: false, error: { code: 'cancelled', message: 'wait: cancelled' } };
  }
  if (method === 'throw') throw new Error('boom\nsecond line');
  return { ok: false, error: { code: 'unknown-method', message: `${String(method)}: unknown method` } };
};

let dir: string;
let host: WebHost;
let port: number;
const cookie = `npg_token=${TOKEN}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'npg-web-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, 'assets', 'app.js.map'), '{"sources":["secret.ts"]}');
  host = await startWebHost({ dispatch: fakeDispatch, staticDir: dir, token: TOKEN });
  port = Number(new URL(host.url).port);
});
afterAll(async () => {
  await host.close();
  rmSync(dir, { recursive: true, force: true });
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTP request with the exact path and headers given (fetch would normalise both). Sends the
 * session cookie and our own Host unless told otherwise.
 */
function raw(
  path: string,
  opts: { method?: string; headers?: Record<string, string | undefined>; hostPort?: number } = {},
): Promise<RawResponse> {
  const headers = { host: `127.0.0.1:${opts.hostPort ?? port}`, cookie, ...opts.headers };
  for (const k of Object.keys(headers))
    if (headers[k as keyof typeof headers] === undefined) delete headers[k as keyof typeof headers];
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: opts.hostPort ?? port, path, method: opts.method ?? 'GET', headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const wsUrl = (query = `?token=${TOKEN}`) => `ws://127.0.0.1:${port}/api${query}`;

/** A connected client with a queue of parsed messages. */
class Client {
  readonly messages: unknown[] = [];
  private waiters: (() => void)[] = [];
  closeCode?: number;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      this.messages.push(JSON.parse(String(d)));
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('error', () => {}); // the server may reset a socket it closed; the close code says why
  }
  send(msg: unknown) {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }
  /** The next message (in order of arrival). */
  async next(): Promise<unknown> {
    while (this.messages.length === 0) {
      if (this.closeCode !== undefined) throw new Error(`closed ${this.closeCode}`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
    return this.messages.shift();
  }
  async closed(): Promise<number> {
    while (this.closeCode === undefined) await new Promise<void>((r) => this.waiters.push(r));
    return this.closeCode;
  }
}

function connect(url = wsUrl(), headers: Record<string, string> = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(new Client(ws)));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** One call on a fresh socket: its result message. */
async function callOnce(msg: unknown): Promise<{ id: number | null; result: ApiResult<unknown> }> {
  const c = await connect();
  c.send(msg);
  const reply = (await c.next()) as { id: number | null; result: ApiResult<unknown> };
  c.ws.close();
  return reply;
}

async function stillServes(): Promise<void> {
  expect((await raw('/')).status).toBe(200);
  const reply = await callOnce({ id: 99, method: 'echo', payload: 'alive' });
  expect(reply).toEqual({ id: 99, result: { ok: true, value: 'alive' } });
}

describe('web host: HTTP', () => {
  it('binds to loopback and serves the UI with the security headers', async () => {
    expect(new URL(host.url).hostname).toBe('127.0.0.1');
    const res = await raw('/');
    expect(res.status).toBe(200);
    expect(res.body).toContain('<title>t</title>');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).toContain('ws://127.0.0.1:*');
    expect(res.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      'x-frame-options': 'DENY',
      'cross-origin-opener-policy': 'same-origin',
    });
  });

  it('sends the security headers on refusals too', async () => {
    for (const res of [
      await raw('/', { headers: { cookie: undefined } }), // 401
      await raw('/', { headers: { host: 'evil.example' } }), // 403
      await raw('/nope.js'), // 404
      await raw('/', { method: 'POST' }), // 405
      await raw('/%E0%A4%A'), // 400
    ]) {
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('trades the token in the address for a cookie, and redirects to drop it from the address', async () => {
    const first = await raw(`/?token=${TOKEN}`, { headers: { cookie: undefined } });
    expect([302, 303]).toContain(first.status);
    expect(first.headers.location).toBe('/');
    expect(first.headers['set-cookie']).toEqual([`npg_token=${TOKEN}; HttpOnly; SameSite=Strict; Path=/`]);
    // The browser then comes back with the cookie.
    expect((await raw('/')).status).toBe(200);
    expect((await raw('/assets/app.js')).status).toBe(200);
  });

  it('refuses every request without the token with 401 and a hint', async () => {
    for (const path of ['/', '/index.html', '/assets/app.js', `/?token=${TOKEN}x`, '/?token=']) {
      const res = await raw(path, { headers: { cookie: undefined } });
      expect(res.status, path).toBe(401);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.body).toMatch(/open the address it printed/);
      expect(res.body).not.toContain(TOKEN);
    }
    expect((await raw('/', { headers: { cookie: 'npg_token=wrong-token-of-some-length' } })).status).toBe(
      401,
    );
    expect((await raw('/', { headers: { cookie: 'npg_token=%E0%A4%A' } })).status).toBe(401);
    // An asset may also be fetched with the token in its query.
    expect((await raw(`/assets/app.js?token=${TOKEN}`, { headers: { cookie: undefined } })).status).toBe(200);
  });

  it('refuses other Host headers (DNS rebinding) with 403', async () => {
    for (const h of [
      'evil.example',
      `evil.example:${port}`,
      '127.0.0.1',
      `127.0.0.1:${port + 1}`,
      `[::1]:${port}`,
    ]) {
      expect((await raw('/', { headers: { host: h } })).status, h).toBe(403);
    }
    expect((await raw('/', { headers: { host: `localhost:${port}` } })).status).toBe(200);
  });

  it('refuses a foreign Origin with 403 and accepts our own', async () => {
    for (const o of [
      'http://evil.example',
      `http://evil.example:${port}`,
      `https://127.0.0.1:${port}`,
      'null',
    ]) {
      expect((await raw('/', { headers: { origin: o } })).status, o).toBe(403);
    }
    expect((await raw('/', { headers: { origin: `http://127.0.0.1:${port}` } })).status).toBe(200);
    expect((await raw('/', { headers: { origin: `http://localhost:${port}` } })).status).toBe(200);
  });

  it('answers bad percent-encoding with 400 and keeps serving', async () => {
    expect((await raw('/%E0%A4%A')).status).toBe(400);
    expect((await raw('/%')).status).toBe(400);
    expect((await raw('/%00')).status).toBe(400);
    await stillServes();
  });

  it('does not serve files outside its folder', async () => {
    for (const path of [
      '/..%2f..%2fetc%2fpasswd',
      '/../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/..%5c..%5cetc',
    ]) {
      const res = await raw(path);
      expect([403, 404], path).toContain(res.status);
      expect(res.body).not.toContain('root:');
    }
  });

  it('allows only GET and HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
      const res = await raw('/', { method });
      expect(res.status, method).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
    }
    const head = await raw('/', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('never serves source maps', async () => {
    expect((await raw('/assets/app.js.map')).status).toBe(404);
    expect((await raw(`/assets/app.js.map?token=${TOKEN}`)).status).toBe(404);
    expect((await raw('/assets/app.js.MAP')).status).toBe(404);
    expect((await raw('/assets/app.js.map', { headers: { cookie: undefined } })).status).toBe(401);
  });
});

describe('web host: token strength', () => {
  it('refuses a token shorter than 16 characters, in one line', async () => {
    for (const token of ['', 'tok', '0123456789abcde']) {
      await expect(startWebHost({ dispatch: fakeDispatch, staticDir: dir, token })).rejects.toThrow(
        /^the token has \d+ characters; use at least 16[^\n]*$/,
      );
    }
    await expect(
      startWebHost({ dispatch: fakeDispatch, staticDir: dir, token: 'sixteen chars with spaces' }),
    ).rejects.toThrow(/printable ASCII/);
  });

  it('makes a random token when none is given', async () => {
    const a = await startWebHost({ dispatch: fakeDispatch, staticDir: dir });
    const b = await startWebHost({ dispatch: fakeDispatch, staticDir: dir });
    try {
      expect(a.token.length).toBeGreaterThanOrEqual(16);
      expect(a.token).not.toBe(b.token);
      expect(a.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('web host: WebSocket upgrade', () => {
  it('accepts the token in the query or in the cookie', async () => {
    (await connect(wsUrl())).ws.close();
    (await connect(wsUrl(''), { cookie })).ws.close();
    // The renderer, after the redirect, sends an empty query token and relies on the cookie.
    (await connect(wsUrl('?token='), { cookie })).ws.close();
  });

  it('refuses an upgrade without the token, from another origin or host, or elsewhere than /api', async () => {
    await expect(connect(wsUrl(''))).rejects.toThrow(/refused 401/);
    await expect(connect(wsUrl('?token=wrong-token-of-some-length'))).rejects.toThrow(/refused 401/);
    await expect(connect(wsUrl(), { origin: 'http://evil.example' })).rejects.toThrow(/refused 403/);
    await expect(connect(wsUrl(), { host: `evil.example:${port}` })).rejects.toThrow(/refused 403/);
    await expect(connect(`ws://127.0.0.1:${port}/other?token=${TOKEN}`)).rejects.toThrow(/refused 404/);
    await expect(connect(`ws://127.0.0.1:${port}/%E0%A4%A?token=${TOKEN}`)).rejects.toThrow(/refused 404/);
    (await connect(wsUrl(), { origin: `http://127.0.0.1:${port}` })).ws.close();
    await stillServes();
  });
});

describe('web host: calls', () => {
  it('answers every invalid message with a one-line bad-input, before the dispatcher, and keeps the socket', async () => {
    seen.length = 0;
    const c = await connect();
    const invalid: [string, RegExp][] = [
      ['null', /not null/],
      ['[1,2]', /not an array/],
      ['42', /not a number/],
      ['"text"', /not a string/],
      ['true', /not a boolean/],
      ['{', /not JSON/],
      ['', /not JSON/],
      ['{}', /^id: /],
      ['{"id":1}', /^method: /],
      ['{"id":0,"method":"echo","payload":1}', /^id: /],
      ['{"id":1.5,"method":"echo","payload":1}', /^id: /],
      ['{"id":"1","method":"echo","payload":1}', /^id: /],
      ['{"id":1,"method":"","payload":1}', /^method: /],
      ['{"id":1,"method":"echo","payload":1,"extra":true}', /extra/],
      ['{"cancel":"x"}', /^cancel: /],
      ['{"cancel":1,"id":2}', /id/],
      [`{"id":1,"method":"${'m'.repeat(65)}","payload":1}`, /^method: /],
    ];
    for (const [text, why] of invalid) {
      c.send(text);
      const reply = (await c.next()) as { id: unknown; result: ApiResult<unknown> };
      expect(reply.id, text).toBeNull();
      expect(reply.result.ok, text).toBe(false);
      if (reply.result.ok) continue;
      expect(reply.result.error.code, text).toBe('bad-input');
      expect(reply.result.error.message, text).toMatch(why);
      expect(reply.result.error.message, text).not.toContain('\n');
    }
    // A binary frame is a file call (encodeFileCall); JSON sent as binary is not one.
    c.ws.send(Buffer.from('{"id":1,"method":"echo","payload":1}'), { binary: true });
    expect(await c.next()).toMatchObject({ id: null, result: { ok: false, error: { code: 'bad-input' } } });
    expect(seen).toEqual([]);
    // The same socket still carries a good call.
    c.send({ id: 7, method: 'echo', payload: { text: 'x' } });
    expect(await c.next()).toEqual({ id: 7, result: { ok: true, value: { text: 'x' } } });
    expect(seen).toEqual([{ method: 'echo', payload: { text: 'x' } }]);
    c.ws.close();
  });

  it('takes a file as bytes in one binary frame, its text in payload.text; bad frames are refused in one line', async () => {
    seen.length = 0;
    const c = await connect();
    // Bytes that are not valid UTF-8 read as the browser reads a file: U+FFFD, not an error.
    const bytes = new Uint8Array([
      ...new TextEncoder().encode('*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n'),
      0xff,
    ]);
    c.ws.send(encodeFileCall({ id: 3, method: 'echo', payload: { table: 'nat' } }, bytes), { binary: true });
    expect(await c.next()).toEqual({
      id: 3,
      result: { ok: true, value: { table: 'nat', text: '*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n\ufffd' } },
    });
    const header = (h: unknown) => {
      const json = Buffer.from(JSON.stringify(h));
      const len = Buffer.alloc(4);
      len.writeUInt32BE(json.length);
      return Buffer.concat([len, json, Buffer.from('body')]);
    };
    const bad: [Buffer, RegExp][] = [
      [Buffer.from([0, 0]), /must start with its envelope length/],
      [Buffer.from([0, 0, 0x10, 0, 0x7b]), /does not fit the frame/],
      [Buffer.concat([Buffer.from([0, 0, 0, 2]), Buffer.from('{x')]), /envelope is not JSON/],
      [
        header({ id: 1, method: 'echo', payload: {}, file: 'ipsets' }),
        /must be \{ id, method, payload, file: 'text' \}/,
      ],
      [header({ id: 1, method: 'echo', payload: 'x', file: 'text' }), /must be \{ id, method/],
      [header({ id: 0, method: 'echo', payload: {}, file: 'text' }), /must be \{ id, method/],
    ];
    for (const [frame, why] of bad) {
      c.ws.send(frame, { binary: true });
      const reply = (await c.next()) as { id: unknown; result: ApiResult<unknown> };
      expect(reply.id).toBeNull();
      expect(!reply.result.ok && reply.result.error.code).toBe('bad-input');
      expect(!reply.result.ok && reply.result.error.message).toMatch(why);
    }
    expect(seen).toEqual([
      { method: 'echo', payload: { table: 'nat', text: '*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n\ufffd' } },
    ]);
    c.ws.close();
  });

  it('streams events before the one result', async () => {
    const c = await connect();
    c.send({ id: 1, method: 'progress', payload: null });
    expect([await c.next(), await c.next(), await c.next(), await c.next()]).toEqual([
      { id: 1, event: { step: 1 } },
      { id: 1, event: { step: 2 } },
      { id: 1, event: { step: 3 } },
      { id: 1, result: { ok: true, value: 'done' } },
    ]);
    c.ws.close();
  });

  it('aborts a call on {cancel: id} and still sends its result', async () => {
    const c = await connect();
    c.send({ id: 5, method: 'wait', payload: 'cancel-me' });
    await waitUntil(() => seen.some((s) => s.payload === 'cancel-me'));
    c.send({ cancel: 5 });
    expect(await c.next()).toEqual({
      id: 5,
      result: { ok: false, error: { code: 'cancelled', message: 'wait: cancelled' } },
    });
    expect(aborted).toContain('cancel-me');
    c.send({ cancel: 5 }); // already finished: ignored, no reply
    c.send({ id: 6, method: 'echo', payload: 1 });
    expect(await c.next()).toEqual({ id: 6, result: { ok: true, value: 1 } });
    c.ws.close();
  });

  it('aborts every call of a socket when it closes', async () => {
    const c = await connect();
    c.send({ id: 1, method: 'wait', payload: 'closed-1' });
    c.send({ id: 2, method: 'wait', payload: 'closed-2' });
    await waitUntil(() => seen.some((s) => s.payload === 'closed-2'));
    c.ws.close();
    await waitUntil(() => aborted.includes('closed-1') && aborted.includes('closed-2'));
  });

  it('bounds the calls in flight per socket and refuses reused ids', async () => {
    const c = await connect();
    for (let id = 1; id <= MAX_CALLS_PER_SOCKET; id++) c.send({ id, method: 'wait', payload: `bound-${id}` });
    c.send({ id: 1000, method: 'echo', payload: 1 });
    const over = (await c.next()) as { id: number; result: ApiResult<unknown> };
    expect(over.id).toBe(1000);
    expect(!over.result.ok && over.result.error).toMatchObject({ code: 'bad-input' });
    expect(!over.result.ok && over.result.error.message).toMatch(/too many calls in progress/);
    c.send({ id: 3, method: 'echo', payload: 1 });
    expect(await c.next()).toMatchObject({ id: null, result: { ok: false, error: { code: 'bad-input' } } });
    // Another socket has its own budget.
    await stillServes();
    c.send({ cancel: 1 });
    expect(await c.next()).toMatchObject({ id: 1, result: { ok: false } });
    c.send({ id: 1000, method: 'echo', payload: 2 });
    expect(await c.next()).toEqual({ id: 1000, result: { ok: true, value: 2 } });
    c.ws.close();
  });

  it('turns a throwing dispatcher into a one-line failed result', async () => {
    const reply = await callOnce({ id: 4, method: 'throw', payload: null });
    expect(reply).toEqual({
      id: 4,
      result: { ok: false, error: { code: 'failed', message: 'throw: boom' } },
    });
  });

  it('closes a socket that sends invalid UTF-8 (1007), and goes on', async () => {
    const c = await connect();
    c.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect(await c.closed()).toBe(1007);
    await stillServes();
  });

  it('closes a socket that sends an oversized message (1009), and goes on serving others', async () => {
    expect(MAX_MESSAGE_BYTES).toBeLessThanOrEqual(96 * 1024 * 1024);
    const bystander = await connect();
    const c = await connect();
    c.ws.send(Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x20), { binary: false });
    expect(await c.closed()).toBe(1009);
    bystander.send({ id: 1, method: 'echo', payload: 'still here' });
    expect(await bystander.next()).toEqual({ id: 1, result: { ok: true, value: 'still here' } });
    bystander.ws.close();
    await stillServes();
    // Tens of MB through a real socket: a second on a quiet machine, several on a loaded one.
  }, 30_000);
});

/** Waits until cond() holds (the fake dispatcher runs on the host's side of the socket). */
async function waitUntil(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}
