import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { serializeRule } from '../netfilter/serialize';
import type { Policy } from '../workspace/schema';
import { familyOf } from './desired';
import {
  entryJumpsRemoved,
  type GuardEdit,
  insertsEntryJump,
  isPlanStale,
  type NodePlan,
  planNode,
} from './plan';
import { renderNodePlan, stateAfter } from './render';
import { entryJumpRule } from './rules';
import { type FamilyGuardState, guardStateHash, ruleKey } from './state';
import { desiredOf, KUBE_NAT_V4, KUBE_NAT_V6, POLICY, stateOf, withGuard } from './test-support/fixtures';

const KP = { mode: 'iptables', backend: 'nft' } as const;
const ENTRY = serializeRule(entryJumpRule());

/** The dump lines of a desired family, as a node would show them after apply. */
function guardLines(policy: Policy, family: 'ipv4' | 'ipv6' = 'ipv4'): string[] {
  const f = familyOf(desiredOf(policy), family)!;
  return [...(f.entry ? [ENTRY] : []), ...f.chains.flatMap((c) => c.rules.map((r) => serializeRule(r)))];
}

function plan(
  dump: string,
  policy: Policy = POLICY,
  families: readonly ('ipv4' | 'ipv6')[] = ['ipv4'],
): NodePlan {
  return planNode({
    node: 'node-1',
    current: [stateOf(dump)],
    desired: desiredOf(policy, families),
    kubeProxy: KP,
  });
}

