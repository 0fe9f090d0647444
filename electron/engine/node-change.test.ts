import { describe, expect, it } from 'vitest';
import { clusterView } from './cluster';
import { applyChange, changeBundle, removeChange, rollbackChange } from './node-change';
import { groupedPlanLines } from './plan-text';
import { KUBE_NAT, policyAllowing, snapshotOf, withGuard } from './test-support/dumps';

const KUBE = KUBE_NAT;

const snap = snapshotOf;

const POLICY = policyAllowing(['198.18.100.10/32'], 'a');

describe('node changes', () => {
  it('apply: one transaction, its undo, the bundle with excerpt, saved state and timer script', () => {
    const s = snap('node1', KUBE);
    const r = applyChange(s, POLICY);
    if (!r.ok) throw new Error(r.message);
    const c = r.change;
    expect(c.plan.noop).toBe(false);
    expect(c.restores.map((x) => x.family)).toEqual(['ipv4']);
    expect(c.restores[0]!.text).toContain(
      '-I PREROUTING 1 -m comment --comment "nodeport-guard: entry" -j NPG-PREROUTING',
    );
    expect(c.undo[0]!.text).toContain(
      '-D PREROUTING -m comment --comment "nodeport-guard: entry" -j NPG-PREROUTING',
    );
    expect(c.undo[0]!.text).toContain('-X NPG-PREROUTING');
    const bundle = changeBundle(c, { token: '0123456789abcdef', operator: 'me', time: 't', planHash: 'p' });
    const files = [...bundle.matchAll(/^%%npg file (\S+)$/gm)].map((m) => m[1]);
    expect(files).toEqual([
      'expect.v4',
      'saved.v4',
      'saved.meta',
      'restore.v4',
      'undo.v4',
      'order',
      'expire.sh',
    ]);
    expect(bundle).toContain(
      '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    );
  });

  it('the plan warns about this machine and the nodes; an empty list is blocked without --allow-empty', () => {
    const s = snap('node1', KUBE, '%%npg ssh-client 198.18.0.1\n');
    const r = applyChange(s, POLICY, { nodeAddresses: ['198.18.0.11'] });
    if (!r.ok) throw new Error(r.message);
    expect(r.change.plan.warnings.map((w) => w.kind)).toEqual([
      'app-host-not-allowed',
      'node-addresses-not-allowed',
    ]);
    const empty = applyChange(s, { nodePorts: [{ ...POLICY.nodePorts[0]!, allow: [] }] });
    expect(empty.ok && empty.change.plan.errors.map((e) => e.kind)).toEqual(['empty-allow-list']);
    const allowed = applyChange(
      s,
      { nodePorts: [{ ...POLICY.nodePorts[0]!, allow: [] }] },
      { allowEmpty: true },
    );
    expect(allowed.ok && allowed.change.plan.errors).toEqual([]);
  });

  it('remove and rollback plan only our chains', () => {
    const s = snap('node1', withGuard());
    const again = applyChange(s, POLICY);
    expect(again.ok && again.change.plan.noop).toBe(true);
    const rm = removeChange(s);
    if (!rm.ok) throw new Error();
    expect(rm.change.restores[0]!.text).not.toMatch(/KUBE-/);
    expect(rm.change.restores[0]!.text).toContain('-X NPG-TCP-30001');
    expect(rollbackChange(s)).toEqual({
      ok: false,
      message: 'node1: no saved guard state on the node (nothing to roll back to)',
    });
  });

  it('groups nodes with the same plan, and the cluster view merges NodePorts', () => {
    const a = applyChange(snap('node1', KUBE), POLICY);
    const b = applyChange(snap('node2', KUBE), POLICY);
    if (!a.ok || !b.ok) throw new Error();
    const lines = groupedPlanLines([a.change.plan, b.change.plan]);
    expect(lines[0]).toBe('node1, node2: IPv4: 3 edits');
    const view = clusterView([a.change.snapshot, b.change.snapshot]);
    expect(view.differing).toEqual([]);
    const web = view.nodePorts.find((p) => p.port === 30001);
    expect(web?.nodes).toEqual(['node1', 'node2']);
    const fewer = snap('node3', KUBE.replace(/^(\[\d+:\d+\] )?-A KUBE-NODEPORTS .*--dport 30007 .*$/gm, ''));
    const v3 = clusterView([a.change.snapshot, b.change.snapshot, fewer]);
    expect(v3.differing).toEqual([{ node: 'node3', differences: ['NodePort tcp/30007 missing'] }]);
  });
});
