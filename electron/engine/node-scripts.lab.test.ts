// The node scripts for real, without SSH: each test makes a throwaway network namespace holding
// kube-proxy's recorded nat tables (v4 and v6), runs READ_SCRIPT / CHANGE_SCRIPT / CONFIRM_SCRIPT
// in it with `ip netns exec ... sh -c SCRIPT`, and reads the result back with iptables-save.
// Needs root and iptables; the lab itself need not be up.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { desiredGuard } from '../../shared/guard/desired';
import type { Policy } from '../../shared/workspace/schema';
import { installScript } from './export';
import { applyChange, changeBundle, type NodeChange, removeChange, rollbackChange } from './node-change';
import { CHANGE_SCRIPT, CONFIRM_SCRIPT, READ_SCRIPT } from './node-scripts';
import { parseScriptOutput, type ScriptOutput } from './sections';
import { verifyGuard, verifySnapshot } from './send-change';
import { type NodeSnapshot, snapshotFromOutput } from './snapshot';

const fixture = (name: string) => readFileSync(`e2e/lab/fixtures/${name}`, 'utf8');
const KUBE_V4 = fixture('iptables-v4-current.iptables-save-t-nat.txt');
const KUBE_V6 = fixture('iptables-v6-current.ip6tables-save-t-nat.txt');

/** A stand-in for kube-proxy's nftables-mode table: its nat chain at dstnat. */
const NFT_KUBE_PROXY =
  'table ip kube-proxy {\n  chain nat-prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n  }\n}\n';

const canRun = process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list']).status === 0;

interface Ns {
  readonly name: string;
  sh(
    script: string,
    args: readonly string[],
    stdin?: string,
  ): { code: number; out: ScriptOutput; stdout: string };
  save(v6?: boolean): string;
  read(): NodeSnapshot;
}

