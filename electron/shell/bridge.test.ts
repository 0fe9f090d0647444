import { describe, expect, it } from 'vitest';
import { apiMethods } from '../../shared/api.js';
import { type CallFn, createBridge, type IpcRendererLike } from './bridge.js';
import { CANCEL_CHANNEL, EVENT_CHANNEL, MENU_CHANNEL } from './channels.js';

/** A fake ipcRenderer: invoke calls stay pending until the test replies. */
function fakeIpc() {
  const listeners = new Map<string, ((event: unknown, ...args: unknown[]) => void)[]>();
  const invoked: {
    channel: string;
    args: unknown[];
    reply: (v: unknown) => void;
    fail: (e: Error) => void;
  }[] = [];
  const sent: { channel: string; args: unknown[] }[] = [];
  const ipc: IpcRendererLike = {
    invoke: (channel, ...args) => new Promise((reply, fail) => invoked.push({ channel, args, reply, fail })),
    send: (channel, ...args) => {
      sent.push({ channel, args });
    },
    on: (channel, listener) => {
      listeners.set(channel, [...(listeners.get(channel) ?? []), listener]);
      return ipc;
    },
  };
  const ipcEvent = { sender: 'ipcRenderer itself', senderId: 0 };
  const emit = (channel: string, msg: unknown) => {
    for (const l of listeners.get(channel) ?? []) l(ipcEvent, msg);
  };
  return { ipc, invoked, sent, listeners, emit };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('preload bridge (window.npg)', () => {
  it('exposes one function per method plus cancel and onMenu, frozen, and no IPC object', () => {
    const { ipc, listeners } = fakeIpc();
    const npg = createBridge(ipc, ['inspect', 'trace']);
    expect(Object.keys(npg).sort()).toEqual(['cancel', 'inspect', 'onMenu', 'trace']);
    expect(Object.isFrozen(npg)).toBe(true);
    for (const v of Object.values(npg)) expect(typeof v).toBe('function');
    expect(Object.values(npg)).not.toContain(ipc);
    // Exactly one listener per channel, installed once.
    expect(listeners.get(EVENT_CHANNEL)).toHaveLength(1);
    expect(listeners.get(MENU_CHANNEL)).toHaveLength(1);
  });

  it('refuses method names that collide with the bridge functions; the real contract has none', () => {
    expect(() => createBridge(fakeIpc().ipc, ['inspect', 'cancel'])).toThrow(/collides/);
    expect(() => createBridge(fakeIpc().ipc, ['inspect', 'inspect'])).toThrow(/collides/);
    const npg = createBridge(fakeIpc().ipc, apiMethods);
    expect(Object.keys(npg).sort()).toEqual([...apiMethods, 'cancel', 'onMenu'].sort());
  });

  it('invokes npg:<method> with {callId, payload} and routes events by call id until the call settles', async () => {
    const { ipc, invoked, emit } = fakeIpc();
    const npg = createBridge(ipc, ['inspect']);
    const inspect = npg.inspect as CallFn;
    const eventsA: unknown[] = [];
    const eventsB: unknown[] = [];
    const a = inspect({ text: 'x' }, 1, (e) => eventsA.push(e));
    const b = inspect({ text: 'y' }, 2, (e) => eventsB.push(e));
    await tick();
    expect(invoked.map((c) => [c.channel, c.args])).toEqual([
      ['npg:inspect', [{ callId: 1, payload: { text: 'x' } }]],
      ['npg:inspect', [{ callId: 2, payload: { text: 'y' } }]],
    ]);
    emit(EVENT_CHANNEL, { callId: 1, event: 'a1' });
    emit(EVENT_CHANNEL, { callId: 2, event: 'b1' });
    emit(EVENT_CHANNEL, { callId: 3, event: 'nobody' });
    emit(EVENT_CHANNEL, 'garbage');
    emit(EVENT_CHANNEL, { callId: -1, event: 'bad id' });
    invoked[0]!.reply({ ok: true, value: 'A' });
    await expect(a).resolves.toEqual({ ok: true, value: 'A' });
    emit(EVENT_CHANNEL, { callId: 1, event: 'after settle' });
    emit(EVENT_CHANNEL, { callId: 2, event: 'b2' });
    invoked[1]!.reply({ ok: true, value: 'B' });
    await b;
    expect(eventsA).toEqual(['a1']);
    expect(eventsB).toEqual(['b1', 'b2']);
    // The id is free again once settled.
    const again = inspect({}, 1);
    await tick();
    invoked[2]!.reply({ ok: true, value: null });
    await expect(again).resolves.toMatchObject({ ok: true });
  });

  it('refuses a bad or duplicate call id without invoking, and never rejects', async () => {
    const { ipc, invoked } = fakeIpc();
    const inspect = createBridge(ipc, ['inspect']).inspect as CallFn;
    for (const id of [0, -1, 1.5, Number.NaN, 2 ** 53, '1' as unknown as number]) {
      await expect(inspect({}, id)).resolves.toMatchObject({ ok: false, error: { code: 'bad-input' } });
    }
    await expect(inspect({}, 1, 'no' as unknown as () => void)).resolves.toMatchObject({ ok: false });
    void inspect({}, 5);
    await expect(inspect({}, 5)).resolves.toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/in flight/) },
    });
    await tick();
    expect(invoked).toHaveLength(1);
    invoked[0]!.fail(new Error("Error invoking remote method 'npg:inspect': boom"));
  });

  it('turns an invoke rejection or a malformed reply into a failed result', async () => {
    const { ipc, invoked } = fakeIpc();
    const inspect = createBridge(ipc, ['inspect']).inspect as CallFn;
    const a = inspect({}, 1);
    const b = inspect({}, 2);
    await tick();
    invoked[0]!.fail(new Error('No handler registered'));
    invoked[1]!.reply('not a result');
    await expect(a).resolves.toEqual({
      ok: false,
      error: { code: 'failed', message: 'inspect: No handler registered' },
    });
    await expect(b).resolves.toMatchObject({ ok: false, error: { code: 'failed' } });
  });

  it('a throwing progress listener does not stop the call', async () => {
    const { ipc, invoked, emit } = fakeIpc();
    const inspect = createBridge(ipc, ['inspect']).inspect as CallFn;
    const errors = console.error;
    console.error = () => {};
    try {
      const p = inspect({}, 1, () => {
        throw new Error('listener bug');
      });
      await tick();
      expect(() => emit(EVENT_CHANNEL, { callId: 1, event: 1 })).not.toThrow();
      invoked[0]!.reply({ ok: true, value: 1 });
      await expect(p).resolves.toEqual({ ok: true, value: 1 });
    } finally {
      console.error = errors;
    }
  });

  it('cancel sends only a valid call id on npg:cancel', () => {
    const { ipc, sent } = fakeIpc();
    const npg = createBridge(ipc, ['inspect']);
    npg.cancel(3);
    npg.cancel(0);
    npg.cancel('3' as unknown as number);
    expect(sent).toEqual([{ channel: CANCEL_CHANNEL, args: [3] }]);
  });

  it('onMenu delivers valid menu actions (never the IPC event) until unsubscribed', () => {
    const { ipc, emit } = fakeIpc();
    const npg = createBridge(ipc, []);
    const got: unknown[] = [];
    const cb = (m: unknown) => got.push(m);
    const off1 = npg.onMenu(cb);
    const off2 = npg.onMenu(cb);
    emit(MENU_CHANNEL, { action: 'open-workspace' });
    emit(MENU_CHANNEL, { action: 'rm -rf' });
    emit(MENU_CHANNEL, null);
    expect(got).toEqual([{ action: 'open-workspace' }, { action: 'open-workspace' }]);
    off1();
    emit(MENU_CHANNEL, { action: 'shortcuts' });
    expect(got).toHaveLength(3);
    off2();
    off2();
    emit(MENU_CHANNEL, { action: 'shortcuts' });
    expect(got).toEqual([
      { action: 'open-workspace' },
      { action: 'open-workspace' },
      { action: 'shortcuts' },
    ]);
    expect(typeof npg.onMenu('x' as unknown as () => void)).toBe('function');
  });
});
