// The workspace's guard backend on iptables- and ipvs-mode nodes (policy.guardBackend), on recorded
// node output: which guard a node takes, and the one apply that switches a node from one guard to
// the other with the new guard written before the old one goes (the change script's part order,
// and the timer's undo in reverse).
import { describe, expect, it } from 'vitest';
import { CHAINS_JSON, FIXTURE_POLICY, TABLE_JSON } from '../../shared/guard/nft/test-support/fixtures';
import type { Policy } from '../../shared/workspace/schema';
import { applyChange, changeBundle, partOrder } from './node-change';
import { planTextLines } from './plan-text';
import { withGuardBackend } from './policy-edit';
import { verifyChange } from './send-change';
import { traceOnNode } from './service/nodes';
import type { WorkspaceState } from './service/workspace-state';
import { guardBackendOf } from './snapshot';
import { bundleFiles, KUBE_NAT, NFT_NO_TABLE, snapshotOf, withGuard } from './test-support/dumps';

const NFT: Policy = { ...FIXTURE_POLICY, guardBackend: 'nft' };
const meta = { token: '0123456789abcdef', operator: 'me', time: 't', planHash: 'p' };

/**
 * READ_SCRIPT's sections for our table (and the base chains, as guard reads list them), on a
 * dual-stack node (an IPv6 nat table and address), as the nft fixture's table guards both families.
 */
const V6_NAT = [
  '*nat',
  ':PREROUTING ACCEPT [0:0]',
  ':KUBE-SERVICES - [0:0]',
  '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  'COMMIT',
].join('\n');

function nftSections(body: string, rc: number, chains = false, v6 = V6_NAT): string {
  return [
    '%%npg begin v6',
    v6,
    '%%npg end v6 0',
    '%%npg begin addr',
    '2: eth0    inet6 2001:2::11/64 scope global \\       valid_lft forever',
    '%%npg end addr 0',
    '%%npg nft-guard read',
    '%%npg begin nft.guard',
    body,
    `%%npg end nft.guard ${rc}`,
    ...(chains ? ['%%npg begin nft.chains', CHAINS_JSON, '%%npg end nft.chains 0'] : []),
    '',
  ].join('\n');
}

function prepared(change: ReturnType<typeof applyChange>) {
  if (!change.ok) throw new Error(change.message);
  return { changes: [change.change], unplanned: [], untouched: [], snapshots: [] };
}

describe('which guard a node takes', () => {
  it('nftables mode always takes nft; elsewhere the workspace chooses, where the node has nft', () => {
    expect(guardBackendOf('n1', 'nftables', 'iptables', true)).toEqual({ backend: 'nft' });
    expect(guardBackendOf('n1', 'iptables', 'iptables', true)).toEqual({ backend: 'iptables' });
    expect(guardBackendOf('n1', 'ipvs', 'nft', true)).toEqual({ backend: 'nft' });
    expect(guardBackendOf('n1', 'iptables', 'nft', false)).toEqual({
      backend: 'iptables',
      warning:
        'n1: the workspace asks for the nft guard, but the node has no nft: it keeps the iptables guard',
    });
  });

  it('a read without nft keeps the iptables guard and says so on the node', () => {
    const s = snapshotOf('n1', KUBE_NAT, '', 'nft');
    expect(s.guardBackend).toBe('iptables');
    expect(s.warnings).toContain(
      'n1: the workspace asks for the nft guard, but the node has no nft: it keeps the iptables guard',
    );
    const r = applyChange(s, NFT);
    expect(r.ok && r.change.nft).toBeUndefined();
    expect(r.ok && r.change.restores.length).toBe(1);
  });
});

