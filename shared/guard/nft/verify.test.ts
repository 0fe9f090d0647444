import { describe, expect, it } from 'vitest';
import type { Policy } from '../../workspace/schema';
import { desiredOf } from '../test-support/fixtures';
import type { NftGuardState } from './model';
import { type NftBaseChain, parseNftBaseChains, parseNftGuardTable } from './parse';
import { CHAINS_JSON, FIXTURE_POLICY, TABLE_JSON } from './test-support/fixtures';
import { shadowingChains, verifyNftNode } from './verify';

const table = parseNftGuardTable(TABLE_JSON);
const state = (): NftGuardState & { table: 'present' } => {
  if (!table.ok || table.value.table !== 'present') throw new Error('fixture');
  return table.value;
};
const verify = (value: NftGuardState, policy: Policy = FIXTURE_POLICY, chains?: readonly NftBaseChain[]) =>
  verifyNftNode({
    node: 'node-1',
    desired: desiredOf(policy),
    table: { ok: true, value },
    ...(chains ? { chains: { ok: true, value: chains } } : {}),
  });
const kinds = (v: ReturnType<typeof verify>) =>
  v.findings.filter((f) => f.severity !== 'info').map((f) => f.kind);

describe('verifyNftNode', () => {
  it('is ok on the recorded table, with kube-proxy at dstnat, and reports counters per port and family', () => {
    const chains = parseNftBaseChains(CHAINS_JSON);
    const v = verifyNftNode({ node: 'node-1', desired: desiredOf(FIXTURE_POLICY), table, chains });
    expect(v.status).toBe('ok');
    expect(v.ports[0]!.counters).toEqual([
      { family: 'ipv4', counters: { packets: 3, bytes: 180 } },
      { family: 'ipv6', counters: { packets: 0, bytes: 0 } },
    ]);
    expect(v.ports[0]!.findings[0]!.message).toBe('node-1: tcp/30001 (IPv4): 3 connections blocked');
    expect(v.ports[1]!.findings[0]!.message).toBe(
      'node-1: udp/30002 (IPv4): 0 connections would have been blocked',
    );
  });

  it('says the table is absent, or there when nothing is guarded', () => {
    expect(kinds(verify({ table: 'absent' }))).toEqual(['table-absent']);
    expect(verify({ table: 'absent' }).ports.every((p) => p.status === 'drift')).toBe(true);
    expect(kinds(verify(state(), { nodePorts: [] }))).toEqual(['table-unexpected']);
    expect(verify({ table: 'absent' }, { nodePorts: [] }).status).toBe('ok');
  });

  it('names set contents that differ, per port and family, with what each difference does', () => {
    const s = state();
    const v = verify({
      ...s,
      sets: s.sets.map((x) =>
        x.name === 'allow-tcp-30001-v4' ? { ...x, elements: ['198.18.7.7/32', '198.18.200.0/24'] } : x,
      ),
    });
    expect(v.findings.filter((f) => f.kind === 'set-contents').map((f) => f.message)).toEqual([
      'node-1: tcp/30001 (IPv4): set allow-tcp-30001-v4 lacks 198.18.100.0/24 (blocked); holds 198.18.200.0/24, not in the policy (let through)',
    ]);
    expect(v.ports.map((p) => p.status)).toEqual(['drift', 'ok']);
  });

  it('names a missing rule and a missing set on their port', () => {
    const s = state();
    const chain = s.chains[0]!;
    const v = verify({
      ...s,
      sets: s.sets.filter((x) => x.name !== 'allow-udp-30002-v6'),
      chains: [{ ...chain, rules: chain.rules.filter((r) => r.handle !== 9) }],
    });
    expect(v.findings.filter((f) => f.severity === 'drift').map((f) => f.message)).toEqual([
      'node-1: udp/30002 (IPv6): set allow-udp-30002-v6 missing',
      'node-1: udp/30002 (IPv6): rule missing: udp dport 30002 fib daddr type local ip6 saddr != @allow-udp-30002-v6 counter comment "nodeport-guard: audit udp/30002"',
    ]);
    expect(v.ports.map((p) => p.status)).toEqual(['ok', 'drift']);
  });

  it('names the wrong priority, and says when kube-proxy then DNATs first', () => {
    const s = state();
    const at = (prio: number) => verify({ ...s, chains: s.chains.map((c) => ({ ...c, prio })) });
    expect(at(-90).findings.find((f) => f.kind === 'priority-wrong')?.message).toBe(
      'node-1: chain prerouting has priority -90, not -110 (dstnat - 10): kube-proxy DNATs first, the guard does nothing',
    );
    expect(kinds(at(-120))).toEqual(['priority-wrong']);
    expect(kinds(verify({ ...s, chains: s.chains.map((c) => ({ ...c, type: 'filter' })) }))).toEqual([
      'chain-wrong',
    ]);
  });

  it('flags unexpected rules, sets and objects in our table', () => {
    const s = state();
    const v = verify({
      ...s,
      chains: [...s.chains, { name: 'x', rules: [] }],
      sets: [...s.sets, { name: 'allow-tcp-30009-v4', type: 'ipv4_addr', flags: ['interval'], elements: [] }],
      others: ['map m'],
    });
    expect(kinds(v)).toEqual(['object-unexpected', 'object-unexpected', 'set-unexpected']);
  });

  it('names a listener on the blackhole port', () => {
    const v = verifyNftNode({
      node: 'n',
      desired: desiredOf(FIXTURE_POLICY),
      table,
      listeningPorts: [{ protocol: 'tcp', port: 65535 }],
    });
    expect(kinds(v)).toEqual(['blackhole-listener']);
  });

  it('reports unreadable output as an error', () => {
    const bad = parseNftGuardTable('{');
    const v = verifyNftNode({ node: 'n', desired: desiredOf(FIXTURE_POLICY), table: bad });
    expect(v.status).toBe('error');
    const chains = parseNftBaseChains('nope');
    expect(verifyNftNode({ node: 'n', desired: desiredOf(FIXTURE_POLICY), table, chains }).status).toBe(
      'error',
    );
  });
});

describe('shadowingChains', () => {
  const chain = (
    family: string,
    table: string,
    prio: number,
    type = 'nat',
    hook = 'prerouting',
  ): NftBaseChain => ({
    family,
    table,
    name: 'c',
    type,
    hook,
    prio,
  });

  it('lists nat prerouting chains at or before our priority, per family they see', () => {
    const chains = [
      chain('inet', 'nodeport-guard', -110),
      chain('ip', 'kube-proxy', -100),
      chain('ip', 'early', -150),
      chain('ip6', 'same', -110),
      chain('inet', 'both', -111),
      chain('ip', 'raw', -300, 'filter'),
      chain('ip', 'out', -200, 'nat', 'output'),
      chain('bridge', 'b', -300),
    ];
    chains[0] = { ...chains[0]!, name: 'prerouting' };
    expect(
      shadowingChains(chains, -110, ['ipv4', 'ipv6']).map(
        (c) => `${c.table} ${c.prio} ${c.families.join('+')}`,
      ),
    ).toEqual(['ip early -150 ipv4', 'ip6 same -110 ipv6', 'inet both -111 ipv4+ipv6']);
    expect(shadowingChains(chains, -110, ['ipv4']).map((c) => c.table)).toEqual(['ip early', 'inet both']);
  });

  it('measures against our chain as found, so a guard moved behind kube-proxy sees it', () => {
    expect(shadowingChains([chain('ip', 'kube-proxy', -100)], -90, ['ipv4']).map((c) => c.table)).toEqual([
      'ip kube-proxy',
    ]);
  });
});
