import { describe, expect, it } from 'vitest';
import { localStore } from '../local-store';
import { policyAllowing } from '../test-support/dumps';
import { fakeSession, loadedWorkspace } from './fake-session.test-support';
import { sleep } from './io';
import {
  checkVerifyRequest,
  runVerify,
  type VerifyEvent,
  verifyExitCode,
  type WatchRound,
  watchVerify,
  worseStatus,
} from './verify';
import { verifyJson, verifyLines, watchJson, watchLines } from './verify-format';

const POLICY = policyAllowing(['198.18.100.10']);
const NODES = ['node1', 'node2'];
const ws = loadedWorkspace(NODES, POLICY);
const store = localStore('/tmp/npg-use-case-test.yaml', '/nonexistent/npg-use-case-test');
const probe = { fromHere: true, timeoutMs: 2000, allAddresses: false } as const;

describe('exit decision', () => {
  it('0 ok, 1 drift, 2 could not check; the worse of rules and probes counts', () => {
    expect([verifyExitCode('ok'), verifyExitCode('drift'), verifyExitCode('error')]).toEqual([0, 1, 2]);
    expect(worseStatus('ok', 'drift')).toBe('drift');
    expect(worseStatus('error', 'drift')).toBe('error');
    expect(worseStatus('drift', 'ok')).toBe('drift');
  });
});

describe('checkVerifyRequest', () => {
  it('accepts no probes, and good probes', () => {
    expect(checkVerifyRequest(ws, {})).toEqual({ ok: true });
    expect(checkVerifyRequest(ws, { probe: { ...probe, fromNode: 'node2', source: '198.18.0.1' } })).toEqual({
      ok: true,
    });
  });

  it("refuses in the CLI's words: unknown node, a source that is not one address or without --probe", () => {
    expect(checkVerifyRequest(ws, { probe: { ...probe, fromNode: 'node9' } })).toEqual({
      ok: false,
      message: '--probe-from "node9": not in the inventory (node1, node2)',
    });
    expect(checkVerifyRequest(ws, { probe: { ...probe, source: '198.18.0.0/16' } })).toEqual({
      ok: false,
      message: '--probe-source "198.18.0.0/16": one IPv4 or IPv6 address',
    });
    expect(
      checkVerifyRequest(ws, { probe: { ...probe, fromHere: false, fromNode: 'node1', source: '::1' } }),
    ).toEqual({ ok: false, message: "--probe-source needs --probe (it is this machine's address)" });
    expect(checkVerifyRequest(ws, { probe: { ...probe, timeoutMs: 500 } }).ok).toBe(false);
  });
});

describe('runVerify (fake fleet)', () => {
  it('a node that cannot be read: error, exit 2, its message a finding; verify events per node', async () => {
    const f = fakeSession(NODES, (n) => (n === 'node2' ? { unreachable: 'node2: refused' } : 'garbage'));
    const events: VerifyEvent[] = [];
    const r = await runVerify(f.session, ws, store, {}, { onEvent: (e) => events.push(e) });
    expect(r.status).toBe('error');
    expect(r.exitCode).toBe(2);
    expect(verifyLines(r)).toContain('node2: refused');
    expect(verifyJson(r).nodes[1]).toEqual({ node: 'node2', status: 'error', error: 'node2: refused' });
    expect(events.filter((e) => e.kind === 'verify' && e.phase !== 'start')).toHaveLength(2);
  });

  it('an aborted round does not probe', async () => {
    const f = fakeSession(NODES, () => ({ unreachable: 'down' }));
    const stop = new AbortController();
    stop.abort();
    const events: VerifyEvent[] = [];
    const r = await runVerify(
      f.session,
      ws,
      store,
      { probe },
      { signal: stop.signal, onEvent: (e) => events.push(e) },
    );
    expect(r.probes).toBeUndefined();
    expect(events.some((e) => e.kind === 'probing')).toBe(false);
  });
});

describe('watchVerify (fake fleet)', () => {
  it('reports what appeared and resolved per round, stops after `rounds`', async () => {
    // node2 is down in rounds 2 and 3 (calls 1 and 2), up again after.
    const f = fakeSession(NODES, (n, call) =>
      n === 'node2' && (call === 1 || call === 2) ? { unreachable: 'node2: refused' } : { unreachable: 'x' },
    );
    const rounds: WatchRound[] = [];
    const r = await watchVerify(
      f.session,
      ws,
      store,
      { periodSeconds: 0.001, rounds: 4 },
      { onRound: (w) => rounds.push(w) },
    );
    expect(rounds.map((w) => [w.round, w.appeared, w.resolved])).toEqual([
      [1, ['x'], []],
      [2, ['node2: refused'], []],
      [3, [], []],
      [4, [], ['node2: refused']],
    ]);
    expect(r).toEqual({ status: 'error', rounds: 4, exitCode: 2 });
    expect(watchJson(rounds[2]!)).toBeUndefined();
    expect(watchJson(rounds[1]!)).toMatchObject({ round: 2, appeared: ['node2: refused'], resolved: [] });
    expect(watchLines(rounds[3]!)).toEqual([`${rounds[3]!.time} resolved node2: refused`]);
  });

  it('stops when the signal aborts, also while it waits; a cut-short round is not reported', async () => {
    const f = fakeSession(NODES, () => ({ unreachable: 'down' }));
    const stop = new AbortController();
    const rounds: WatchRound[] = [];
    const started = Date.now();
    const done = watchVerify(
      f.session,
      ws,
      store,
      { periodSeconds: 3600 },
      { signal: stop.signal, onRound: (w) => rounds.push(w) },
    );
    await sleep(50);
    stop.abort();
    const r = await done;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(rounds).toHaveLength(1);
    expect(r.rounds).toBe(1);
  });
});

describe('watchLines', () => {
  const round = (over: Partial<WatchRound>): WatchRound =>
    ({
      status: 'ok',
      exitCode: 0,
      verify: { status: 'ok', nodes: [{}, {}, {}] },
      round: 1,
      time: 'T',
      findings: [],
      appeared: [],
      resolved: [],
      ...over,
    }) as unknown as WatchRound;

  it('says all hold in the first round, and again when the last finding resolves', () => {
    expect(watchLines(round({}))).toEqual(['T all 3 nodes hold the policy']);
    expect(watchLines(round({ round: 2, resolved: ['a'] }))).toEqual([
      'T resolved a',
      'T all 3 nodes hold the policy again',
    ]);
    expect(watchLines(round({ round: 2, findings: ['b'], appeared: ['b'] }))).toEqual(['T DRIFT b']);
  });
});