function withNs<T>(fn: (ns: Ns) => Promise<T> | T): Promise<T> {
  const name = `npgeng-${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  const exec = (argv: string[], input?: string) =>
    spawnSync('ip', ['netns', 'exec', name, ...argv], { input, encoding: 'utf8', timeout: 30_000 });
  const run = async () => {
    exec(['ip', 'link', 'set', 'lo', 'up']);
    expect(exec(['iptables-restore', '-w'], KUBE_V4).status).toBe(0);
    expect(exec(['ip6tables-restore', '-w'], KUBE_V6).status).toBe(0);
    const ns: Ns = {
      name,
      sh: (script, args, stdin) => {
        const r = exec(['sh', '-c', script, 'npg-test', ...args], stdin);
        return { code: r.status ?? -1, out: parseScriptOutput(r.stdout), stdout: r.stdout };
      },
      save: (v6 = false) => exec([v6 ? 'ip6tables-save' : 'iptables-save', '-t', 'nat']).stdout,
      read: () => {
        const r = ns.sh(READ_SCRIPT, ['full']);
        const s = snapshotFromOutput('n1', r.out, 'full');
        if (!s.ok) throw new Error(s.message);
        return s.snapshot;
      },
    };
    return fn(ns);
  };
  return run().finally(() => {
    execFileSync('ip', ['netns', 'del', name]);
    rmSync(`/var/lib/nodeport-guard/netns/${name}`, { recursive: true, force: true });
  });
}

const POLICY: Policy = {
  nodePorts: [
    {
      port: 30001,
      protocol: 'tcp',
      mode: 'enforce',
      blackholePort: 65535,
      allow: [
        { cidr: '198.18.100.10', label: 'a' },
        { cidr: '2001:2:0:100::10', label: 'a6' },
      ],
    },
    { port: 30002, protocol: 'udp', mode: 'audit', blackholePort: 65535, allow: [{ cidr: '198.18.0.0/15' }] },
  ],
};

const TOKEN = '00112233aabbccdd';
const meta = (token = TOKEN) => ({ token, operator: 'test', time: new Date().toISOString(), planHash: 'p' });

function change(s: NodeSnapshot, policy: Policy = POLICY): NodeChange {
  const r = applyChange(s, policy);
  if (!r.ok) throw new Error(r.message);
  return r.change;
}

function send(ns: Ns, c: NodeChange, opts: { token?: string; secs?: number; bundle?: string } = {}) {
  const token = opts.token ?? TOKEN;
  return ns.sh(
    CHANGE_SCRIPT,
    [c.op, c.snapshot.toolBackend, token, String(opts.secs ?? 0)],
    opts.bundle ?? changeBundle(c, meta(token)),
  );
}

const ours = (dump: string) =>
  dump
    .split('\n')
    .filter((l) => l.includes('NPG-'))
    .join('\n');
const notOurs = (dump: string) =>
  dump
    .split('\n')
    .filter((l) => !l.includes('NPG-') && !l.startsWith('#'))
    .join('\n');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!canRun)('node scripts in a throwaway netns', () => {
  it('read: both families, per-netns directory, the excerpt the change script compares', () =>
    withNs((ns) => {
      const s = ns.read();
      expect(s.dir).toBe(`/var/lib/nodeport-guard/netns/${ns.name}`);
      expect(s.guardFamilies).toEqual(['ipv4', 'ipv6']);
      expect(s.mode).toBe('iptables');
      expect(s.families[0]!.excerpt).toMatch(/^-A PREROUTING .* -j KUBE-SERVICES\n$/);
    }));

  it('apply: both families land, nothing outside our chains changes; applying twice is a no-op; a stale plan is refused', () =>
    withNs((ns) => {
      const before = [notOurs(ns.save()), notOurs(ns.save(true))];
      const c = change(ns.read());
      const r = send(ns, c);
      expect(r.out.markers.get('result')).toEqual(['ok']);
      expect(ours(ns.save())).toContain('-A NPG-TCP-30001 -s 198.18.100.10/32');
      expect(ours(ns.save(true))).toContain('-A NPG-TCP-30001 -s 2001:2:0:100::10/128');
      expect([notOurs(ns.save()), notOurs(ns.save(true))]).toEqual(before);
      const s2 = ns.read();
      expect(change(s2).plan.noop).toBe(true);
      // The same change again: the node no longer shows what it was planned from.
      const stale = send(ns, c, { token: 'aaaaaaaaaaaaaaaa' });
      expect(stale.out.markers.get('result')).toEqual(['stale', 'v4']);
      // The node saved the state before the change, and rollback plans back to it.
      expect(readFileSync(`${s2.dir}/saved.v4`, 'utf8')).toMatch(/^# nodeport-guard saved state v1 ipv4/);
      const rb = rollbackChange(s2);
      if (!rb.ok) throw new Error(rb.message);
      expect(send(ns, rb.change, { token: 'bbbbbbbbbbbbbbbb' }).out.markers.get('result')).toEqual(['ok']);
      expect(ours(ns.save())).toBe('');
      expect(ours(ns.save(true))).toBe('');
    }));

  it('apply planned from a plan read (no full dump): same plan as from a full read, stale checks on the chains it read', () =>
    withNs((ns) => {
      const chains = [
        ...new Set(change(ns.read()).desired.families.flatMap((f) => f.chains.map((x) => x.name))),
      ];
      const planRead = (): NodeSnapshot => {
        const r = ns.sh(READ_SCRIPT, ['plan', ...chains]);
        const s = snapshotFromOutput('n1', r.out, 'plan');
        if (!s.ok) throw new Error(s.message);
        return s.snapshot;
      };
      const full = ns.read();
      const fast = planRead();
      // What plan warnings need, without kube-proxy's dump: mode, families, IPv6 NodePorts, addresses.
      expect(fast.mode).toBe(full.mode);
      expect(fast.guardFamilies).toEqual(full.guardFamilies);
      expect(fast.families.map((f) => f.nodePorts)).toEqual(full.families.map((f) => f.nodePorts));
      expect(fast.families[1]!.nodePorts!.length).toBeGreaterThan(0);
      expect(fast.families[0]!.chains?.slice(0, 2)).toEqual(['PREROUTING', 'NPG-PREROUTING']);
      const c = change(fast);
      expect(c.restores.map((r) => r.text)).toEqual(change(full).restores.map((r) => r.text));
      expect(send(ns, c).out.markers.get('result')).toEqual(['ok']);
      expect(ours(ns.save())).toContain('-A NPG-TCP-30001 -s 198.18.100.10/32');
      // Planned again from a plan read: nothing to do. A hand edit of our chain after that read
      // makes the plan stale; so does kube-proxy moving its jump in front of ours.
      const again = planRead();
      expect(change(again).plan.noop).toBe(true);
      const next = change(again, {
        nodePorts: [{ ...POLICY.nodePorts[0]!, allow: [{ cidr: '198.18.100.11' }] }],
      });
      spawnSync('ip', [
        'netns',
        'exec',
        ns.name,
        'iptables',
        '-t',
        'nat',
        '-A',
        'NPG-TCP-30001',
        '-j',
        'RETURN',
      ]);
      expect(send(ns, next, { token: 'cccccccccccccccc' }).out.markers.get('result')).toEqual([
        'stale',
        'v4',
      ]);
      const fresh = change(planRead(), {
        nodePorts: [{ ...POLICY.nodePorts[0]!, allow: [{ cidr: '198.18.100.11' }] }],
      });
      spawnSync('ip', [
        'netns',
        'exec',
        ns.name,
        'ip6tables',
        '-t',
        'nat',
        '-I',
        'PREROUTING',
        '1',
        '-j',
        'KUBE-SERVICES',
      ]);
      expect(send(ns, fresh, { token: 'dddddddddddddddd' }).out.markers.get('result')).toEqual([
        'stale',
        'v6',
      ]);
      // Counters moving (traffic) do not make a plan stale.
      const last = change(planRead(), {
        nodePorts: [{ ...POLICY.nodePorts[0]!, allow: [{ cidr: '198.18.100.11' }] }],
      });
      spawnSync('ip', ['netns', 'exec', ns.name, 'iptables', '-t', 'nat', '-Z']);
      expect(send(ns, last, { token: 'eeeeeeeeeeeeeeee' }).out.markers.get('result')).toEqual(['ok']);
      expect(ours(ns.save())).toContain('-A NPG-TCP-30001 -s 198.18.100.11/32');
      expect(ours(ns.save())).not.toContain('198.18.100.10/32');
    }));

  it('the fast guard read (iptables -S of PREROUTING and our chains) sees what the full read sees', () =>
    withNs((ns) => {
      const c = change(ns.read());
      expect(send(ns, c).out.markers.get('result')).toEqual(['ok']);
      const chains = c.desired.families.flatMap((f) => f.chains.map((x) => x.name));
      const guard = (): NodeSnapshot => {
        const r = snapshotFromOutput('n1', ns.sh(READ_SCRIPT, ['guard', ...new Set(chains)]).out, 'guard');
        if (!r.ok) throw new Error(r.message);
        return r.snapshot;
      };
      const full = ns.read();
      const fast = guard();
      expect(fast.guardFamilies).toEqual(full.guardFamilies);
      for (const f of ['ipv4', 'ipv6'] as const) {
        const a = full.families.find((x) => x.family === f)!.state;
        const b = fast.families.find((x) => x.family === f)!.state;
        expect(b.chains.map((x) => x.name)).toEqual(a.chains.map((x) => x.name));
        expect(b.entryJumps.map((x) => x.position)).toEqual(a.entryJumps.map((x) => x.position));
        expect(b.kubeServicesAt).toBe(a.kubeServicesAt);
      }
      expect(verifySnapshot(fast, c.desired).status).toBe('ok');
      // A rule deleted by hand: the fast read finds it too.
      spawnSync('ip', ['netns', 'exec', ns.name, 'iptables', '-t', 'nat', '-D', 'NPG-TCP-30001', '1']);
      const drift = verifySnapshot(guard(), c.desired);
      expect(drift.status).toBe('drift');
      expect(drift.findings.map((x) => x.kind)).toContain('rule-missing');
    }));

  it('our chains in the legacy backend while kube-proxy uses nft: seen by both reads, verify says so', () =>
    withNs((ns) => {
      // kube-proxy (>= 1.23) marks its backend with this chain; the fixture holds only the nat table.
      spawnSync('ip', ['netns', 'exec', ns.name, 'iptables-nft', '-t', 'mangle', '-N', 'KUBE-IPTABLES-HINT']);
      const c = change(ns.read());
      expect(c.snapshot.toolBackend).toBe('nft');
      expect(send(ns, c).out.markers.get('result')).toEqual(['ok']);
      expect(ns.read().guardOtherBackend).toBeUndefined();
      spawnSync('ip', ['netns', 'exec', ns.name, 'iptables-legacy', '-t', 'nat', '-N', 'NPG-PREROUTING']);
      const full = ns.read();
      expect(full.guardOtherBackend).toBe('legacy');
      const chains = [...new Set(c.desired.families.flatMap((f) => f.chains.map((x) => x.name)))];
      const r = snapshotFromOutput('n1', ns.sh(READ_SCRIPT, ['guard', ...chains]).out, 'guard');
      if (!r.ok) throw new Error(r.message);
      expect(r.snapshot.guardOtherBackend).toBe('legacy');
      expect(verifySnapshot(r.snapshot, c.desired).findings.map((f) => f.kind)).toContain('backend-mismatch');
    }));

  it('kube-proxy in nftables mode (its own table, no NodePort chain in iptables) is told by both reads', () =>
    withNs((ns) => {
      const nsExec = (argv: string[]) => spawnSync('ip', ['netns', 'exec', ns.name, ...argv]);
      expect(ns.read().mode).toBe('iptables');
      const plan = (): NodeSnapshot => {
        const r = snapshotFromOutput('n1', ns.sh(READ_SCRIPT, ['plan']).out, 'plan');
        if (!r.ok) throw new Error(r.message);
        return r.snapshot;
      };
      expect(plan().mode).toBe('iptables');
      for (const t of ['-F', '-X']) nsExec(['iptables', '-t', 'nat', t]);
      expect(nsExec(['nft', 'add', 'table', 'ip', 'kube-proxy']).status).toBe(0);
      expect(ns.read().mode).toBe('nftables');
      expect(plan().mode).toBe('nftables');
      // The guard there is our own table (shared/guard/nft), not NPG- chains.
      const c = change(plan());
      expect(c.plan.errors).toEqual([]);
      expect(c.restores).toEqual([]);
      expect(c.nft?.text).toContain('table inet nodeport-guard');
    }));

  it('the nft guard through CHANGE_SCRIPT: one nft -f under the lock, a stale listing refused, rollback and remove', () =>
    withNs((ns) => {
      const nsExec = (argv: string[], input?: string) =>
        spawnSync('ip', ['netns', 'exec', ns.name, ...argv], { input, encoding: 'utf8' });
      for (const t of ['-F', '-X']) nsExec(['iptables', '-t', 'nat', t]);
      expect(nsExec(['nft', '-f', '-'], NFT_KUBE_PROXY).status).toBe(0);
      const read = (what: 'plan' | 'guard' | 'full'): NodeSnapshot => {
        const r = snapshotFromOutput('n1', ns.sh(READ_SCRIPT, [what]).out, what);
        if (!r.ok) throw new Error(r.message);
        return r.snapshot;
      };
      const table = () => nsExec(['nft', 'list', 'table', 'inet', 'nodeport-guard']);
      const c = change(read('plan'));
      expect(c.nft?.excerpt).toBe('absent\n');
      const r = send(ns, c, { secs: 0 });
      expect(r.out.markers.get('result'), r.stdout).toEqual(['ok']);
      expect(r.out.events.map((e) => e.join(' '))).toContain('restored nft');
      expect(table().stdout).toContain('ip saddr != @allow-tcp-30001-v4');
      expect(readFileSync(`/var/lib/nodeport-guard/netns/${ns.name}/saved.nft`, 'utf8')).toMatch(
        /^# nodeport-guard nft saved state v1\n/,
      );
      // The guard read sees kube-proxy's nftables mode and our table; verify is clean.
      const g = read('guard');
      expect(g.guardBackend).toBe('nft');
      const d = desiredGuard(POLICY, { families: g.guardFamilies });
      if (!d.ok) throw new Error('policy');
      expect(verifyGuard(g, d.desired).status).toBe('ok');
      // Planned again from a fresh read: nothing to do. The listing the read took (TS strips the
      // counters) equals the one the script takes under the lock (sed strips them): not stale.
      expect(change(read('plan')).plan.noop).toBe(true);
      const next = change(read('plan'), {
        nodePorts: [{ ...POLICY.nodePorts[0]!, allow: [{ cidr: '198.18.100.11' }] }],
      });
      expect(send(ns, next, { bundle: changeBundle(next, meta()) }).out.markers.get('result')).toEqual([
        'ok',
      ]);
      expect(table().stdout).toContain('198.18.100.11');

      // Stale: the table changed by hand after the plan was read; nothing changes.
      const stale = change(read('plan'));
      expect(
        nsExec(['nft', 'add', 'element', 'inet', 'nodeport-guard', 'allow-tcp-30001-v4', '{ 198.18.9.9 }'])
          .status,
      ).toBe(0);
      const before = table().stdout;
      const st = send(ns, stale);
      expect(st.out.markers.get('result')).toEqual(['stale', 'nft']);
      expect(table().stdout).toBe(before);

      // Rollback: the table as saved before the last change (198.18.100.11 only); remove: none.
      const rb = rollbackChange(read('full'));
      if (!rb.ok) throw new Error(rb.message);
      expect(send(ns, rb.change).out.markers.get('result')).toEqual(['ok']);
      expect(table().stdout).toContain('198.18.100.10');
      expect(table().stdout).not.toContain('198.18.9.9');
      const rm = removeChange(read('full'));
      if (!rm.ok) throw new Error(rm.message);
      expect(send(ns, rm.change).out.markers.get('result')).toEqual(['ok']);
      expect(table().status).not.toBe(0);
      expect(nsExec(['nft', 'list', 'table', 'ip', 'kube-proxy']).status).toBe(0);
    }));

  it('a failing IPv6 transaction undoes the IPv4 one: the node stays fully old', () =>
    withNs((ns) => {
      const c = change(ns.read());
      const good = changeBundle(c, meta());
      const broken = good.replace(
        /(%%npg file restore\.v6\n)/,
        '$1*nat\n-A NPG-NOWHERE -j RETURN\nCOMMIT\n%%npg file ignored\n',
      );
      const before = ns.save();
      const r = send(ns, c, { bundle: broken });
      expect(r.out.markers.get('result')).toEqual(['restore-failed', 'v6']);
      expect(r.out.events.map((e) => e.join(' '))).toContain('undone v4');
      expect(ours(ns.save())).toBe('');
      expect(notOurs(ns.save())).toBe(notOurs(before));
    }));

  it('commit-confirmed: without confirm the timer restores the saved state; confirmed, it stays', async () => {
    await withNs(async (ns) => {
      const c = change(ns.read());
      const r = send(ns, c, { secs: 2 });
      expect(r.out.markers.get('result')).toEqual(['ok']);
      expect(r.out.markers.get('timer')?.[0]).toBe('sh');
      expect(ours(ns.save())).not.toBe('');
      // A second apply while one waits for confirmation is refused.
      const other = removeChange(ns.read());
      if (!other.ok) throw new Error();
      expect(
        send(ns, { ...other.change, op: 'apply' }, { token: 'cccccccccccccccc' }).out.markers.get('result'),
      ).toEqual(['pending', TOKEN]);
      for (let i = 0; i < 40 && ours(ns.save()) !== ''; i++) await sleep(250);
      expect(ours(ns.save())).toBe('');
      expect(ours(ns.save(true))).toBe('');
      const late = ns.sh(CONFIRM_SCRIPT, [TOKEN]);
      expect(late.out.markers.get('result')).toEqual(['none']);
      expect(late.out.markers.get('last-expired')?.[0]).toBe(TOKEN);
    });
    await withNs(async (ns) => {
      const c = change(ns.read());
      expect(send(ns, c, { secs: 6 }).out.markers.get('result')).toEqual(['ok']);
      expect(ns.sh(CONFIRM_SCRIPT, ['ffffffffffffffff']).out.markers.get('result')).toEqual(['other', TOKEN]);
      expect(ns.sh(CONFIRM_SCRIPT, [TOKEN]).out.markers.get('result')).toEqual(['confirmed', TOKEN]);
      await sleep(7000);
      expect(ours(ns.save())).toContain('NPG-TCP-30001');
      expect(ns.read().pending).toBeUndefined();
    });
  });

  it("export's install script, run twice, leaves exactly the guard npg apply would (nothing left to apply)", () =>
    withNs((ns) => {
      // A guard for another port: its chain is stale under the new policy and must go.
      ns.sh(
        CHANGE_SCRIPT,
        ['apply', 'default', TOKEN, '0'],
        changeBundle(
          change(ns.read(), {
            nodePorts: [
              {
                port: 30009,
                protocol: 'tcp',
                mode: 'enforce',
                blackholePort: 65535,
                allow: [{ cidr: '198.18.0.9' }],
              },
            ],
          }),
          meta(),
        ),
      );
      const script = installScript(POLICY, 'test');
      const before = notOurs(ns.save());
      for (let i = 0; i < 2; i++) {
        const r = spawnSync('ip', ['netns', 'exec', ns.name, 'sh', '-c', script], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
      }
      expect(notOurs(ns.save())).toBe(before);
      expect(ours(ns.save())).not.toContain('30009');
      const s = ns.read();
      expect(change(s).plan.noop).toBe(true);
      const d = desiredGuard(POLICY, { families: s.guardFamilies });
      if (!d.ok) throw new Error();
      expect(verifySnapshot(s, d.desired).status).toBe('ok');
    }));

  it("export's install script for a workspace that guards with nft: our table written, then the NPG- chains gone; twice the same", () =>
    withNs((ns) => {
      ns.sh(CHANGE_SCRIPT, ['apply', 'default', TOKEN, '0'], changeBundle(change(ns.read(), POLICY), meta()));
      expect(ours(ns.save())).toContain('NPG-TCP-30001');
      const before = notOurs(ns.save());
      const script = installScript({ ...POLICY, guardBackend: 'nft' }, 'test');
      for (let i = 0; i < 2; i++) {
        const r = spawnSync('ip', ['netns', 'exec', ns.name, 'sh', '-c', script], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
      }
      expect(ours(ns.save())).toBe('');
      expect(notOurs(ns.save())).toBe(before);
      const table = spawnSync(
        'ip',
        ['netns', 'exec', ns.name, 'nft', 'list', 'table', 'inet', 'nodeport-guard'],
        {
          encoding: 'utf8',
        },
      );
      expect(table.status, table.stderr).toBe(0);
      expect(table.stdout).toContain('priority dstnat - 10');
    }));

  it('bad arguments are refused before anything is read', () =>
    withNs((ns) => {
      for (const args of [
        ['apply', 'default', 'XYZ', '0'],
        ['apply', 'default', TOKEN, '1;reboot'],
        ['format', 'default', TOKEN, '0'],
        ['apply', 'evil', TOKEN, '0'],
      ]) {
        expect(ns.sh(CHANGE_SCRIPT, args, '').out.markers.get('result')).toEqual(['bad-args']);
      }
      expect(ns.sh(CONFIRM_SCRIPT, ['$(reboot)']).out.markers.get('result')).toEqual(['bad-args']);
    }));
});