describe('switching an iptables-mode node to the nft guard', () => {
  const before = snapshotOf('n1', withGuard(KUBE_NAT), nftSections(NFT_NO_TABLE, 1), 'nft');

  it('is one apply: our table written first, then the NPG- chains removed', () => {
    expect(before.mode).toBe('iptables');
    expect(before.guardBackend).toBe('nft');
    const r = applyChange(before, NFT);
    if (!r.ok) throw new Error(r.message);
    const c = r.change;
    expect(c.nft?.text).toContain('table inet nodeport-guard');
    expect(c.nft?.policy?.ports.map((p) => `${p.protocol}/${p.port}`)).toEqual(['tcp/30001', 'udp/30002']);
    // The iptables part removes every chain of ours and the entry jump.
    expect(c.restores.map((t) => t.family)).toEqual(['ipv4']);
    expect(c.restores[0]?.text).toContain('-X NPG-TCP-30001');
    expect(c.restores[0]?.text).toMatch(/^-D PREROUTING /m);
    expect(c.desired.ports).toEqual([]);
    expect(partOrder(c)).toBe('nft v4 v6');
    const f = bundleFiles(changeBundle(c, meta));
    expect(f.get('order')).toBe('nft v4 v6\n');
    expect(f.get('restore.nft')).toBe(c.nft?.text);
    expect(f.get('restore.v4')).toBe(c.restores[0]?.text);
    // The timer's undo puts the chains back and takes our table away.
    expect(f.get('undo.v4')).toContain(':NPG-TCP-30001');
    expect(f.get('undo.nft')).toContain('delete table inet nodeport-guard');
    expect(planTextLines(prepared(r))).toEqual(
      expect.arrayContaining([
        'guard nft (table inet nodeport-guard, at dstnat - 10, before any DNAT): n1',
        'switching to nft: table inet nodeport-guard is written first, then the NPG- chains go: n1',
      ]),
    );
  });

  it('is verified against the policy in our table and no chain of ours left in iptables', () => {
    const r = applyChange(before, NFT);
    if (!r.ok) throw new Error(r.message);
    const done = snapshotOf('n1', KUBE_NAT, nftSections(TABLE_JSON, 0, true), 'nft');
    expect(verifyChange(done, r.change).status).toBe('ok');
    // Both guards still there (the script stopped between its parts): the chains are drift.
    const half = snapshotOf('n1', withGuard(KUBE_NAT), nftSections(TABLE_JSON, 0, true), 'nft');
    const v = verifyChange(half, r.change);
    expect(v.status).toBe('drift');
    // Our table missing: drift too, named.
    const none = verifyChange(
      snapshotOf('n1', KUBE_NAT, nftSections(NFT_NO_TABLE, 1, true), 'nft'),
      r.change,
    );
    expect(none.findings.map((x) => x.message)).toContain(
      'n1: table inet nodeport-guard missing: nothing is guarded',
    );
  });

  it('on a node already switched, plans only what differs in our table and leaves iptables alone', () => {
    const s = snapshotOf('n1', KUBE_NAT, nftSections(TABLE_JSON, 0), 'nft');
    const r = applyChange(s, NFT);
    if (!r.ok) throw new Error(r.message);
    expect(r.change.restores).toEqual([]);
    expect(r.change.plan.noop).toBe(true);
    expect(partOrder(r.change)).toBe('v4 v6 nft');
  });
});

describe('switching back to the iptables guard', () => {
  it('writes the NPG- chains first, then removes our table, in one apply', () => {
    const s = snapshotOf('n1', KUBE_NAT, nftSections(TABLE_JSON, 0));
    expect(s.guardBackend).toBe('iptables');
    const r = applyChange(s, FIXTURE_POLICY);
    if (!r.ok) throw new Error(r.message);
    const c = r.change;
    expect(c.restores[0]?.text).toContain(':NPG-TCP-30001');
    expect(c.nft?.text).toContain('delete table inet nodeport-guard');
    expect(c.nft?.policy).toBeUndefined();
    expect(partOrder(c)).toBe('v4 v6 nft');
    expect(planTextLines(prepared(r))).toContain(
      'switching to iptables: the NPG- chains are written first, then table inet nodeport-guard goes: n1',
    );
    // Verified: our chains against the policy, our table gone.
    const done = snapshotOf(
      'n1',
      applied(KUBE_NAT, c.restores[0]?.text ?? ''),
      nftSections(NFT_NO_TABLE, 1, false, applied(V6_NAT, c.restores[1]?.text ?? '')),
    );
    const v = verifyChange(done, c);
    expect(v.findings.filter((f) => f.kind.startsWith('table'))).toEqual([]);
    expect(v.status, JSON.stringify(v.findings)).toBe('ok');
  });

  it('leaves a table it could not read alone: a broken nft must not stop the iptables guard', () => {
    const s = snapshotOf('n1', KUBE_NAT, nftSections('Error: Operation not permitted', 1));
    const r = applyChange(s, FIXTURE_POLICY);
    expect(r.ok && r.change.nft).toBeUndefined();
    expect(r.ok && r.change.restores.map((t) => t.family)).toEqual(['ipv4', 'ipv6']);
    // ... but said: an old nft guard there would keep blocking.
    expect(r.ok && r.change.plan.warnings.map((w) => w.message)).toContain(
      'n1: table inet nodeport-guard could not be read (nft -j list table failed (exit 1): Error: Operation not permitted): an nft guard left there by an earlier switch would stay and keep blocking',
    );
  });
});

