// The guard end to end on the running lab, through the real `npg` binary: real sshd, real netfilter,
// real packets from the lab's client addresses. Works in iptables and ipvs mode, with or without
// --ipv6 (IPv6 cases run when the lab has IPv6). Each file works on a private copy of the lab's
// workspace and removes the guard from every node when it ends.
import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it, type TestFunction } from 'vitest';
import { fault, nodeIptables, probeLab, restartKubeProxy, workspacePath } from '../../e2e/lab/lab';
import { readState } from '../../e2e/lab/state';
import { run } from '../../e2e/lab/sys/exec';
import { parseWorkspace, serializeWorkspace } from '../../shared/workspace/codec';
import { copyLabWorkspace } from '../engine/test-support/lab-workspace';
import { labCliSuite } from './test-support/lab-cli';
import { json, npg } from './test-support/npg-run';

// In kube-proxy's nftables mode the guard is our nft table (npg-nft-guard.lab.test.ts): the tests
// here that edit or read NPG- chains by hand are skipped there; the others run in every mode.
const NFT = (await readState())?.options.mode === 'nftables';
const NFT_NOTE = NFT
  ? ' (skipped in nftables mode: it works on NPG- chains; npg-nft-guard.lab.test.ts covers the nft guard)'
  : '';
const itIptables = (name: string, fn: TestFunction, timeout?: number) =>
  it.skipIf(NFT)(`${name}${NFT_NOTE}`, fn, timeout);

const { topo, ws, common, setPolicy } = labCliSuite();
/** For commands that do not contact nodes (history, policy). */
const local = () => ['--workspace', ws().path, '--quiet'];

async function apply(extra: string[] = []) {
  const r = await npg(['apply', ...common(), '--yes', '--json', ...extra]);
  return {
    ...r,
    out: json<{ outcome: string; nodes: { node: string; status: string; message?: string }[] }>(r),
  };
}

async function nat(node: string, v6 = false): Promise<string> {
  const n = topo().nodes.find((x) => x.name === node)!;
  return nodeIptables(n, ['-t', 'nat', '-S'], v6);
}

/** Everything but our chains, without counters or comments: must not change when we apply. */
async function notOurs(node: string): Promise<string> {
  const n = topo().nodes.find((x) => x.name === node)!;
  const save = (v6: boolean) => run([v6 ? 'ip6tables-save' : 'iptables-save'], { netns: n.netns });
  const text = `${await save(false)}\n${n.ipv6 ? await save(true) : ''}`;
  return text
    .split('\n')
    .filter((l) => !l.includes('NPG-') && !l.startsWith('#'))
    .map((l) => l.replace(/ \[\d+:\d+\]$/, ''))
    .join('\n');
}

async function outcome(from: string, node: string, port: number, udp = false) {
  return (await probeLab({ from, node, port, udp, timeoutMs: 1500 })).outcome;
}

