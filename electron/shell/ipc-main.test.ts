// host/ipc-main.ts against a fake ipcMain and fake webContents (Electron cannot run here): the
// sender checks, streaming, cancel, and clean-up when a window closes, reloads or is unregistered.
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CallContext } from '../../shared/api/wire.js';
import type { ApiResult } from '../../shared/api.js';
import { apiMethods } from '../../shared/api.js';
import type { Dispatch } from '../host/dispatch.js';

type Handler = (event: unknown, arg: unknown) => unknown;

const fake = vi.hoisted(() => {
  const handlers = new Map<string, Handler>();
  const listeners = new Map<string, Set<Handler>>();
  const ipcMain = {
    handle(channel: string, fn: Handler) {
      if (handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
      handlers.set(channel, fn);
    },
    removeHandler(channel: string) {
      handlers.delete(channel);
    },
    on(channel: string, fn: Handler) {
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel)!.add(fn);
    },
    removeListener(channel: string, fn: Handler) {
      listeners.get(channel)?.delete(fn);
    },
  };
  return { handlers, listeners, ipcMain };
});

vi.mock('electron', () => ({ ipcMain: fake.ipcMain }));

const { registerIpcApi } = await import('../host/ipc-main.js');

const APP = 'file:///opt/npg/dist/renderer/index.html';

class FakeContents extends EventEmitter {
  static next = 1;
  readonly id = FakeContents.next++;
  readonly mainFrame = { url: APP };
  readonly sent: { channel: string; message: unknown }[] = [];
  destroyed = false;
  isDestroyed() {
    return this.destroyed;
  }
  send(channel: string, message: unknown) {
    this.sent.push({ channel, message });
  }
  destroy() {
    this.destroyed = true;
    this.emit('destroyed');
  }
}

const fromTop = (wc: FakeContents) => ({ sender: wc, senderFrame: wc.mainFrame });

function controllableDispatch() {
  const calls: { method: unknown; ctx: Partial<CallContext>; settle: (r: ApiResult<unknown>) => void }[] = [];
  const dispatch: Dispatch = (method, _payload, ctx = {}) =>
    new Promise((settle) => calls.push({ method, ctx, settle }));
  return { dispatch, calls };
}

const invoke = (channel: string, event: unknown, arg: unknown) => {
  const h = fake.handlers.get(channel);
  if (!h) throw new Error(`no handler for ${channel}`);
  return Promise.resolve(h(event, arg)) as Promise<ApiResult<unknown>>;
};
const sendCancel = (event: unknown, callId: unknown) => {
  for (const l of fake.listeners.get('npg:cancel') ?? []) l(event, callId);
};
const tick = () => new Promise((r) => setTimeout(r, 0));

let unregister: (() => void) | undefined;
afterEach(() => {
  unregister?.();
  unregister = undefined;
});

