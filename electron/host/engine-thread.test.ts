// The engine in its own thread: the real worker (engine-worker.ts, bundled with esbuild the way
// scripts/build-node.mjs bundles it) answers inspect, bad input and trace by dumpId through
// startEngineThread; small fake workers, speaking the same envelopes, show events, cancellation,
// a crash and its recovery, and close.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiResult, InspectResponse, TraceResponse } from '../../shared/api.js';
import { type EngineThread, startEngineThread } from './engine-thread.js';

const NODE1 = readFileSync('e2e/lab/fixtures/lab-iptables-current-node1.iptables-save.txt', 'utf8');

const CACHE = resolve('node_modules/.cache/npg-test');
let dir = '';
let realWorker = '';

beforeAll(async () => {
  // Inside the repository, so that the bundle's external packages (zod, yaml, ssh2) resolve from
  // its node_modules as dist/electron's do.
  mkdirSync(CACHE, { recursive: true });
  dir = mkdtempSync(join(CACHE, 'engine-thread-'));
  realWorker = join(dir, 'engine-worker.cjs');
  await build({
    entryPoints: ['electron/host/engine-worker.ts'],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    outfile: realWorker,
    logLevel: 'warning',
  });
}, 30_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a fake engine worker: `onCall(msg, post)` runs for every call message. */
function fakeWorker(name: string, onCall: string): string {
  const file = join(dir, `${name}.cjs`);
  writeFileSync(
    file,
    `const { parentPort } = require('node:worker_threads');
     const post = (m) => parentPort.postMessage(m);
     const waiting = new Map();
     parentPort.on('message', (msg) => {
       if (msg.close) return process.exit(0);
       if ('cancel' in msg) {
         const w = waiting.get(msg.cancel);
         if (w) w();
         return;
       }
       (${onCall})(msg, post, waiting);
     });`,
  );
  return file;
}

interface Started {
  readonly thread: EngineThread;
  readonly workers: Worker[];
  readonly logged: string[];
}

const running: EngineThread[] = [];
afterAll(async () => {
  await Promise.all(running.map((t) => t.close()));
});

function start(file: string, workerData: unknown = {}): Started {
  const workers: Worker[] = [];
  const logged: string[] = [];
  const thread = startEngineThread({
    spawn: () => {
      const w = new Worker(file, { workerData });
      workers.push(w);
      return w;
    },
    log: (line) => logged.push(line),
  });
  running.push(thread);
  return { thread, workers, logged };
}

function value<T>(r: ApiResult<unknown>): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value as T;
}

const exitOf = (w: Worker) => new Promise<number>((resolve) => w.once('exit', resolve));

describe('startEngineThread with the real engine worker', () => {
  it('inspects a real dump in the worker, then traces it by its dumpId', async () => {
    const { thread } = start(realWorker);
    const inspected = value<InspectResponse>(await thread.dispatch('inspect', { text: NODE1 }));
    expect(inspected.mode).toBe('iptables');
    const ports = inspected.nodePorts.map((p) => `${p.port}/${p.protocol}`);
    expect(ports).toEqual(expect.arrayContaining(['30001/tcp', '30002/udp']));

    const traced = value<TraceResponse>(
      await thread.dispatch('trace', {
        source: { dumpId: inspected.dumpId },
        src: '198.18.100.13',
        dst: '198.18.0.11',
        dport: 30001,
      }),
    );
    expect(traced.outcomes.length).toBeGreaterThan(0);
    expect(traced.outcomes.every((o) => o.verdict === 'dnat')).toBe(true);
  });

  it('answers a bad payload and an unknown method as data, as the dispatcher does', async () => {
    const { thread } = start(realWorker);
    const bad = await thread.dispatch('inspect', { text: 42 });
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad-input' } });
    expect(bad.ok ? '' : bad.error.message).toMatch(/^inspect: text: /);
    expect(await thread.dispatch('rm -rf', {})).toMatchObject({
      ok: false,
      error: { code: 'unknown-method' },
    });
    const unknownDump = await thread.dispatch('trace', {
      source: { dumpId: 'gone' },
      src: '198.18.100.13',
      dst: '198.18.0.11',
      dport: 30001,
    });
    expect(unknownDump).toMatchObject({ ok: false, error: { code: 'bad-input' } });
  });

  it('passes workerData on: startWorkspace answers the path main was started with', async () => {
    const { thread } = start(realWorker, { startWorkspace: '/tmp/cluster.yaml' });
    expect(await thread.dispatch('startWorkspace', {})).toEqual({
      ok: true,
      value: '/tmp/cluster.yaml',
    });
  });

  it('close() closes the engine and ends the worker; later calls fail', async () => {
    const { thread, workers } = start(realWorker);
    expect((await thread.dispatch('startWorkspace', {})).ok).toBe(true);
    const exited = exitOf(workers[0]!);
    await thread.close();
    expect(await exited).toBe(0);
    expect(await thread.dispatch('startWorkspace', {})).toMatchObject({
      ok: false,
      error: { code: 'failed', message: 'startWorkspace: the engine is closed' },
    });
    expect(workers).toHaveLength(1);
  });
});

