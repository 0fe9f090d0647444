import { describe, expect, it } from 'vitest';
import type { CallContext } from '../../shared/api/wire.js';
import type { ApiResult } from '../../shared/api.js';
import type { Dispatch } from '../host/dispatch.js';
import { CallRegistry, type CallSender, isCallId, parseCallMessage, runCall } from './call-registry.js';
import { EVENT_CHANNEL } from './channels.js';

function fakeSender(id = 7) {
  const sent: { channel: string; message: unknown }[] = [];
  let destroyed = false;
  const sender: CallSender = {
    id,
    isDestroyed: () => destroyed,
    send: (channel, message) => {
      sent.push({ channel, message });
    },
  };
  return { sender, sent, destroy: () => (destroyed = true) };
}

/** A dispatch whose calls stay open until the test settles them, exposing each call's context. */
function controllableDispatch() {
  const calls: {
    method: unknown;
    payload: unknown;
    ctx: Partial<CallContext> | undefined;
    settle: (r: ApiResult<unknown>) => void;
  }[] = [];
  const dispatch: Dispatch = (method, payload, ctx) =>
    new Promise((settle) => calls.push({ method, payload, ctx, settle }));
  return { dispatch, calls };
}

const ok = (value: unknown): ApiResult<unknown> => ({ ok: true, value });

describe('call message validation', () => {
  it('accepts {callId, payload} with a positive safe integer id', () => {
    expect(parseCallMessage('inspect', { callId: 1, payload: { a: 1 } })).toEqual({
      ok: true,
      value: { callId: 1, payload: { a: 1 } },
    });
    expect(parseCallMessage('inspect', { callId: Number.MAX_SAFE_INTEGER })).toMatchObject({ ok: true });
  });

  it.each([
    ['no object', 5],
    ['null', null],
    ['an array', [1, {}]],
    ['a missing id', { payload: {} }],
    ['id 0', { callId: 0, payload: {} }],
    ['a negative id', { callId: -1, payload: {} }],
    ['a fractional id', { callId: 1.5, payload: {} }],
    ['an unsafe id', { callId: 2 ** 53, payload: {} }],
    ['a string id', { callId: '1', payload: {} }],
    ['NaN', { callId: Number.NaN, payload: {} }],
    ['an extra field', { callId: 1, payload: {}, method: 'apply' }],
  ])('refuses %s as a bad-input result', (_what, msg) => {
    const r = parseCallMessage('inspect', msg);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('bad-input');
      expect(r.error.message).toMatch(/^IPC inspect: /);
      expect(r.error.message).not.toContain('\n');
    }
  });

  it('isCallId', () => {
    expect(isCallId(3)).toBe(true);
    expect(isCallId(Infinity)).toBe(false);
    expect(isCallId(undefined)).toBe(false);
  });
});

describe('CallRegistry', () => {
  it('keys calls by sender and call id, refusing a duplicate in flight', () => {
    const reg = new CallRegistry();
    const a = reg.start(1, 1);
    expect(a).toBeDefined();
    expect(reg.start(1, 1)).toBeUndefined();
    expect(reg.start(2, 1)).toBeDefined(); // another window may use the same id
    expect(reg.size()).toBe(2);
    reg.finish(1, 1, a!);
    expect(reg.size(1)).toBe(0);
    expect(reg.start(1, 1)).toBeDefined(); // free again once settled
  });

  it('cancel aborts one call and keeps it registered until it settles', () => {
    const reg = new CallRegistry();
    const a = reg.start(1, 1)!;
    const b = reg.start(1, 2)!;
    expect(reg.cancel(1, 1)).toBe(true);
    expect(a.signal.aborted).toBe(true);
    expect(b.signal.aborted).toBe(false);
    expect(reg.start(1, 1)).toBeUndefined();
    expect(reg.cancel(1, 99)).toBe(false);
    expect(reg.cancel(2, 2)).toBe(false); // another sender cannot cancel it
    expect(b.signal.aborted).toBe(false);
  });

  it('cancelAll aborts and drops every call of one sender only', () => {
    const reg = new CallRegistry();
    const a = reg.start(1, 1)!;
    const b = reg.start(1, 2)!;
    const other = reg.start(2, 1)!;
    expect(reg.cancelAll(1)).toBe(2);
    expect([a.signal.aborted, b.signal.aborted, other.signal.aborted]).toEqual([true, true, false]);
    expect(reg.size(1)).toBe(0);
    // A reloaded page may reuse id 1 at once; the stale call's finish must not drop the new one.
    const fresh = reg.start(1, 1)!;
    reg.finish(1, 1, a);
    expect(reg.size(1)).toBe(1);
    reg.finish(1, 1, fresh);
    expect(reg.size(1)).toBe(0);
    expect(reg.cancelEverything()).toBe(1);
    expect(other.signal.aborted).toBe(true);
    expect(reg.size()).toBe(0);
  });
});

