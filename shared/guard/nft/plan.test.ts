import { describe, expect, it } from 'vitest';
import type { Policy } from '../../workspace/schema';
import { desiredOf } from '../test-support/fixtures';
import { nftDesired } from './desired';
import type { NftGuardState } from './model';
import { parseNftGuardTable } from './parse';
import { isNftPlanStale, planNftNode, planNftState } from './plan';
import { planNftRemoveAll, planNftRestore, renderNftConfirmTimer, renderNftPlan } from './render';
import { nftStateAfter } from './state';
import { FIXTURE_POLICY, TABLE_JSON } from './test-support/fixtures';

const fixtureState = (): NftGuardState => {
  const r = parseNftGuardTable(TABLE_JSON);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const ports = FIXTURE_POLICY.nodePorts;
const plan = (policy: Policy, current: NftGuardState = fixtureState()) =>
  planNftNode({ node: 'node-1', current, desired: desiredOf(policy), checks: { allowEmpty: true } });

describe('nftDesired', () => {
  it('gives every port a set and a rule per family, an empty set where the family has no entry', () => {
    const d = nftDesired(desiredOf(FIXTURE_POLICY));
    expect(d.sets.map((s) => `${s.name} ${s.elements.join(',')}`)).toEqual([
      'allow-tcp-30001-v4 198.18.7.7/32,198.18.100.0/24',
      'allow-tcp-30001-v6 2001:2::7/128,2001:2:0:1::/64',
      'allow-udp-30002-v4 198.18.0.0/15',
      'allow-udp-30002-v6 ',
    ]);
    expect(d.rules.map((r) => `${r.protocol}/${r.port} ${r.family} ${r.action.kind} ${r.comment}`)).toEqual([
      'tcp/30001 ipv4 redirect nodeport-guard: default/web:http',
      'tcp/30001 ipv6 redirect nodeport-guard: default/web:http',
      'udp/30002 ipv4 count nodeport-guard: audit udp/30002',
      'udp/30002 ipv6 count nodeport-guard: audit udp/30002',
    ]);
  });

  it('plans only the node families', () => {
    const d = nftDesired(desiredOf(FIXTURE_POLICY, ['ipv4']));
    expect(d.rules.every((r) => r.family === 'ipv4')).toBe(true);
    expect(d.sets.map((s) => s.name)).toEqual(['allow-tcp-30001-v4', 'allow-udp-30002-v4']);
  });

  it('cuts a long service name to the 128-character comment limit', () => {
    const long: Policy = { nodePorts: [{ ...ports[0]!, service: `ns/${'x'.repeat(200)}` }] };
    expect(nftDesired(desiredOf(long)).rules[0]!.comment.length).toBeLessThanOrEqual(128);
  });
});

describe('planNftNode and renderNftPlan', () => {
  it('writes the whole table from nothing, in one transaction that is idempotent', () => {
    const p = plan(FIXTURE_POLICY, { table: 'absent' });
    expect(p.edits.map((e) => e.kind)).toEqual(['table-write']);
    const text = renderNftPlan(p);
    expect(text.split('\n').slice(0, 4)).toEqual([
      `# nodeport-guard nft node node-1 state ${p.stateHash}`,
      'add table inet nodeport-guard',
      'delete table inet nodeport-guard',
      'table inet nodeport-guard {',
    ]);
    expect(text).toContain('  set allow-udp-30002-v6 { type ipv6_addr; flags interval; }\n');
    expect(text).toContain(
      '    tcp dport 30001 fib daddr type local ip saddr != @allow-tcp-30001-v4 counter redirect to :65535 comment "nodeport-guard: default/web:http"\n',
    );
    expect(text).toContain(
      '    udp dport 30002 fib daddr type local ip6 saddr != @allow-udp-30002-v6 counter comment "nodeport-guard: audit udp/30002"\n',
    );
    expect(text).toContain('type nat hook prerouting priority -110; policy accept;');
  });

  it('is a noop when the node holds the desired state, and renders nothing', () => {
    const p = plan(FIXTURE_POLICY);
    expect(p.noop).toBe(true);
    expect(renderNftPlan(p)).toBe('');
  });

  it('refills only the set whose list changed: the rules keep their counters', () => {
    const next: Policy = { nodePorts: [{ ...ports[0]!, allow: [{ cidr: '198.18.100.0/24' }] }, ports[1]!] };
    const p = plan(next);
    expect(p.edits).toMatchObject([
      { kind: 'set-update', set: { name: 'allow-tcp-30001-v4' }, added: [], removed: ['198.18.7.7/32'] },
      { kind: 'set-update', set: { name: 'allow-tcp-30001-v6', elements: [] } },
    ]);
    expect(renderNftPlan(p).split('\n').slice(1)).toEqual([
      'flush set inet nodeport-guard allow-tcp-30001-v4',
      'add element inet nodeport-guard allow-tcp-30001-v4 { 198.18.100.0/24 }',
      'flush set inet nodeport-guard allow-tcp-30001-v6',
      '',
    ]);
  });

  it('replaces a changed rule by handle, and removes a port (rules before sets)', () => {
    const next: Policy = { nodePorts: [{ ...ports[0]!, blackholePort: 64000 }] };
    const text = renderNftPlan(plan(next)).split('\n').slice(1);
    expect(text).toEqual([
      'delete rule inet nodeport-guard prerouting handle 6',
      'delete rule inet nodeport-guard prerouting handle 7',
      'delete rule inet nodeport-guard prerouting handle 8',
      'delete rule inet nodeport-guard prerouting handle 9',
      'delete set inet nodeport-guard handle 4',
      'delete set inet nodeport-guard handle 5',
      'add rule inet nodeport-guard prerouting tcp dport 30001 fib daddr type local ip saddr != @allow-tcp-30001-v4 counter redirect to :64000 comment "nodeport-guard: default/web:http"',
      'add rule inet nodeport-guard prerouting tcp dport 30001 fib daddr type local ip6 saddr != @allow-tcp-30001-v6 counter redirect to :64000 comment "nodeport-guard: default/web:http"',
      '',
    ]);
  });

  it('switches a port to audit: the rule loses its redirect', () => {
    const next: Policy = { nodePorts: [{ ...ports[0]!, mode: 'audit' }, ports[1]!] };
    const adds = plan(next).edits.filter((e) => e.kind === 'rule-add');
    expect(adds).toMatchObject([
      {
        rule: {
          family: 'ipv4',
          action: { kind: 'count' },
          comment: 'nodeport-guard: audit default/web:http',
        },
      },
      { rule: { family: 'ipv6', action: { kind: 'count' } } },
    ]);
  });

  it('rewrites the whole table when in-place edits cannot repair it', () => {
    const s = fixtureState();
    if (s.table !== 'present') throw new Error('absent');
    const cases: [string, NftGuardState][] = [
      ['priority', { ...s, chains: s.chains.map((c) => ({ ...c, prio: -90 })) }],
      ['missing chain', { ...s, chains: [] }],
      ['extra chain', { ...s, chains: [...s.chains, { name: 'other', rules: [] }] }],
      ['a map', { ...s, others: ['map m'] }],
      ['set type', { ...s, sets: s.sets.map((x) => ({ ...x, flags: [] })) }],
    ];
    for (const [what, state] of cases) {
      const p = plan(FIXTURE_POLICY, state);
      expect(
        p.edits.map((e) => e.kind),
        what,
      ).toEqual(['table-write']);
    }
  });

  it('removes foreign rules and extra copies of ours', () => {
    const s = fixtureState();
    if (s.table !== 'present') throw new Error('absent');
    const chain = s.chains[0]!;
    const state: NftGuardState = {
      ...s,
      chains: [
        {
          ...chain,
          rules: [
            ...chain.rules,
            { ...chain.rules[0]!, handle: 20 as never },
            { kind: 'foreign', handle: 21 as never, text: '[{"accept":null}]' },
          ],
        },
      ],
    };
    expect(plan(FIXTURE_POLICY, state).edits).toMatchObject([
      { kind: 'rule-remove', handle: 20 },
      { kind: 'rule-remove', handle: 21 },
    ]);
  });

  it('removes the table when no port is guarded, and stays a noop when there is none', () => {
    expect(plan({ nodePorts: [] }).edits).toEqual([{ kind: 'table-remove' }]);
    expect(plan({ nodePorts: [] }, { table: 'absent' }).noop).toBe(true);
    expect(renderNftPlan(planNftRemoveAll('n', fixtureState())).split('\n')[1]).toBe(
      'delete table inet nodeport-guard',
    );
  });

  it('carries the iptables guard warnings, except the one about kube-proxy nftables mode', () => {
    const empty: Policy = { nodePorts: [{ ...ports[1]!, mode: 'enforce', allow: [] }] };
    const p = planNftNode({
      node: 'n',
      current: { table: 'absent' },
      desired: desiredOf(empty),
      kubeProxyMode: 'nftables',
    });
    expect(p.errors.map((e) => e.kind)).toEqual(['empty-allow-list']);
    expect([...p.warnings, ...p.errors].some((e) => e.kind === 'kube-proxy-nftables')).toBe(false);
  });

  it('detects a stale plan by the state hash (handles count, counters do not)', () => {
    const p = plan(FIXTURE_POLICY, { table: 'absent' });
    expect(isNftPlanStale(p, { table: 'absent' })).toBe(false);
    expect(isNftPlanStale(p, fixtureState())).toBe(true);
  });
});

describe('rollback', () => {
  it('restores a saved state by rewriting the whole table, independent of handles', () => {
    const saved = fixtureState();
    const now = nftStateAfter(nftDesired(desiredOf({ nodePorts: [ports[0]!] })));
    const p = planNftRestore('n', now, saved);
    expect(p.edits.map((e) => e.kind)).toEqual(['table-write']);
    expect(planNftRestore('n', saved, saved).noop).toBe(true);
    expect(planNftRestore('n', saved, { table: 'absent' }).edits).toEqual([{ kind: 'table-remove' }]);
  });

  it('renders the commit-confirmed timer text as an unconditional restore', () => {
    const timer = renderNftConfirmTimer('n', fixtureState()).split('\n');
    expect(timer.slice(1, 4)).toEqual([
      'add table inet nodeport-guard',
      'delete table inet nodeport-guard',
      'table inet nodeport-guard {',
    ]);
    expect(renderNftConfirmTimer('n', { table: 'absent' }).split('\n').slice(1)).toEqual([
      'add table inet nodeport-guard',
      'delete table inet nodeport-guard',
      '',
    ]);
  });

  it('plans from a state to itself as a noop (stateAfter is what the apply leaves)', () => {
    const d = nftDesired(desiredOf(FIXTURE_POLICY));
    expect(planNftState('n', nftStateAfter(d), d).noop).toBe(true);
  });
});