describe('startEngineThread with fake workers', () => {
  it("forwards a call's events to ctx.emit, in order, before its one result", async () => {
    const file = fakeWorker(
      'events',
      `(msg, post) => {
         for (let i = 1; i <= 3; i++) post({ id: msg.id, event: { n: i, method: msg.method } });
         post({ id: msg.id, result: { ok: true, value: 'done' } });
       }`,
    );
    const { thread } = start(file);
    const seen: unknown[] = [];
    const r = await thread.dispatch('discover', {}, { emit: (e) => seen.push(e) });
    expect(r).toEqual({ ok: true, value: 'done' });
    expect(seen).toEqual([1, 2, 3].map((n) => ({ n, method: 'discover' })));
  });

  it('keeps concurrent calls apart by id', async () => {
    const file = fakeWorker(
      'echo',
      `(msg, post) => setTimeout(() => post({ id: msg.id, result: { ok: true, value: msg.payload } }),
         msg.payload.delay)`,
    );
    const { thread } = start(file);
    const rs = await Promise.all([30, 0, 15].map((delay) => thread.dispatch('inspect', { delay })));
    expect(rs.map((r) => value<{ delay: number }>(r).delay)).toEqual([30, 0, 15]);
  });

  it('cancels through {cancel: id}: the worker answers cancelled', async () => {
    const file = fakeWorker(
      'cancel',
      `(msg, post, waiting) => {
         post({ id: msg.id, event: 'started' });
         waiting.set(msg.id, () =>
           post({ id: msg.id, result: { ok: false, error: { code: 'cancelled', message: msg.method + ': cancelled' } } }));
       }`,
    );
    const { thread } = start(file);
    const controller = new AbortController();
    const pending = thread.dispatch(
      'verify',
      {},
      {
        signal: controller.signal,
        emit: () => controller.abort(),
      },
    );
    expect(await pending).toEqual({ ok: false, error: { code: 'cancelled', message: 'verify: cancelled' } });

    // Already aborted when the call starts: the cancel follows the call.
    const early = new AbortController();
    early.abort();
    expect(await thread.dispatch('watch', {}, { signal: early.signal })).toMatchObject({
      ok: false,
      error: { code: 'cancelled' },
    });
  });

  it('a worker that dies settles its calls as failed, in one line, and the next call starts a new one', async () => {
    const file = fakeWorker(
      'crash',
      `(msg, post) => {
         if (msg.method === 'discover') return;
         if (msg.method === 'apply') process.exit(3);
         if (msg.method === 'plan') throw new Error('boom\\nat somewhere');
         post({ id: msg.id, result: { ok: true, value: 'fine' } });
       }`,
    );
    const { thread, workers, logged } = start(file);
    const slow = thread.dispatch('discover', {}); // never answered by this fake: it dies first
    const crashed = await thread.dispatch('apply', {});
    expect(crashed).toEqual({
      ok: false,
      error: { code: 'failed', message: 'the engine stopped: its thread exited with code 3' },
    });
    expect(await slow).toEqual(crashed);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/^NodePort Guard: the engine stopped \(.*code 3\)/);

    expect(await thread.dispatch('history', {})).toEqual({ ok: true, value: 'fine' });
    expect(workers).toHaveLength(2);

    // An uncaught error in the worker: its first line is the reason.
    const thrown = await thread.dispatch('plan', {});
    expect(thrown).toEqual({ ok: false, error: { code: 'failed', message: 'the engine stopped: boom' } });
    expect(logged).toHaveLength(2);
    expect(await thread.dispatch('history', {})).toEqual({ ok: true, value: 'fine' });
    expect(workers).toHaveLength(3);
  });

  it('a worker that cannot start fails the call and is retried on the next', async () => {
    let spawns = 0;
    const logged: string[] = [];
    const good = fakeWorker('good', `(msg, post) => post({ id: msg.id, result: { ok: true, value: 1 } })`);
    const thread = startEngineThread({
      spawn: () => new Worker(spawns++ === 0 ? join(dir, 'missing.cjs') : good),
      log: (line) => logged.push(line),
    });
    running.push(thread);
    const r = await thread.dispatch('history', {});
    expect(r).toMatchObject({ ok: false, error: { code: 'failed' } });
    expect(r.ok ? '' : r.error.message).toMatch(/^the engine stopped: Cannot find module/);
    expect(r.ok ? '' : r.error.message).not.toContain('\n');
    expect(await thread.dispatch('history', {})).toEqual({ ok: true, value: 1 });
  });

  it('a result that breaks the envelope still ends its call, as failed', async () => {
    const file = fakeWorker(
      'malformed',
      `(msg, post) => post({ id: msg.id, result: { ok: false, error: { code: 'failed', message: 'x'.repeat(5000) } } })`,
    );
    const logged: string[] = [];
    const thread = startEngineThread({ spawn: () => new Worker(file), log: (l) => logged.push(l) });
    running.push(thread);
    expect(await thread.dispatch('history', {})).toEqual({
      ok: false,
      error: { code: 'failed', message: 'the engine sent a malformed result' },
    });
    expect(logged).toEqual(['NodePort Guard: the engine sent a malformed message; dropped']);
  });

  it('a request that cannot be cloned fails without reaching the worker', async () => {
    const file = fakeWorker('clone', `(msg, post) => post({ id: msg.id, result: { ok: true, value: 1 } })`);
    const { thread } = start(file);
    const r = await thread.dispatch('inspect', { text: () => 1 });
    expect(r).toMatchObject({ ok: false, error: { code: 'failed' } });
    expect(r.ok ? '' : r.error.message).toMatch(/^inspect: the request cannot be sent: /);
    expect(await thread.dispatch('inspect', { text: '' })).toEqual({ ok: true, value: 1 });
  });

  it('close() settles calls in flight and ends a worker that ignores close in time', async () => {
    // Answers nothing and ignores {close: true}: close() must terminate it after its timeout.
    const file = join(dir, 'stubborn.cjs');
    writeFileSync(file, `require('node:worker_threads').parentPort.on('message', () => {});`);
    const workers: Worker[] = [];
    const thread = startEngineThread({
      spawn: () => {
        const w = new Worker(file);
        workers.push(w);
        return w;
      },
      closeTimeoutMs: 100,
      log: () => undefined,
    });
    const inFlight = thread.dispatch('discover', {});
    await new Promise((r) => setTimeout(r, 20));
    const exited = exitOf(workers[0]!);
    await thread.close();
    await exited;
    expect(await inFlight).toMatchObject({ ok: false, error: { code: 'failed' } });
  });
});
