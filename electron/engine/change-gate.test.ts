import { describe, expect, it } from 'vitest';
import type { Policy } from '../../shared/workspace/schema';
import { checkSavedPlan, gateChange, savedPlanOf } from './change-gate';
import { applyChange, type NodeChange } from './node-change';
import type { Prepared } from './prepare';
import { KUBE_NAT, policyAllowing, snapshotOf, withGuard } from './test-support/dumps';

const allow = policyAllowing;

function change(node: string, dump: string, policy: Policy): NodeChange {
  const r = applyChange(snapshotOf(node, dump), policy);
  if (!r.ok) throw new Error(r.message);
  return r.change;
}

const prepared = (changes: NodeChange[], unplanned: Prepared['unplanned'] = []): Prepared => ({
  changes,
  unplanned,
  untouched: [],
  snapshots: changes.map((c) => c.snapshot),
});

/** The policy test-support's withGuard() dump holds. */
const POLICY = allow(['198.18.100.10'], 'a');

describe('gateChange', () => {
  it('lets work through, and only the nodes that change', () => {
    const g = gateChange(prepared([change('node1', KUBE_NAT, POLICY), change('node2', KUBE_NAT, POLICY)]), {
      op: 'apply',
      policyHash: 'h',
    });
    expect(g.go).toBe(true);
    if (g.go) expect(g.work.map((c) => c.node)).toEqual(['node1', 'node2']);
  });

  it('an unreadable node stops everything unless told to go on; an unplannable one is a difference', () => {
    const c = [change('node1', KUBE_NAT, POLICY)];
    const down = prepared(c, [
      { node: 'node2', status: 'unreachable', message: 'node2: connection refused' },
    ]);
    expect(gateChange(down, { op: 'apply', policyHash: 'h' })).toEqual({
      go: false,
      outcome: 'failed',
      message: 'node2: connection refused; nothing changed on any node (--continue changes the others)',
    });
    expect(gateChange(down, { op: 'apply', policyHash: 'h', continueOnFailure: true }).go).toBe(true);
    const odd = prepared(c, [{ node: 'node2', status: 'unplannable', message: 'node2: bad saved state' }]);
    expect(gateChange(odd, { op: 'apply', policyHash: 'h' })).toMatchObject({
      go: false,
      outcome: 'difference',
    });
  });

  it('an empty allow-list blocks the change (nothing goes anywhere)', () => {
    const g = gateChange(prepared([change('node1', KUBE_NAT, allow([]))]), { op: 'apply', policyHash: 'h' });
    expect(g).toMatchObject({ go: false, outcome: 'difference' });
    if (!g.go) expect(g.message).toMatch(/empty.*; blocked, nothing changed on any node$/);
  });

  it('nothing to do when every node already holds the guard', () => {
    const g = gateChange(prepared([change('node1', withGuard(KUBE_NAT), POLICY)]), {
      op: 'apply',
      policyHash: 'h',
    });
    expect(g).toEqual({
      go: false,
      outcome: 'nothing',
      message: 'nothing to apply: every node already holds it',
    });
  });

  it('a saved plan: applies while it matches; stale when the policy or a node changed', () => {
    const now = prepared([change('node1', KUBE_NAT, POLICY)]);
    const saved = savedPlanOf(now, 'ws.yaml', 'h1', '2026-11-26T00:00:00Z');
    expect(checkSavedPlan(JSON.parse(JSON.stringify(saved)))).toEqual({ ok: true, plan: saved });
    expect(checkSavedPlan({ kind: 'other' })).toEqual({
      ok: false,
      reason: 'not a plan written by npg plan --out',
    });
    expect(gateChange(now, { op: 'apply', policyHash: 'h1', saved }).go).toBe(true);
    expect(gateChange(now, { op: 'apply', policyHash: 'h2', saved })).toMatchObject({
      go: false,
      message:
        'the workspace policy changed since the plan was made; re-plan (npg plan --out), nothing changed',
    });
    const moved = prepared([change('node1', withGuard(KUBE_NAT), POLICY)]);
    expect(gateChange(moved, { op: 'apply', policyHash: 'h1', saved })).toMatchObject({
      go: false,
      message:
        'node1: plan is stale: its guard state changed since the plan was made; re-plan (npg plan --out), nothing changed',
    });
  });
});