describe('runCall', () => {
  it('dispatches with a signal and streams events to the sender, tagged with the call id', async () => {
    const reg = new CallRegistry();
    const { dispatch, calls } = controllableDispatch();
    const { sender, sent } = fakeSender();
    const result = runCall({
      registry: reg,
      dispatch,
      sender,
      method: 'inspect',
      msg: { callId: 4, payload: 'p' },
    });
    await Promise.resolve();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.method).toBe('inspect');
    expect(calls[0]!.payload).toBe('p');
    calls[0]!.ctx!.emit!({ progress: 1 });
    calls[0]!.ctx!.emit!({ progress: 2 });
    expect(sent).toEqual([
      { channel: EVENT_CHANNEL, message: { callId: 4, event: { progress: 1 } } },
      { channel: EVENT_CHANNEL, message: { callId: 4, event: { progress: 2 } } },
    ]);
    expect(reg.size(7)).toBe(1);
    calls[0]!.settle(ok('done'));
    await expect(result).resolves.toEqual(ok('done'));
    expect(reg.size()).toBe(0);
  });

  it('refuses a malformed message or a duplicate id without dispatching', async () => {
    const reg = new CallRegistry();
    const { dispatch, calls } = controllableDispatch();
    const { sender } = fakeSender();
    const bad = await runCall({ registry: reg, dispatch, sender, method: 'inspect', msg: { callId: -3 } });
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad-input' } });
    void runCall({ registry: reg, dispatch, sender, method: 'inspect', msg: { callId: 1 } });
    const dup = await runCall({ registry: reg, dispatch, sender, method: 'trace', msg: { callId: 1 } });
    expect(dup).toMatchObject({
      ok: false,
      error: { code: 'bad-input', message: expect.stringMatching(/in flight/) },
    });
    await Promise.resolve();
    expect(calls).toHaveLength(1);
  });

  it('a cancelled call aborts its signal and stops streaming; its result still arrives', async () => {
    const reg = new CallRegistry();
    const { dispatch, calls } = controllableDispatch();
    const { sender, sent } = fakeSender();
    const result = runCall({
      registry: reg,
      dispatch,
      sender,
      method: 'apply',
      msg: { callId: 9, payload: {} },
    });
    await Promise.resolve();
    const ctx = calls[0]!.ctx!;
    expect(reg.cancel(7, 9)).toBe(true);
    expect(ctx.signal!.aborted).toBe(true);
    ctx.emit!({ late: true });
    expect(sent).toEqual([]);
    calls[0]!.settle({ ok: false, error: { code: 'cancelled', message: 'apply: cancelled' } });
    await expect(result).resolves.toMatchObject({ ok: false, error: { code: 'cancelled' } });
    expect(reg.size()).toBe(0);
  });

  it('sends nothing to a destroyed sender, and a sender that throws does not break the call', async () => {
    const reg = new CallRegistry();
    const { dispatch, calls } = controllableDispatch();
    const { sender, sent, destroy } = fakeSender();
    const result = runCall({ registry: reg, dispatch, sender, method: 'inspect', msg: { callId: 1 } });
    await Promise.resolve();
    destroy();
    calls[0]!.ctx!.emit!('x');
    expect(sent).toEqual([]);
    const throwing: CallSender = {
      id: 8,
      isDestroyed: () => false,
      send: () => {
        throw new Error('Render frame was disposed');
      },
    };
    const r2 = runCall({ registry: reg, dispatch, sender: throwing, method: 'inspect', msg: { callId: 1 } });
    await Promise.resolve();
    expect(() => calls[1]!.ctx!.emit!('y')).not.toThrow();
    calls[0]!.settle(ok(1));
    calls[1]!.settle(ok(2));
    await expect(result).resolves.toEqual(ok(1));
    await expect(r2).resolves.toEqual(ok(2));
  });

  it('turns a throwing dispatch into a one-line failed result and frees the id', async () => {
    const reg = new CallRegistry();
    const { sender } = fakeSender();
    const dispatch: Dispatch = async () => {
      throw new Error('boom\nstack');
    };
    const r = await runCall({ registry: reg, dispatch, sender, method: 'inspect', msg: { callId: 2 } });
    expect(r).toEqual({ ok: false, error: { code: 'failed', message: 'inspect: boom' } });
    expect(reg.size()).toBe(0);
  });
});
