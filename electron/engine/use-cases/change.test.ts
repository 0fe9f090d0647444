import { describe, expect, it } from 'vitest';
import { localStore } from '../local-store';
import type { Prepared } from '../prepare';
import { KUBE_NAT, policyAllowing, withGuard } from '../test-support/dumps';
import {
  type ChangeEvent,
  checkChangeRequest,
  checksOf,
  type HeldGate,
  heldExitCode,
  planExitCode,
  runChange,
  runExitCode,
} from './change';
import { changeJson } from './change-format';
import { fakeSession, fullRead, loadedWorkspace } from './fake-session.test-support';

const POLICY = policyAllowing(['198.18.100.10'], 'a');
const NODES = ['node1', 'node2'];
const store = localStore('/tmp/npg-use-case-test.yaml', '/nonexistent/npg-use-case-test');

const prepared = (p: Partial<Prepared> = {}): Prepared => ({
  changes: [],
  unplanned: [],
  untouched: [],
  snapshots: [],
  ...p,
});
const down = { node: 'node2', status: 'unreachable', message: 'node2: refused' } as const;
const unplannable = { node: 'node2', status: 'unplannable', message: 'node2: nothing saved' } as const;

describe('checkChangeRequest', () => {
  const ws = loadedWorkspace(NODES, POLICY);

  it('accepts a good request', () => {
    expect(checkChangeRequest(ws, { op: 'apply', canary: 'node2', confirmSeconds: 120 })).toEqual({
      ok: true,
    });
  });

  it('refuses a policy with problems for apply and plan, with their count, but not for remove', () => {
    const bad = loadedWorkspace(NODES, {
      nodePorts: [
        { ...POLICY.nodePorts[0]!, allow: [{ cidr: '198.18.100.10', label: 'a;b' }] },
        { ...POLICY.nodePorts[0]!, port: 30002, allow: [{ cidr: '198.18.100.10', label: '$(x)' }] },
      ],
    });
    for (const op of ['apply', 'plan'] as const) {
      const r = checkChangeRequest(bad, { op });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).toMatch(/label.* \(and 1 more\); nothing sent$/);
    }
    expect(checkChangeRequest(bad, { op: 'remove' })).toEqual({ ok: true });
  });

  it('refuses a canary outside the inventory and a confirm time out of range', () => {
    expect(checkChangeRequest(ws, { op: 'rollback', canary: 'node9' })).toEqual({
      ok: false,
      message: '--canary "node9": not a node of the inventory',
    });
    expect(checkChangeRequest(ws, { op: 'apply', confirmSeconds: 5 })).toEqual({
      ok: false,
      message: '--confirm-within "5": whole seconds from 10 to 86400',
    });
  });

  it("checks the workspace's cluster values when the request brings no checks", () => {
    const bad = loadedWorkspace(NODES, POLICY, { podCidrs: ['10.244.0.0/33'] });
    expect(checkChangeRequest(bad, { op: 'apply' }).ok).toBe(false);
    expect(checkChangeRequest(bad, { op: 'apply', checks: {} }).ok).toBe(true);
  });
});

describe('checksOf', () => {
  it("merges the workspace's values with a run's, names gcp expanded, duplicates once", () => {
    const r = checksOf(
      { podCidrs: ['10.244.0.0/16'] },
      { allowEmpty: true, podCidrs: ['10.244.0.0/16'], healthCheckRanges: ['gcp'] },
    );
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.checks.allowEmpty).toBe(true);
      expect(r.checks.podCidrs).toEqual(['10.244.0.0/16']);
      expect(r.checks.healthCheckRanges?.length).toBeGreaterThan(0);
    }
    expect(checksOf(undefined)).toEqual({ ok: true, checks: {} });
  });

  it('names the flag in its message', () => {
    const r = checksOf(undefined, { healthCheckRanges: ['nope'] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain('--lb-health-check');
  });
});