function text(p: NodePlan): string {
  return renderNodePlan(p)
    .map((t) => t.text)
    .join('')
    .replace(/^# nodeport-guard .*\n/gm, '');
}

describe('planNode + renderNodePlan', () => {
  it('guards a fresh node in one transaction', () => {
    const p = plan(KUBE_NAT_V4);
    expect(p.edits.map((e) => e.kind)).toEqual(['chain-create', 'chain-create', 'entry-add']);
    expect(p.noop).toBe(false);
    expect(p.errors).toEqual([]);
    expect(text(p)).toBe(
      [
        '*nat',
        ':NPG-PREROUTING - [0:0]',
        ':NPG-TCP-30001 - [0:0]',
        '-I PREROUTING 1 -m comment --comment "nodeport-guard: entry" -j NPG-PREROUTING',
        '-A NPG-PREROUTING -p tcp -m tcp --dport 30001 -m addrtype --dst-type LOCAL -m comment --comment "nodeport-guard: default/web:http" -j NPG-TCP-30001',
        '-A NPG-TCP-30001 -s 198.18.7.7/32 -m comment --comment "nodeport-guard: allow vpn" -j RETURN',
        '-A NPG-TCP-30001 -s 198.18.100.0/24 -m comment --comment "nodeport-guard: allow office" -j RETURN',
        '-A NPG-TCP-30001 -p tcp -m comment --comment "nodeport-guard: block" -j REDIRECT --to-ports 65535',
        'COMMIT',
        '',
      ].join('\n'),
    );
    const [t] = renderNodePlan(p);
    expect(t?.text.split('\n')[0]).toBe(`# nodeport-guard ipv4 node node-1 state ${p.stateHash}`);
  });

  it('is a noop when the node already has the desired guard (apply twice: no change)', () => {
    const p = plan(withGuard(KUBE_NAT_V4, guardLines(POLICY)));
    expect(p.noop).toBe(true);
    expect(p.edits).toEqual([]);
    expect(renderNodePlan(p)).toEqual([]);
  });

  it('moves the entry jump back in front of KUBE-SERVICES (kube-proxy restart)', () => {
    const p = plan(withGuard(KUBE_NAT_V4, guardLines(POLICY), { entryFirst: false }));
    expect(p.edits).toMatchObject([
      { kind: 'entry-move', reason: 'after-kube-services', kubeServicesAt: 1, from: { position: 2 } },
    ]);
    expect(text(p)).toBe(
      [
        '*nat',
        `-D PREROUTING -m comment --comment "nodeport-guard: entry" -j NPG-PREROUTING`,
        `-I PREROUTING 1 -m comment --comment "nodeport-guard: entry" -j NPG-PREROUTING`,
        'COMMIT',
        '',
      ].join('\n'),
    );
  });

  it('removes duplicate and odd entry jumps', () => {
    const odd = '-A PREROUTING -i eth0 -j NPG-PREROUTING';
    const dup = plan(withGuard(KUBE_NAT_V4, [ENTRY, ...guardLines(POLICY)]));
    expect(dup.edits.map((e) => e.kind)).toEqual(['entry-dedupe']);
    expect(text(dup).match(/^-D PREROUTING/gm)?.length).toBe(2);
    const p = plan(withGuard(KUBE_NAT_V4, [odd, ...guardLines(POLICY).slice(1)]));
    expect(p.edits).toMatchObject([{ kind: 'entry-move', reason: 'not-canonical' }]);
    expect(text(p)).toContain('-D PREROUTING -i eth0 -j NPG-PREROUTING\n-I PREROUTING 1 ');
  });

  it('rewrites only the chain that differs (a rule deleted or added by hand)', () => {
    const lines = guardLines(POLICY);
    const deleted = plan(
      withGuard(
        KUBE_NAT_V4,
        lines.filter((l) => !l.includes('allow vpn')),
      ),
    );
    expect(deleted.edits).toMatchObject([
      { kind: 'chain-update', chain: 'NPG-TCP-30001', removed: [], reordered: false },
    ]);
    expect(
      deleted.edits[0]?.kind === 'chain-update' && deleted.edits[0].added.map((r) => r.source?.value),
    ).toEqual(['198.18.7.7/32']);
    const t = text(deleted);
    expect(t).toContain(':NPG-TCP-30001 - [0:0]');
    expect(t).not.toContain(':NPG-PREROUTING');
    expect(t).not.toContain('PREROUTING 1');

    const extra = '-A NPG-TCP-30001 -s 198.51.100.0/24 -j RETURN';
    const added = plan(withGuard(KUBE_NAT_V4, [...lines.slice(0, 2), extra, ...lines.slice(2)]));
    expect(added.edits).toMatchObject([
      { kind: 'chain-update', added: [], removed: [{ source: { value: '198.51.100.0/24' } }] },
    ]);

    const swapped = [lines[0]!, lines[1]!, lines[3]!, lines[2]!, lines[4]!];
    expect(plan(withGuard(KUBE_NAT_V4, swapped)).edits).toMatchObject([
      { kind: 'chain-update', reordered: true },
    ]);
  });

  it('removes a port no longer guarded: flush, rewrite the dispatch, then -X', () => {
    const two: Policy = {
      nodePorts: [...POLICY.nodePorts, { ...POLICY.nodePorts[0]!, port: 30002, service: undefined }],
    };
    const p = plan(withGuard(KUBE_NAT_V4, guardLines(two)));
    expect(p.edits.map((e) => [e.kind, 'chain' in e ? e.chain : ''])).toEqual([
      ['chain-update', 'NPG-PREROUTING'],
      ['chain-remove', 'NPG-TCP-30002'],
    ]);
    const t = text(p).split('\n');
    expect(t.indexOf(':NPG-TCP-30002 - [0:0]')).toBeLessThan(t.indexOf('-X NPG-TCP-30002'));
    expect(t.indexOf('COMMIT') - 1).toBe(t.indexOf('-X NPG-TCP-30002'));
  });

  it('removes everything when no port is guarded, the entry chain last', () => {
    const p = plan(withGuard(KUBE_NAT_V4, guardLines(POLICY)), { nodePorts: [] });
    expect(p.edits.map((e) => e.kind)).toEqual(['entry-remove', 'chain-remove', 'chain-remove']);
    expect(text(p)).toBe(
      [
        '*nat',
        ':NPG-TCP-30001 - [0:0]',
        ':NPG-PREROUTING - [0:0]',
        '-D PREROUTING -m comment --comment "nodeport-guard: entry" -j NPG-PREROUTING',
        '-X NPG-TCP-30001',
        '-X NPG-PREROUTING',
        'COMMIT',
        '',
      ].join('\n'),
    );
  });

  it('plans v6 on its own and renders one transaction per family', () => {
    const p = planNode({
      node: 'node-1',
      current: [stateOf(withGuard(KUBE_NAT_V4, guardLines(POLICY))), stateOf(KUBE_NAT_V6, 'ipv6')],
      desired: desiredOf(POLICY),
      kubeProxy: KP,
    });
    expect(p.families.map((f) => [f.family, f.noop])).toEqual([
      ['ipv4', true],
      ['ipv6', false],
    ]);
    const out = renderNodePlan(p);
    expect(out.map((t) => t.family)).toEqual(['ipv6']);
    expect(out[0]?.text).toContain('-A NPG-TCP-30001 -s 2001:2:0:1::/64 ');
  });

  it('hashes the current guard state: counters do not count, positions do', () => {
    const a = stateOf(withGuard(KUBE_NAT_V4, guardLines(POLICY)));
    const counted = stateOf(withGuard(KUBE_NAT_V4, guardLines(POLICY)).replace(/^-A /gm, '[12:345] -A '));
    const moved = stateOf(withGuard(KUBE_NAT_V4, guardLines(POLICY), { entryFirst: false }));
    expect(guardStateHash([a])).toMatch(/^[0-9a-f]{16}$/);
    expect(guardStateHash([counted])).toBe(guardStateHash([a]));
    expect(guardStateHash([moved])).not.toBe(guardStateHash([a]));
    expect(plan(KUBE_NAT_V4).stateHash).toBe(guardStateHash([stateOf(KUBE_NAT_V4)]));
    const p = plan(withGuard(KUBE_NAT_V4, guardLines(POLICY)));
    expect(isPlanStale(p, [counted])).toBe(false);
    expect(isPlanStale(p, [moved])).toBe(true);
    expect(isPlanStale(p, [])).toBe(true);
  });
});

describe('plan properties', () => {
  const entryArb = fc.oneof(
    fc
      .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 16, max: 32 }))
      .map(([b, p]) => ({ cidr: `198.18.${b}.0/${p}` })),
    fc
      .integer({ min: 0, max: 15 })
      .map((a) => ({ cidr: `2001:2:0:${a.toString(16)}::/64`, label: `v6 ${a}` })),
  );
  const portArb = fc.record({
    port: fc.integer({ min: 30001, max: 30004 }),
    protocol: fc.constantFrom('tcp' as const, 'udp' as const),
    mode: fc.constantFrom('enforce' as const, 'audit' as const),
    blackholePort: fc.constant(65535),
    allow: fc.array(entryArb, { maxLength: 5 }),
  });
  const policyArb = fc
    .uniqueArray(portArb, { selector: (p) => `${p.protocol}/${p.port}`, maxLength: 4 })
    .map((nodePorts): Policy => ({ nodePorts }));

  /** What the transaction does to the state, in model terms (the lab test checks the real thing). */
  function simulate(
    current: FamilyGuardState,
    edits: readonly GuardEdit[],
  ): { entries: number; chains: Map<string, string[]> } {
    const chains = new Map(current.chains.map((c) => [c.name as string, c.rules.map(ruleKey)]));
    let entries = current.entryJumps.length;
    for (const e of edits) {
      if (e.kind === 'chain-create' || e.kind === 'chain-update') chains.set(e.chain, e.rules.map(ruleKey));
      else if (e.kind === 'chain-remove') chains.delete(e.chain);
      else entries = entries - entryJumpsRemoved(e).length + (insertsEntryJump(e) ? 1 : 0);
    }
    return { entries, chains };
  }

  it('any state planned to any policy lands on that policy, and then plans a noop', () => {
    fc.assert(
      fc.property(policyArb, policyArb, (a, b) => {
        const from = stateAfter(desiredOf(a));
        const to = desiredOf(b);
        const p = planNode({ node: 'n', current: from, desired: to, kubeProxy: KP });
        for (const f of p.families) {
          const got = simulate(f.current, f.edits);
          expect(got.entries).toBe(f.desired.entry ? 1 : 0);
          expect(Object.fromEntries(got.chains)).toEqual(
            Object.fromEntries(f.desired.chains.map((c) => [c.name, c.rules.map(ruleKey)])),
          );
        }
        expect(planNode({ node: 'n', current: stateAfter(to), desired: to, kubeProxy: KP }).noop).toBe(true);
        expect(p.noop).toBe(JSON.stringify(desiredOf(a).families) === JSON.stringify(to.families));
      }),
      { numRuns: 200 },
    );
  });
});
