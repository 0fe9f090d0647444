// The dispatcher is the one checked entry point of every transport: method and payload are checked
// against the contract before the service sees them, events are checked before they leave, and a
// service that throws becomes an error result (cancelled when the call's signal aborted).
import { describe, expect, it } from 'vitest';
import type { ApiEvent, EngineApi, EngineCall, ParsedRequestOf } from '../../shared/api.js';
import { createDispatcher } from './dispatch';

/** A service with only the methods a test uses; the dispatcher never calls the others. */
function fake(methods: Partial<Record<keyof EngineApi, (req: never, call: EngineCall) => unknown>>) {
  return methods as unknown as EngineApi;
}

const planEvent: ApiEvent = { kind: 'phase', phase: 'planned', detail: 'planned 3 nodes' };

describe('createDispatcher', () => {
  it('answers unknown-method for a method the contract does not name, and never calls the service', async () => {
    let called = false;
    const dispatch = createDispatcher(
      fake({
        history: async () => {
          called = true;
          return { ok: true, value: { entries: [], warnings: [] } };
        },
      }),
    );
    const r = await dispatch('deleteEverything', {});
    expect(r).toEqual({
      ok: false,
      error: { code: 'unknown-method', message: 'unknown API method: deleteEverything' },
    });
    const proto = await dispatch('toString', {});
    expect(proto.ok || proto.error.code).toBe('unknown-method');
    const notString = await dispatch(42, {});
    expect(notString.ok || notString.error.code).toBe('unknown-method');
    expect(called).toBe(false);
  });

  it('answers bad-input naming the method and the field, and never calls the service', async () => {
    let called = false;
    const dispatch = createDispatcher(
      fake({
        setPolicy: async () => {
          called = true;
          return { ok: true, value: null };
        },
      }),
    );
    const r = await dispatch('setPolicy', { port: 70000, allow: [] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('bad-input');
    expect(r.error.message).toMatch(/^setPolicy: port: /);

    const nested = await dispatch('setPolicy', { port: 30001, allow: [{ cidr: '' }] });
    expect(!nested.ok && nested.error.message).toMatch(/^setPolicy: allow\.0\.cidr: /);

    const extra = await dispatch('setPolicy', { port: 30001, allow: [], sneaky: true });
    expect(!extra.ok && extra.error.code).toBe('bad-input');

    const whole = await dispatch('setPolicy', 'not an object');
    expect(!whole.ok && whole.error.message).toMatch(/^setPolicy: request: /);
    expect(called).toBe(false);
  });

  it('hands the service the parsed payload, defaults applied, with a signal and an emit', async () => {
    const seen: ParsedRequestOf<'setPolicy'>[] = [];
    let sawSignal = false;
    const dispatch = createDispatcher(
      fake({
        setPolicy: async (req: ParsedRequestOf<'setPolicy'>, call: EngineCall) => {
          seen.push(req);
          sawSignal = call.signal instanceof AbortSignal && typeof call.emit === 'function';
          return { ok: true, value: 'done' };
        },
      }),
    );
    const r = await dispatch('setPolicy', { port: 30001, allow: [{ cidr: '198.18.100.7', label: 'x' }] });
    expect(r).toEqual({ ok: true, value: 'done' });
    expect(seen).toEqual([{ port: 30001, protocol: 'tcp', allow: [{ cidr: '198.18.100.7', label: 'x' }] }]);
    expect(sawSignal).toBe(true);
  });

  it('forwards valid events to ctx.emit in order, parsed', async () => {
    const events: unknown[] = [];
    const dispatch = createDispatcher(
      fake({
        plan: async (_req: never, call: EngineCall) => {
          call.emit({ kind: 'node', status: { node: 'node1', state: 'connecting' } });
          call.emit(planEvent);
          call.emit({ kind: 'phase', phase: 'done' });
          return { ok: true, value: 'planned' };
        },
      }),
    );
    const r = await dispatch('plan', {}, { emit: (e) => events.push(e) });
    expect(r).toEqual({ ok: true, value: 'planned' });
    expect(events).toEqual([
      { kind: 'node', status: { node: 'node1', state: 'connecting' } },
      planEvent,
      { kind: 'phase', phase: 'done' },
    ]);
  });

  it('fails the call, naming the method, when the service emits an event outside the contract; the event is not forwarded', async () => {
    const events: unknown[] = [];
    let afterEmit = false;
    const dispatch = createDispatcher(
      fake({
        apply: async (_req: never, call: EngineCall) => {
          call.emit(planEvent);
          call.emit({ kind: 'phase', phase: 'exploded' } as unknown as ApiEvent);
          afterEmit = true;
          return { ok: true, value: 'applied' };
        },
      }),
    );
    const r = await dispatch('apply', {}, { emit: (e) => events.push(e) });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('failed');
    expect(r.error.message).toMatch(/^apply: event of apply does not match the contract/);
    expect(events).toEqual([planEvent]);
    expect(afterEmit).toBe(false);
  });

  it('works without ctx (no emit, its own signal)', async () => {
    const dispatch = createDispatcher(
      fake({
        plan: async (_req: never, call: EngineCall) => {
          call.emit(planEvent);
          return { ok: true, value: call.signal.aborted };
        },
      }),
    );
    expect(await dispatch('plan', {})).toEqual({ ok: true, value: false });
  });

  it('answers cancelled when the service throws after the call was aborted', async () => {
    const ctl = new AbortController();
    const dispatch = createDispatcher(
      fake({
        verify: async (_req: never, call: EngineCall) => {
          await new Promise<void>((resolve) => call.signal.addEventListener('abort', () => resolve()));
          throw new Error('connection closed');
        },
      }),
    );
    const pending = dispatch('verify', {}, { signal: ctl.signal });
    ctl.abort();
    expect(await pending).toEqual({ ok: false, error: { code: 'cancelled', message: 'verify: cancelled' } });
  });

  it('answers failed with the method and the message when the service throws otherwise', async () => {
    const dispatch = createDispatcher(
      fake({
        discover: async () => {
          throw new Error('ssh2 exploded');
        },
      }),
    );
    expect(await dispatch('discover', {})).toEqual({
      ok: false,
      error: { code: 'failed', message: 'discover: ssh2 exploded' },
    });
  });

  it('passes a service result through as it is, errors included', async () => {
    const dispatch = createDispatcher(
      fake({
        history: async () => ({ ok: false, error: { code: 'bad-input', message: 'history: no workspace' } }),
      }),
    );
    expect(await dispatch('history', {})).toEqual({
      ok: false,
      error: { code: 'bad-input', message: 'history: no workspace' },
    });
  });
});