describe('npg apply on the lab', () => {
  it('allowed sources reach the pod, blocked ones are refused, TCP and UDP, on every node; nothing else changes', async () => {
    const c = topo().clients[0]!;
    const [a, b, blocked] = c.ipv4;
    const v6 = c.ipv6.length > 0;
    const before = await Promise.all(topo().nodes.map((n) => notOurs(n.name)));
    await setPolicy({
      nodePorts: [
        {
          port: 30001,
          protocol: 'tcp',
          mode: 'enforce',
          blackholePort: 65535,
          allow: [
            { cidr: a!, label: 'client a' },
            { cidr: b! },
            ...(v6 ? [{ cidr: c.ipv6[0]!, label: 'a v6' }] : []),
          ],
        },
        { port: 30002, protocol: 'udp', mode: 'enforce', blackholePort: 65535, allow: [{ cidr: a! }] },
      ],
    });
    const r = await apply();
    expect(r.code, r.stderr).toBe(0);
    expect(r.out.outcome).toBe('ok');
    expect(r.out.nodes.map((n) => n.status)).toEqual(topo().nodes.map(() => 'applied'));
    for (const node of topo().nodes) {
      expect(await outcome(a!, node.name, 30001), `${a} -> ${node.name}`).toBe('reached');
      expect(await outcome(b!, node.name, 30001), `${b} -> ${node.name}`).toBe('reached');
      expect(await outcome(blocked!, node.name, 30001), `${blocked} -> ${node.name}`).toBe('refused');
      expect(await outcome(a!, node.name, 30002, true), `udp ${a} -> ${node.name}`).toBe('reached');
      expect(await outcome(blocked!, node.name, 30002, true), `udp ${blocked} -> ${node.name}`).toBe(
        'refused',
      );
      // A port the policy does not name is untouched.
      expect(await outcome(blocked!, node.name, 30007)).toBe('reached');
      if (v6 && node.ipv6) {
        expect(await outcome(c.ipv6[0]!, node.name, 30001), `v6 allowed -> ${node.name}`).toBe('reached');
        expect(await outcome(c.ipv6[2]!, node.name, 30001), `v6 blocked -> ${node.name}`).toBe('refused');
        // No v6 entry for UDP: IPv6 is blocked for it (dual-stack node, v4-only list).
        expect(await outcome(c.ipv6[0]!, node.name, 30002, true)).toBe('refused');
      }
    }
    const after = await Promise.all(topo().nodes.map((n) => notOurs(n.name)));
    expect(after).toEqual(before);

    // Apply twice: nothing to do, nothing sent, no history line.
    const history = await npg(['history', ...local(), '--json']);
    const again = await apply();
    expect(again.code, again.stderr).toBe(0);
    expect(again.out.nodes.every((n) => n.status === 'unchanged')).toBe(true);
    const history2 = await npg(['history', ...local(), '--json']);
    expect(json<{ records: unknown[] }>(history2).records.length).toBe(
      json<{ records: unknown[] }>(history).records.length,
    );
  });

  itIptables(
    'verify finds a rule deleted by hand, a rule added by hand, and the entry jump behind KUBE-SERVICES',
    async () => {
      const node = topo().nodes[1]!;
      const [a, b, blocked] = topo().clients[0]!.ipv4;
      const ok = await npg(['verify', ...common()]);
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);

      await nodeIptables(node, [
        '-t',
        'nat',
        '-D',
        'NPG-TCP-30001',
        '-s',
        `${b}/32`,
        '-j',
        'RETURN',
        '-m',
        'comment',
        '--comment',
        'nodeport-guard: allow',
      ]);
      let v = await npg(['verify', ...common()]);
      expect(v.code).toBe(1);
      expect(v.stdout).toContain(
        `${node.name}: tcp/30001 (IPv4): rule missing from NPG-TCP-30001: -A NPG-TCP-30001 -s ${b}/32`,
      );

      await nodeIptables(node, [
        '-t',
        'nat',
        '-I',
        'NPG-TCP-30001',
        '1',
        '-s',
        `${blocked}/32`,
        '-j',
        'RETURN',
      ]);
      v = await npg(['verify', ...common()]);
      expect(v.code).toBe(1);
      expect(v.stdout).toContain(
        `${node.name}: tcp/30001 (IPv4): rule in NPG-TCP-30001 not in the policy: -A NPG-TCP-30001 -s ${blocked}/32 -j RETURN`,
      );
      expect(await outcome(blocked!, node.name, 30001)).toBe('reached');

      // apply repairs both in one transaction.
      const fixed = await apply();
      expect(fixed.code, fixed.stderr).toBe(0);
      expect(fixed.out.nodes.find((n) => n.node === node.name)?.status).toBe('applied');
      expect(await outcome(blocked!, node.name, 30001)).toBe('refused');
      expect(await outcome(b!, node.name, 30001)).toBe('reached');

      await restartKubeProxy(node);
      v = await npg(['verify', ...common(), '--json']);
      expect(v.code).toBe(1);
      const drift = json<{ nodes: { node: string; findings: { kind: string; message: string }[] }[] }>(v);
      const kinds = drift.nodes.find((n) => n.node === node.name)!.findings.map((f) => f.kind);
      expect(kinds).toContain('entry-after-kube-services');
      if (topo().options.mode === 'iptables')
        expect(await outcome(blocked!, node.name, 30001)).toBe('reached');
      const moved = await apply();
      expect(moved.code, moved.stderr).toBe(0);
      expect((await nat(node.name)).split('\n').filter((l) => l.startsWith('-A PREROUTING'))[0]).toContain(
        'NPG-PREROUTING',
      );
      expect(await outcome(blocked!, node.name, 30001)).toBe('refused');
      expect(await outcome(a!, node.name, 30001)).toBe('reached');
    },
  );

  it('audit mode blocks nothing and lists the would-be-blocked source', async () => {
    const [a, , , d] = topo().clients[0]!.ipv4;
    await setPolicy({
      nodePorts: [
        { port: 30001, protocol: 'tcp', mode: 'audit', blackholePort: 65535, allow: [{ cidr: a! }] },
      ],
    });
    const r = await apply();
    expect(r.code, r.stderr).toBe(0);
    const node = topo().nodes[0]!;
    expect(await outcome(d!, node.name, 30001)).toBe('reached');
    expect(await outcome(a!, node.name, 30001)).toBe('reached');
    const v = await npg(['verify', ...common(), '--json', '--node', node.name]);
    expect(v.code, v.stderr).toBe(0);
    const out = json<{
      nodes: {
        audit: { port: number; family: string; sources: { source: string }[] }[];
        ports: { counters: { counters: { packets: number } }[] }[];
      }[];
    }>(v);
    const listed = out.nodes[0]!.audit.find((x) => x.port === 30001 && x.family === 'ipv4')!.sources.map(
      (s) => s.source,
    );
    expect(listed).toContain(d);
    expect(listed).not.toContain(a);
    expect(out.nodes[0]!.ports[0]!.counters[0]!.counters.packets).toBeGreaterThan(0);
  });

  it('rollback restores the guard as it was before the last change; remove leaves no trace', async () => {
    const [a, b, blocked] = topo().clients[0]!.ipv4;
    await setPolicy({
      nodePorts: [
        { port: 30001, protocol: 'tcp', mode: 'enforce', blackholePort: 65535, allow: [{ cidr: a! }] },
      ],
    });
    expect((await apply()).code).toBe(0);
    await setPolicy({
      nodePorts: [
        { port: 30001, protocol: 'tcp', mode: 'enforce', blackholePort: 65535, allow: [{ cidr: b! }] },
      ],
    });
    expect((await apply()).code).toBe(0);
    const node = topo().nodes[2]!.name;
    expect(await outcome(a!, node, 30001)).toBe('refused');
    const rb = await npg(['rollback', ...common(), '--yes', '--json']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(await outcome(a!, node, 30001)).toBe('reached');
    expect(await outcome(b!, node, 30001)).toBe('refused');
    const rm = await npg(['remove', ...common(), '--yes']);
    expect(rm.code, rm.stderr).toBe(0);
    for (const n of topo().nodes) {
      expect(await nat(n.name)).not.toContain('NPG-');
      expect(await outcome(blocked!, n.name, 30001)).toBe('reached');
    }
    const h = json<{ records: { op: string }[] }>(await npg(['history', ...local(), '--json']));
    expect(h.records.slice(-4).map((x) => x.op)).toEqual(['apply', 'apply', 'rollback', 'remove']);
  });

  it('commit-confirmed: without confirm every node restores its saved guard, also one cut off from the network', async () => {
    const [a, , blocked] = topo().clients[0]!.ipv4;
    await setPolicy({
      nodePorts: [
        { port: 30001, protocol: 'tcp', mode: 'enforce', blackholePort: 65535, allow: [{ cidr: a! }] },
      ],
    });
    const r = await apply(['--confirm-within', '10']);
    expect(r.code, r.stderr).toBe(0);
    const cutNode = topo().nodes[topo().nodes.length - 1]!;
    for (const n of topo().nodes) expect(await outcome(blocked!, n.name, 30001)).toBe('refused');
    await fault('cut', cutNode.name);
    try {
      await new Promise((res) => setTimeout(res, 13_000));
    } finally {
      await fault('uncut', cutNode.name);
    }
    for (const n of topo().nodes) {
      expect(await nat(n.name), n.name).not.toContain('NPG-');
      // The node that was cut needs a moment after `uncut` (link up, neighbour entries relearnt,
      // IPv6 DAD on a dual-stack lab) before packets flow again: wait for that, bounded.
      await expect
        .poll(() => outcome(blocked!, n.name, 30001), { timeout: 15_000, interval: 500 })
        .toBe('reached');
    }
    const late = await npg(['confirm', ...common()]);
    expect(late.code).toBe(1);
    expect(late.stdout).toMatch(/too late: the timer restored the saved guard/);

    // In time: confirm keeps it.
    const r2 = await apply(['--confirm-within', '60']);
    expect(r2.code, r2.stderr).toBe(0);
    const ok = await npg(['confirm', ...common(), '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(json<{ nodes: { status: string }[] }>(ok).nodes.every((n) => n.status === 'confirmed')).toBe(true);
    const d = json<{ nodes: { pending?: unknown }[] }>(await npg(['discover', ...common(), '--json']));
    expect(d.nodes.every((n) => n.pending === undefined)).toBe(true);
  }, 120_000);
});

describe('npg plan, verify --watch, export and import on the lab', () => {
  itIptables(
    'apply without --yes and without a terminal refuses after showing the plan; plan exits 1 while changes are due',
    async () => {
      const [a] = topo().clients[0]!.ipv4;
      await setPolicy({
        nodePorts: [
          { port: 30007, protocol: 'tcp', mode: 'enforce', blackholePort: 65535, allow: [{ cidr: a! }] },
        ],
      });
      const p = await npg(['plan', ...common()]);
      expect(p.code).toBe(1);
      expect(p.stdout).toMatch(/\+ chain NPG-TCP-30007/);
      const r = await npg(['apply', ...common()]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^npg: apply: refusing to change nodes without confirmation: pass --yes/m);
      for (const n of topo().nodes) expect(await nat(n.name)).not.toContain('NPG-TCP-30007');
    },
  );

  // It plans the policy the test before it set (skipped in nftables mode with it).
  itIptables(
    "plan warns about the workspace's pod CIDRs and health-check ranges left out of an allow-list; flags add to them",
    async () => {
      const r = parseWorkspace(await readFile(ws().path, 'utf8'));
      if (!r.ok) throw new Error(r.error);
      await writeFile(
        ws().path,
        serializeWorkspace({
          ...r.workspace,
          cluster: { podCidrs: ['198.19.0.0/17'], healthCheckRanges: ['azure'] },
        }),
      );
      try {
        const p = await npg(['plan', ...common()]);
        expect(p.stdout).toMatch(/tcp\/30007: pod CIDR 198\.19\.0\.0\/17 is not allowed/);
        expect(p.stdout).toMatch(/health-check range 168\.63\.129\.16\/32 is not \(fully\) allowed/);
        const more = await npg(['plan', ...common(), '--pod-cidr', '198.18.96.0/24']);
        expect(more.stdout).toMatch(/pod CIDR 198\.18\.96\.0\/24 is not allowed/);
        expect(more.stdout).toMatch(/pod CIDR 198\.19\.0\.0\/17 is not allowed/);
      } finally {
        await writeFile(ws().path, serializeWorkspace(r.workspace));
      }
    },
  );

  itIptables(
    'apply --plan refuses a plan made before the node changed, and applies a fresh one',
    async () => {
      const planFile = `${ws().dir}/plan.json`;
      expect((await npg(['plan', ...common(), '--out', planFile])).code).toBe(1);
      const n = topo().nodes[0]!;
      // PREROUTING changed by hand after the plan was made (our entry goes in front of it).
      const foreign = ['PREROUTING', '1', '-p', 'tcp', '--dport', '39999', '-j', 'RETURN'];
      await nodeIptables(n, ['-t', 'nat', '-I', ...foreign]);
      try {
        const stale = await npg(['apply', ...common(), '--yes', '--plan', planFile]);
        expect(stale.code).toBe(1);
        expect(stale.stderr).toMatch(new RegExp(`${n.name}: plan is stale`));
        expect((await npg(['plan', ...common(), '--out', planFile])).code).toBe(1);
        const ok = await npg(['apply', ...common(), '--yes', '--plan', planFile]);
        expect(ok.code, ok.stderr).toBe(0);
      } finally {
        await nodeIptables(n, ['-t', 'nat', '-D', ...foreign.filter((_, k) => k !== 1)]);
      }
      expect((await npg(['plan', ...common()])).code).toBe(0);
    },
  );

  itIptables(
    'verify --watch reports drift as it appears',
    async () => {
      const node = topo().nodes[0]!;
      const [a] = topo().clients[0]!.ipv4;
      const watching = npg(['verify', ...common(), '--json', '--watch', '1', '--count', '6']);
      await new Promise((r) => setTimeout(r, 2500));
      await nodeIptables(node, [
        '-t',
        'nat',
        '-D',
        'NPG-TCP-30007',
        '-s',
        `${a}/32`,
        '-j',
        'RETURN',
        '-m',
        'comment',
        '--comment',
        'nodeport-guard: allow',
      ]);
      const r = await watching;
      expect(r.code, r.stderr).toBe(1);
      const rounds = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { round: number; status: string; appeared: string[] });
      expect(rounds[0]!.status).toBe('ok');
      const drift = rounds.find((x) => x.status === 'drift');
      expect(drift?.appeared.join('\n')).toContain(
        `${node.name}: tcp/30007 (IPv4): rule missing from NPG-TCP-30007`,
      );
      expect((await apply()).code).toBe(0);
    },
    60_000,
  );

  itIptables(
    'export writes restore files, an install script and JSON; import restores the policy',
    async () => {
      const out = `${ws().dir}/export`;
      const e = await npg(['export', ...common(), '--out', out, '--json']);
      expect(e.code, e.stderr).toBe(0);
      const files = json<{ files: string[] }>(e).files;
      expect(files).toEqual(
        expect.arrayContaining(['install-guard.sh', 'export.json', `${topo().nodes[0]!.name}.v4.rules`]),
      );
      const rules = await readFile(`${out}/${topo().nodes[0]!.name}.v4.rules`, 'utf8');
      expect(rules).toMatch(/^\*nat$/m);
      expect(rules).toContain('-A NPG-TCP-30007');
      // A fresh workspace with an empty policy imports it and finds nothing to do on the nodes.
      const other = await copyLabWorkspace(workspacePath());
      try {
        const args = ['--workspace', other.path, '--quiet'];
        const i = await npg(['import', ...args, '--file', `${out}/export.json`]);
        expect(i.code, i.stderr).toBe(0);
        const mine = parseWorkspace(await readFile(ws().path, 'utf8'));
        const theirs = parseWorkspace(await readFile(other.path, 'utf8'));
        expect(theirs.ok && theirs.workspace.policy).toEqual(mine.ok && mine.workspace.policy);
        const p = await npg(['plan', ...args, '--ssh-config', 'none']);
        expect(p.code, p.stdout + p.stderr).toBe(0);
        const bad = await npg(['import', ...args, '--file', ws().path]);
        expect(bad.code).toBe(2);
        expect(bad.stderr).toMatch(/^npg: import .*: not JSON/);
      } finally {
        await other.cleanup();
      }
    },
  );

  itIptables(
    'a 1,000-entry allow-list applies in one transaction per node and works',
    async () => {
      const [a, , blocked] = topo().clients[0]!.ipv4;
      const many = Array.from({ length: 999 }, (_, i) => ({
        cidr: `198.19.${64 + Math.floor(i / 250)}.${(i % 250) + 1}`,
      }));
      await setPolicy({
        nodePorts: [
          {
            port: 30001,
            protocol: 'tcp',
            mode: 'enforce',
            blackholePort: 65535,
            allow: [{ cidr: a! }, ...many],
          },
        ],
      });
      const r = await apply();
      expect(r.code, r.stderr).toBe(0);
      const node = topo().nodes[0]!.name;
      expect((await nat(node)).split('\n').filter((l) => l.startsWith('-A NPG-TCP-30001 -s')).length).toBe(
        1000,
      );
      expect(await outcome(a!, node, 30001)).toBe('reached');
      expect(await outcome(blocked!, node, 30001)).toBe('refused');
      expect((await npg(['verify', ...common()])).code).toBe(0);
    },
    120_000,
  );
});
