import { describe, expect, it } from 'vitest';
import { parseIptablesSave } from '../netfilter/parse';
import { extractGuardState } from './state';
import { KUBE_NAT_V4, KUBE_NAT_V6, parseDump, stateOf, withGuard } from './test-support/fixtures';

const GUARD = [
  '-A PREROUTING -m comment --comment "nodeport-guard: entry" -j NPG-PREROUTING',
  '-A NPG-PREROUTING -p tcp -m tcp --dport 30001 -m addrtype --dst-type LOCAL -j NPG-TCP-30001',
  '-A NPG-TCP-30001 -p tcp -j REDIRECT --to-ports 65535',
];

describe('extractGuardState', () => {
  it('finds our chains, the entry jump and kube-proxy position', () => {
    const s = stateOf(withGuard(KUBE_NAT_V4, GUARD));
    expect(s.entryJumps.map((e) => e.position)).toEqual([1]);
    expect(s.kubeServicesAt).toBe(2);
    expect(s.chains.map((c) => [c.name, c.rules.length])).toEqual([
      ['NPG-PREROUTING', 1],
      ['NPG-TCP-30001', 1],
    ]);
    expect(s.foreignReferences).toEqual([]);
  });

  it('notes foreign jumps into our chains', () => {
    const s = stateOf(withGuard(KUBE_NAT_V4, GUARD).replace('COMMIT', '-A OUTPUT -j NPG-TCP-30001\nCOMMIT'));
    expect(s.foreignReferences.map((f) => [f.chain, f.position, f.target])).toEqual([
      ['OUTPUT', 2, 'NPG-TCP-30001'],
    ]);
  });

  it('no nat table: no guard; truncated or other family: error', () => {
    expect(extractGuardState(parseDump('*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n'), 'ipv4')).toMatchObject({
      ok: true,
      state: { chains: [] },
    });
    const truncated = KUBE_NAT_V4.replace(/COMMIT\n[\s\S]*$/, '');
    const r = parseIptablesSave(truncated, { family: 'ipv4' });
    expect(r.ok && extractGuardState(r.ruleset, 'ipv4')).toMatchObject({
      ok: false,
      error: 'the ipv4 nat table dump is incomplete (no COMMIT)',
    });
    const v6 = parseDump(withGuard(KUBE_NAT_V6, ['-A NPG-TCP-1 -s 2001:2::/48 -j RETURN']), 'ipv6');
    expect(extractGuardState(v6, 'ipv4')).toMatchObject({ ok: false });
  });

  it('reads an `iptables -S` excerpt when told to', () => {
    const excerpt = [
      '-P PREROUTING ACCEPT',
      '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A PREROUTING -m comment --comment "nodeport-guard: entry" -j NPG-PREROUTING',
      '-N NPG-PREROUTING',
      '-A NPG-PREROUTING -p tcp -m tcp --dport 30001 -m addrtype --dst-type LOCAL -j NPG-TCP-30001',
    ].join('\n');
    const r = parseIptablesSave(excerpt, { family: 'ipv4', table: 'nat' });
    if (!r.ok) throw new Error(r.error.message);
    const s = extractGuardState(r.ruleset, 'ipv4', { excerpt: true });
    expect(s).toMatchObject({ ok: true, state: { kubeServicesAt: 1, entryJumps: [{ position: 2 }] } });
  });
});