describe('the workspace setting', () => {
  it('stores nft, drops the default, and refuses anything else in one line', () => {
    const on = withGuardBackend(FIXTURE_POLICY, 'nft');
    expect(on).toMatchObject({ ok: true, changed: true, policy: { guardBackend: 'nft' } });
    const off = withGuardBackend(NFT, 'iptables');
    expect(off.ok && off.changed).toBe(true);
    expect(off.ok && 'guardBackend' in off.policy).toBe(false);
    expect(withGuardBackend(FIXTURE_POLICY, 'iptables')).toMatchObject({ ok: true, changed: false });
    expect(withGuardBackend(FIXTURE_POLICY, 'ebpf\u001b[2J')).toEqual({
      ok: false,
      error: '--guard-backend "ebpf\\u001b[2J": one of iptables, nft',
    });
  });
});

/** The nat dump after an iptables-restore --noflush of `restore` (our guard lines added). */
function applied(dump: string, restore: string): string {
  const lines = restore.split('\n');
  const decl = lines.filter((l) => l.startsWith(':NPG-'));
  const rules = lines.filter((l) => l.startsWith('-A NPG-'));
  const entry = lines
    .find((l) => l.startsWith('-I PREROUTING 1 '))
    ?.replace('-I PREROUTING 1 ', '-A PREROUTING ');
  return dump
    .replace(':KUBE-', `${decl.map((d) => d.replace(/ \[0:0\]$/, '')).join('\n')}\n:KUBE-`)
    .replace(/^(-A PREROUTING )/m, `${entry}\n$1`)
    .replace(/^COMMIT$/m, `${rules.join('\n')}\nCOMMIT`);
}

describe('a trace on a node the nft guard takes (iptables mode)', () => {
  const s = snapshotOf('n1', KUBE_NAT, nftSections(TABLE_JSON, 0), 'nft');
  const state = {
    require: () => undefined,
    snapshots: new Map([['n1', s]]),
  } as unknown as WorkspaceState;
  const trace = (src: string) =>
    traceOnNode(state, 'n1', { src, dst: '198.18.0.11', dport: 30001, protocol: 'tcp' });

  it('a source our table does not allow is redirected there, before kube-proxy is reached', () => {
    const r = trace('198.18.200.1');
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.outcomes.map((o) => o.verdict)).toEqual(['redirect']);
    expect(r.value.outcomes[0]?.detail).toContain('table inet nodeport-guard');
  });

  it('an allowed source goes on through kube-proxy’s iptables rules to the pods', () => {
    const r = trace('198.18.7.7');
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.outcomes.length).toBeGreaterThan(0);
    expect(r.value.outcomes.every((o) => o.verdict === 'dnat')).toBe(true);
    expect(r.value.outcomes[0]?.hops.map((h) => h.chain)).toContain('KUBE-NODEPORTS');
  });
});

describe('plan of the nft guard with the base chains read', () => {
  it('warns of a nat prerouting chain that runs before ours, before anything is applied', () => {
    const early = CHAINS_JSON.replace('"prio": -100', '"prio": -120');
    const s = snapshotOf('n1', KUBE_NAT, nftSections(NFT_NO_TABLE, 1), 'nft');
    const withChains = snapshotOf(
      'n1',
      KUBE_NAT,
      `${nftSections(NFT_NO_TABLE, 1)}%%npg begin nft.chains\n${early}\n%%npg end nft.chains 0\n`,
      'nft',
    );
    const quiet = applyChange(s, NFT);
    const warned = applyChange(withChains, NFT);
    if (!quiet.ok || !warned.ok) throw new Error('plan');
    const kinds = (c: typeof quiet) => (c.ok ? c.change.plan.warnings.map((w) => w.kind) : []);
    expect(kinds(quiet)).not.toContain('nat-chain-before-guard');
    const w = warned.change.plan.warnings.find((x) => x.kind === 'nat-chain-before-guard');
    expect(w?.message).toMatch(
      /^n1: nat prerouting chain ip \S+ \S+ \(priority -120\) runs before the guard \(-110\) for IPv4: it may DNAT a NodePort before the guard sees it$/,
    );
  });
});