describe('exit codes', () => {
  it('plan: 2 an unreadable node, 1 anything due, 0 nothing', () => {
    expect(planExitCode(prepared())).toBe(0);
    expect(planExitCode(prepared({ unplanned: [unplannable] }))).toBe(1);
    expect(planExitCode(prepared({ unplanned: [unplannable, down] }))).toBe(2);
  });

  it('held: nothing to do is 0 (1 with unplanned nodes), failed 2, difference 1', () => {
    const gate = (outcome: HeldGate['outcome']): HeldGate => ({ go: false, outcome, message: 'm' });
    expect(heldExitCode(gate('nothing'), prepared())).toBe(0);
    expect(heldExitCode(gate('nothing'), prepared({ unplanned: [unplannable] }))).toBe(1);
    expect(heldExitCode(gate('failed'), prepared())).toBe(2);
    expect(heldExitCode(gate('difference'), prepared())).toBe(1);
  });

  it('ran: failed or an unreadable node 2, difference or unplanned 1, else 0', () => {
    expect(runExitCode({ outcome: 'ok' }, prepared())).toBe(0);
    expect(runExitCode({ outcome: 'difference' }, prepared())).toBe(1);
    expect(runExitCode({ outcome: 'ok' }, prepared({ unplanned: [unplannable] }))).toBe(1);
    expect(runExitCode({ outcome: 'ok' }, prepared({ unplanned: [down] }))).toBe(2);
    expect(runExitCode({ outcome: 'failed' }, prepared())).toBe(2);
  });
});

describe('runChange (fake fleet)', () => {
  const ws = loadedWorkspace(NODES, POLICY);
  const guarded = () => fullRead(withGuard());

  it('nothing to remove: held, exit 0, read events once per node, the plan as text', async () => {
    const f = fakeSession(NODES, () => fullRead(KUBE_NAT));
    const events: ChangeEvent[] = [];
    const r = await runChange(f.session, ws, store, { op: 'remove' }, { onEvent: (e) => events.push(e) });
    expect(r.outcome).toBe('held');
    expect(r.exitCode).toBe(0);
    expect(changeJson(r)).toMatchObject({ op: 'remove', outcome: 'ok' });
    expect(events.filter((e) => e.kind === 'read').map((e) => `${e.node} ${e.phase}`)).toEqual([
      'node1 start',
      'node2 start',
      'node1 done',
      'node2 done',
    ]);
    const planned = events.find((e) => e.kind === 'planned');
    expect(planned).toEqual({ kind: 'planned', nodes: 2, lines: ['node1, node2: no change'] });
  });

  it('an unreachable node holds the change: exit 2, nothing asked', async () => {
    const f = fakeSession(NODES, (n) => (n === 'node2' ? { unreachable: 'node2: refused' } : guarded()));
    let asked = false;
    const r = await runChange(
      f.session,
      ws,
      store,
      { op: 'remove' },
      {
        confirm: async () => {
          asked = true;
          return true;
        },
      },
    );
    expect(r.outcome).toBe('held');
    expect(r.exitCode).toBe(2);
    expect(asked).toBe(false);
    if (r.outcome === 'held') expect(r.gate.message).toMatch(/^node2: refused; nothing changed/);
  });

  it('asks once with the count and families; no means not-confirmed, exit 2, nothing sent', async () => {
    const f = fakeSession(NODES, guarded);
    const questions: string[] = [];
    const r = await runChange(
      f.session,
      ws,
      store,
      { op: 'remove', confirmSeconds: 60 },
      {
        confirm: async (q) => {
          questions.push(q);
          return false;
        },
      },
    );
    expect(questions).toEqual(['remove on 2 nodes (IPv4), rolled back after 60 s unless confirmed?']);
    expect(r).toMatchObject({ outcome: 'not-confirmed', exitCode: 2 });
    expect(f.calls).toHaveLength(1);
  });

  it('an abort before the change is sent: cancelled, exit 2, only the read ran', async () => {
    const f = fakeSession(NODES, guarded);
    const stop = new AbortController();
    const r = await runChange(
      f.session,
      ws,
      store,
      { op: 'remove' },
      {
        signal: stop.signal,
        confirm: async () => {
          stop.abort();
          return true;
        },
      },
    );
    expect(r).toMatchObject({ outcome: 'cancelled', exitCode: 2 });
    expect(f.calls).toHaveLength(1);
  });

  it('refuses a bad request even when the face did not check it', async () => {
    const f = fakeSession(NODES, guarded);
    await expect(runChange(f.session, ws, store, { op: 'remove', canary: 'x' })).rejects.toThrow(
      '--canary "x": not a node of the inventory',
    );
    expect(f.calls).toHaveLength(0);
  });
});