describe('registerIpcApi', () => {
  it('registers one invoke channel per API method and the cancel listener; unregister removes them', () => {
    unregister = registerIpcApi(controllableDispatch().dispatch, APP);
    expect([...fake.handlers.keys()].sort()).toEqual(apiMethods.map((m) => `npg:${m}`).sort());
    expect(fake.listeners.get('npg:cancel')?.size).toBe(1);
    unregister();
    unregister = undefined;
    expect(fake.handlers.size).toBe(0);
    expect(fake.listeners.get('npg:cancel')?.size).toBe(0);
  });

  it('dispatches a call from our top frame and streams its events to that webContents', async () => {
    const { dispatch, calls } = controllableDispatch();
    unregister = registerIpcApi(dispatch, APP);
    const wc = new FakeContents();
    const result = invoke('npg:inspect', fromTop(wc), { callId: 1, payload: { text: '' } });
    await tick();
    expect(calls[0]!.method).toBe('inspect');
    calls[0]!.ctx.emit!({ kind: 'progress' });
    expect(wc.sent).toEqual([{ channel: 'npg:event', message: { callId: 1, event: { kind: 'progress' } } }]);
    calls[0]!.settle({ ok: true, value: 42 });
    await expect(result).resolves.toEqual({ ok: true, value: 42 });
  });

  it.each([
    ['a subframe showing our URL', (wc: FakeContents) => ({ sender: wc, senderFrame: { url: APP } })],
    [
      'a foreign page in the top frame',
      (wc: FakeContents) => {
        wc.mainFrame.url = 'https://evil.example/';
        return fromTop(wc);
      },
    ],
    ['a frame that is gone (null)', (wc: FakeContents) => ({ sender: wc, senderFrame: null })],
    [
      'a frame whose url throws (disposed)',
      (wc: FakeContents) => ({
        sender: wc,
        get senderFrame() {
          throw new Error('Render frame was disposed');
        },
      }),
    ],
  ])('refuses %s with an error result, never a throw, and never dispatches', async (_what, eventFor) => {
    const { dispatch, calls } = controllableDispatch();
    unregister = registerIpcApi(dispatch, APP);
    const wc = new FakeContents();
    const r = await invoke('npg:inspect', eventFor(wc), { callId: 1, payload: {} });
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'bad-input', message: expect.stringMatching(/refused/) },
    });
    expect(calls).toHaveLength(0);
  });

  it('refuses a malformed message as a result', async () => {
    unregister = registerIpcApi(controllableDispatch().dispatch, APP);
    const wc = new FakeContents();
    await expect(invoke('npg:inspect', fromTop(wc), { callId: 0 })).resolves.toMatchObject({ ok: false });
    await expect(invoke('npg:inspect', fromTop(wc), 'x')).resolves.toMatchObject({ ok: false });
  });

  it('npg:cancel aborts the call of that webContents only, and only from a trusted frame', async () => {
    const { dispatch, calls } = controllableDispatch();
    unregister = registerIpcApi(dispatch, APP);
    const a = new FakeContents();
    const b = new FakeContents();
    void invoke('npg:apply', fromTop(a), { callId: 1, payload: {} });
    void invoke('npg:apply', fromTop(b), { callId: 1, payload: {} });
    await tick();
    sendCancel({ sender: a, senderFrame: { url: APP } }, 1); // a subframe: ignored
    sendCancel(fromTop(a), 'one'); // malformed: ignored
    expect(calls[0]!.ctx.signal!.aborted).toBe(false);
    sendCancel(fromTop(a), 1);
    expect(calls[0]!.ctx.signal!.aborted).toBe(true);
    expect(calls[1]!.ctx.signal!.aborted).toBe(false);
  });

  it('a closed, reloaded or crashed window aborts its calls; a reloaded page may reuse ids', async () => {
    const { dispatch, calls } = controllableDispatch();
    unregister = registerIpcApi(dispatch, APP);
    const wc = new FakeContents();
    void invoke('npg:discover', fromTop(wc), { callId: 1, payload: {} });
    await tick();
    wc.emit('did-navigate');
    expect(calls[0]!.ctx.signal!.aborted).toBe(true);
    calls[0]!.ctx.emit!('stale'); // never reaches the new page
    expect(wc.sent).toEqual([]);
    void invoke('npg:discover', fromTop(wc), { callId: 1, payload: {} });
    await tick();
    expect(calls).toHaveLength(2);
    wc.emit('render-process-gone');
    expect(calls[1]!.ctx.signal!.aborted).toBe(true);
    void invoke('npg:discover', fromTop(wc), { callId: 2, payload: {} });
    await tick();
    wc.destroy();
    expect(calls[2]!.ctx.signal!.aborted).toBe(true);
    // One set of listeners per webContents, however many calls it made.
    expect(wc.listenerCount('did-navigate')).toBe(1);
  });

  it('unregister aborts calls in flight and detaches from the webContents', async () => {
    const { dispatch, calls } = controllableDispatch();
    unregister = registerIpcApi(dispatch, APP);
    const wc = new FakeContents();
    void invoke('npg:plan', fromTop(wc), { callId: 1, payload: {} });
    await tick();
    unregister();
    unregister = undefined;
    expect(calls[0]!.ctx.signal!.aborted).toBe(true);
    expect(wc.listenerCount('did-navigate')).toBe(0);
    expect(wc.listenerCount('destroyed')).toBe(0);
  });
});
