import { describe, expect, it } from 'vitest';
import { serializeRule } from '../netfilter/serialize';
import { familyOf } from './desired';
import { planNode } from './plan';
import { planRemoveAll, planRestore, renderNodePlan, stateAfter } from './render';
import { entryJumpRule } from './rules';
import { parseSavedState, serializeSavedState } from './saved-state';
import { guardStateHash } from './state';
import { desiredOf, KUBE_NAT_V4, POLICY, stateOf, withGuard } from './test-support/fixtures';

const ENTRY = serializeRule(entryJumpRule());
const lines = (() => {
  const f = familyOf(desiredOf(POLICY), 'ipv4')!;
  return [ENTRY, ...f.chains.flatMap((c) => c.rules.map((r) => serializeRule(r)))];
})();

describe('saved state', () => {
  it('round-trips through text, counters dropped', () => {
    const state = stateOf(withGuard(KUBE_NAT_V4, lines).replace(/^-A NPG/gm, '[5:300] -A NPG'));
    const text = serializeSavedState(state);
    expect(text.split('\n').slice(0, 3)).toEqual([
      '# nodeport-guard saved state v1 ipv4',
      '# not iptables-restore input: restore with `npg rollback`',
      '*nat',
    ]);
    expect(text).not.toContain('[5:300]');
    const back = parseSavedState(text, 'ipv4');
    expect(back.ok).toBe(true);
    if (back.ok) {
      expect(back.state.chains.map((c) => c.name)).toEqual(state.chains.map((c) => c.name));
      expect(back.state.entryJumps).toHaveLength(1);
    }
  });

  it('refuses text that is not a saved state of that family', () => {
    expect(parseSavedState(KUBE_NAT_V4, 'ipv4')).toMatchObject({ ok: false });
    const v4 = serializeSavedState(stateOf(KUBE_NAT_V4));
    expect(parseSavedState(v4, 'ipv6')).toMatchObject({ ok: false });
  });
});

describe('rollback and remove', () => {
  it('rolls an apply back to the saved state, and the result equals the saved state', () => {
    const before = stateOf(KUBE_NAT_V4);
    const desired = desiredOf(POLICY, ['ipv4']);
    const after = stateAfter(desired);
    // the predicted state after apply is what planning from it finds: nothing to do
    expect(
      planNode({ node: 'n', current: after, desired, kubeProxy: { mode: 'iptables', backend: 'nft' } }).noop,
    ).toBe(true);
    const back = planRestore('n', after, [before], 'nft');
    expect(back.edits.map((e) => e.kind)).toEqual(['entry-remove', 'chain-remove', 'chain-remove']);
    const restored = planRestore('n', [before], [before], 'nft');
    expect(restored.noop).toBe(true);
    expect(back.stateHash).toBe(guardStateHash(after));
  });

  it('restores a saved guard over a changed one', () => {
    const saved = stateOf(withGuard(KUBE_NAT_V4, lines));
    const now = stateOf(
      withGuard(
        KUBE_NAT_V4,
        lines.filter((l) => !l.includes('vpn')),
      ),
    );
    const p = planRestore('n', [now], [saved], 'nft');
    expect(p.edits.map((e) => e.kind)).toEqual(['chain-update']);
    expect(renderNodePlan(p)[0]?.text).toContain('allow vpn');
  });

  it('remove-all touches only our chains and entry jump', () => {
    const now = stateOf(withGuard(KUBE_NAT_V4, lines));
    const text = renderNodePlan(planRemoveAll('n', [now], 'nft'))[0]?.text ?? '';
    expect(text).not.toMatch(/KUBE-/);
    expect(text).toMatch(/-X NPG-PREROUTING\nCOMMIT\n$/);
  });
});
