import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ApiResult, NpgApi } from '../../shared/api.js';
import { createDispatcher } from './dispatch.js';
import { startWebHost, type WebHost } from './web-host.js';

// A real HTTP + WebSocket round trip against a service that echoes what reached it, so the test
// sees exactly what the host let through.
const seen: unknown[] = [];
const service: NpgApi = {
  inspect: async (req) => {
    seen.push(req);
    return {
      ok: true,
      value: { mode: 'none', layout: 'unknown', backend: 'unknown', nodePorts: [], warnings: [] },
    };
  },
  trace: async () => ({ ok: true, value: { outcomes: [] } }),
};

let dir: string;
let host: WebHost;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'npg-web-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  host = await startWebHost({ dispatch: createDispatcher(service), staticDir: dir, token: 'tok' });
});
afterAll(async () => {
  await host.close();
  rmSync(dir, { recursive: true, force: true });
});

const base = () => new URL(host.url).origin;

function call(url: string, msg: unknown, headers: Record<string, string> = {}): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => ws.send(JSON.stringify(msg)));
    ws.on('message', (d) => {
      resolve(JSON.parse(String(d)));
      ws.close();
    });
    ws.on('error', reject);
  });
}

describe('web host', () => {
  it('binds to loopback and serves the UI with a CSP', async () => {
    expect(new URL(host.url).hostname).toBe('127.0.0.1');
    const res = await fetch(`${base()}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('does not serve files outside its folder', async () => {
    const res = await fetch(`${base()}/..%2f..%2fetc%2fpasswd`);
    expect([403, 404]).toContain(res.status);
  });

  it('refuses a WebSocket without the token or from another origin', async () => {
    await expect(call(`${base().replace('http', 'ws')}/api`, {})).rejects.toThrow(/403/);
    await expect(
      call(`${base().replace('http', 'ws')}/api?token=tok`, {}, { origin: 'http://evil.example' }),
    ).rejects.toThrow(/403/);
  });

  it('validates payloads before the service sees them', async () => {
    seen.length = 0;
    const url = `${base().replace('http', 'ws')}/api?token=tok`;
    const bad = (await call(url, { id: 1, method: 'inspect', payload: { text: 42 } })) as {
      result: ApiResult<unknown>;
    };
    expect(bad.result.ok).toBe(false);
    expect(!bad.result.ok && bad.result.error.message).toMatch(/^inspect: text: /);
    const unknown = (await call(url, { id: 2, method: 'rm -rf', payload: {} })) as {
      result: ApiResult<unknown>;
    };
    expect(!unknown.result.ok && unknown.result.error.code).toBe('unknown-method');
    expect(seen).toEqual([]);
    const good = (await call(url, { id: 3, method: 'inspect', payload: { text: '*nat\nCOMMIT\n' } })) as {
      id: number;
      result: ApiResult<unknown>;
    };
    expect(good.id).toBe(3);
    expect(good.result.ok).toBe(true);
    expect(seen).toEqual([{ text: '*nat\nCOMMIT\n' }]);
  });
});
