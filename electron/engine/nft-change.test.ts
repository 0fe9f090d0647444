// The engine's nft guard glue on recorded node output: a plan read of a node in kube-proxy's
// nftables mode becomes an nft-only change (one `nft -f`, the listing to compare under the lock, the
// saved state, the timer's undo); rollback and remove find our table; verify takes the nft verify.
import { describe, expect, it } from 'vitest';
import { desiredGuard } from '../../shared/guard/desired';
import { parseNftSavedState } from '../../shared/guard/nft/index.js';
import { CHAINS_JSON, FIXTURE_POLICY, TABLE_JSON } from '../../shared/guard/nft/test-support/fixtures';
import { applyChange, changeBundle, removeChange, rollbackChange, stateHashes } from './node-change';
import { changeLines, planTextLines } from './plan-text';
import { planHashOf } from './run-changes';
import { parseScriptOutput } from './sections';
import { verifyGuard } from './send-change';
import { nodeSummary } from './service/nodes';
import { nftExcerpt, snapshotFromOutput } from './snapshot';
import { bundleFiles, KUBE_NAT, policyAllowing, snapshotOf, withGuard } from './test-support/dumps';

const NO_TABLE =
  'Error: No such file or directory\nlist table inet nodeport-guard\n                ^^^^^^^^^^^^^^';

/** READ_SCRIPT's output on a node in nftables mode (iptables holds no kube-proxy rule). */
function nftNode(
  what: 'plan' | 'guard' | 'full',
  guard: { body: string; rc: number },
  extra = '',
): ReturnType<typeof snapshotFromOutput> {
  const v4 = what === 'full' ? '*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT' : '-P PREROUTING ACCEPT -c 0 0';
  const text = [
    '%%npg dir /var/lib/nodeport-guard/netns/n1',
    '%%npg kube-backend default',
    '%%npg begin v4',
    v4,
    '%%npg end v4 0',
    ...(what === 'full' ? [] : ['%%npg chains.v4 PREROUTING NPG-PREROUTING']),
    '%%npg begin v6',
    v4,
    '%%npg end v6 0',
    ...(what === 'full' ? [] : ['%%npg chains.v6 PREROUTING']),
    '%%npg kube-proxy-nftables yes',
    '%%npg nft-guard read',
    '%%npg begin nft.guard',
    guard.body,
    `%%npg end nft.guard ${guard.rc}`,
    ...(what === 'guard' ? ['%%npg begin nft.chains', CHAINS_JSON, '%%npg end nft.chains 0'] : []),
    '%%npg begin addr',
    '2: eth0    inet 198.18.0.11/16 scope global eth0\\       valid_lft forever',
    '2: eth0    inet6 2001:2::11/64 scope global \\       valid_lft forever',
    '%%npg end addr 0',
    extra,
  ].join('\n');
  return snapshotFromOutput('n1', parseScriptOutput(text), what);
}

function snap(...args: Parameters<typeof nftNode>) {
  const r = nftNode(...args);
  if (!r.ok) throw new Error(r.message);
  return r.snapshot;
}

const meta = { token: '0123456789abcdef', operator: 'me', time: 't', planHash: 'p' };

describe('a node in nftables mode', () => {
  it('is read with our table: absent is a state, the excerpt is what the change script compares', () => {
    const s = snap('plan', { body: NO_TABLE, rc: 1 });
    expect(s.mode).toBe('nftables');
    expect(s.guardBackend).toBe('nft');
    expect(s.nftGuard?.table).toEqual({ ok: true, value: { table: 'absent' } });
    expect(s.nftGuard?.excerpt).toBe('absent\n');
    const present = snap('plan', { body: TABLE_JSON, rc: 0 });
    // Counters are not part of it (they change with every packet), handles are.
    expect(present.nftGuard?.excerpt).not.toMatch(/"packets"/);
    expect(present.nftGuard?.excerpt).toContain('"handle": 6');
    expect(nftExcerpt(TABLE_JSON.replace('"packets": 3, "bytes": 180', '"packets": 9, "bytes": 540'))).toBe(
      present.nftGuard?.excerpt,
    );
  });

  it('says why when nft failed, and plans nothing from it', () => {
    const s = snap('plan', { body: 'Error: Operation not permitted', rc: 1 });
    expect(s.nftGuard?.table.ok).toBe(false);
    const r = applyChange(s, FIXTURE_POLICY);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toBe(
      'n1: could not read table inet nodeport-guard: nft -j list table failed (exit 1): Error: Operation not permitted',
    );
    // Nor does remove report success with a guard it could not see.
    const rm = removeChange(snap('full', { body: 'Error: Operation not permitted', rc: 1 }));
    expect(rm.ok).toBe(false);
    expect(!rm.ok && rm.message).toMatch(/^n1: our nft table could not be read, so it cannot be removed: /);
  });

  it('takes the nft guard: one nft -f, no iptables part, the bundle carries the check, save and undo', () => {
    const s = snap('plan', { body: NO_TABLE, rc: 1 });
    const r = applyChange(s, FIXTURE_POLICY);
    if (!r.ok) throw new Error(r.message);
    const c = r.change;
    expect(c.restores).toEqual([]);
    expect(c.before).toEqual([]);
    expect(c.plan.noop).toBe(false);
    expect(c.plan.errors).toEqual([]);
    expect(c.nft?.text).toMatch(
      /^add table inet nodeport-guard\ndelete table inet nodeport-guard\ntable inet/m,
    );
    const files = bundleFiles(changeBundle(c, meta));
    expect([...files.keys()].sort()).toEqual([
      'expect.nft',
      'expire.sh',
      'order',
      'restore.nft',
      'saved.meta',
      'saved.nft',
      'undo.nft',
    ]);
    expect(files.get('expect.nft')).toBe('absent\n');
    expect(files.get('restore.nft')).toBe(c.nft?.text);
    // No table before: the timer deletes ours, and succeeds whether or not the apply went through.
    expect(files.get('undo.nft')).toContain(
      'add table inet nodeport-guard\ndelete table inet nodeport-guard\n',
    );
    expect(parseNftSavedState(files.get('saved.nft') ?? '')).toEqual({
      ok: true,
      value: { table: 'absent' },
    });
    expect(planHashOf([c])).not.toBe(planHashOf([{ ...c, nft: { ...c.nft!, text: 'x' } }]));
    const h = stateHashes(c);
    expect(h.before).toBe(c.nft?.plan.stateHash);
    expect(h.after).not.toBe(h.before);
  });

  it('plans nothing when the table holds the policy, and says which guard each node takes', () => {
    const s = snap('plan', { body: TABLE_JSON, rc: 0 });
    const r = applyChange(s, FIXTURE_POLICY);
    if (!r.ok) throw new Error(r.message);
    expect(r.change.plan.noop).toBe(true);
    expect(r.change.nft?.text).toBe('');
    const changed = applyChange(s, policyAllowing(['198.18.100.10']));
    if (!changed.ok) throw new Error(changed.message);
    expect(changeLines(changed.change)[0]).toBe('n1: nft table inet nodeport-guard: 10 edits');
    const ipt = applyChange(snapshotOf('n2', KUBE_NAT), policyAllowing(['198.18.100.10']));
    if (!ipt.ok) throw new Error(ipt.message);
    const lines = planTextLines({
      changes: [changed.change, ipt.change],
      unplanned: [],
      untouched: [],
      snapshots: [],
    });
    expect(lines.slice(0, 2)).toEqual([
      'guard nft (table inet nodeport-guard, at dstnat - 10, before any DNAT): n1',
      'guard iptables (NPG- chains in nat PREROUTING): n2',
    ]);
  });

  it('rolls back to the saved table and removes ours, beside any iptables chains', () => {
    const saved = bundleFiles(
      changeBundle(
        (
          applyChange(snap('plan', { body: TABLE_JSON, rc: 0 }), policyAllowing(['198.18.100.10'])) as {
            change: Parameters<typeof changeBundle>[0];
          }
        ).change,
        meta,
      ),
    ).get('saved.nft')!;
    const withSaved = snap(
      'full',
      { body: NO_TABLE, rc: 1 },
      `%%npg begin state:saved.nft\n${saved}\n%%npg end state:saved.nft 0`,
    );
    expect(withSaved.saved.nft).toBe(saved);
    const rb = rollbackChange(withSaved);
    if (!rb.ok) throw new Error(rb.message);
    expect(rb.change.restores).toEqual([]);
    expect(rb.change.nft?.text).toContain('set allow-tcp-30001-v4');
    expect(rb.change.nft?.target.present).toBe(true);

    // Remove: our table goes; on an iptables node with our chains and a leftover table, both go.
    const rm = removeChange(snap('full', { body: TABLE_JSON, rc: 0 }));
    if (!rm.ok) throw new Error(rm.message);
    expect(rm.change.nft?.text.split('\n').slice(1)).toEqual(['delete table inet nodeport-guard', '']);
    const both = snapshotOf(
      'n3',
      withGuard(KUBE_NAT),
      `%%npg nft-guard read\n%%npg begin nft.guard\n${TABLE_JSON}\n%%npg end nft.guard 0\n`,
    );
    expect(both.guardBackend).toBe('iptables');
    const rm2 = removeChange(both);
    if (!rm2.ok) throw new Error(rm2.message);
    expect(rm2.change.restores.length).toBe(1);
    expect(rm2.change.nft?.text).toContain('delete table inet nodeport-guard');
    expect(changeLines(rm2.change)[0]).toBe('n3: IPv4: 3 edits, nft table inet nodeport-guard: 1 edit');
    // Nothing of nft on an iptables node that has no table of ours.
    const none = removeChange(snapshotOf('n4', withGuard(KUBE_NAT)));
    expect(none.ok && none.change.nft).toBeUndefined();
  });

  it("is summed up for the desktop's node list by our table", () => {
    expect(nodeSummary(snap('full', { body: TABLE_JSON, rc: 0 }))).toMatchObject({
      mode: 'nftables',
      guard: 'healthy',
      guardChains: 2,
    });
    expect(nodeSummary(snap('full', { body: NO_TABLE, rc: 1 }))).toMatchObject({ guard: 'none' });
    const moved = TABLE_JSON.replace('"prio": -110', '"prio": -90');
    expect(nodeSummary(snap('full', { body: moved, rc: 0 }))).toMatchObject({ guard: 'unhealthy' });
  });

  it('is verified by the nft verify, priority check included', () => {
    const d = desiredGuard(FIXTURE_POLICY, { families: ['ipv4', 'ipv6'] });
    if (!d.ok) throw new Error('policy');
    expect(verifyGuard(snap('guard', { body: TABLE_JSON, rc: 0 }), d.desired).status).toBe('ok');
    const absent = verifyGuard(snap('guard', { body: NO_TABLE, rc: 1 }), d.desired);
    expect(absent.status).toBe('drift');
    expect(absent.findings.map((f) => f.message)).toContain(
      'n1: table inet nodeport-guard missing: nothing is guarded',
    );
    const early = CHAINS_JSON.replace('"prio": -100', '"prio": -120');
    const text = nftNode('guard', { body: TABLE_JSON, rc: 0 });
    if (!text.ok) throw new Error(text.message);
    const shadowed = snapshotFromOutput(
      'n1',
      parseScriptOutput(
        [
          '%%npg kube-backend default',
          '%%npg begin v4',
          '-P PREROUTING ACCEPT -c 0 0',
          '%%npg end v4 0',
          '%%npg chains.v4 PREROUTING NPG-PREROUTING',
          '%%npg kube-proxy-nftables yes',
          '%%npg nft-guard read',
          '%%npg begin nft.guard',
          TABLE_JSON,
          '%%npg end nft.guard 0',
          '%%npg begin nft.chains',
          early,
          '%%npg end nft.chains 0',
          '',
        ].join('\n'),
      ),
      'guard',
    );
    if (!shadowed.ok) throw new Error(shadowed.message);
    const v = verifyGuard(shadowed.snapshot, d.desired);
    expect(v.status).toBe('drift');
    expect(v.findings.map((f) => f.message)).toContain(
      'n1: nat prerouting chain ip kube-proxy nat-prerouting (priority -120) runs before the guard (-110) for IPv4: it may DNAT a NodePort before the guard sees it',
    );
  });
});
