// The nft guard end to end on the running lab in kube-proxy's nftables mode, through the real `npg`
// binary: real sshd, real nft, real packets from the lab's client addresses. The guard is our own
// table `inet nodeport-guard` with its chain at dstnat - 10, before kube-proxy's DNAT at dstnat;
// npg-guard.lab.test.ts is the same story for the iptables guard (iptables and ipvs modes). In other
// modes this file is skipped (`npm run lab:up -- --mode nftables --ipv6` runs it).
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { nodeNft, probeLab, restartKubeProxy, resyncKubeProxy, workspacePath } from '../../e2e/lab/lab';
import { readState } from '../../e2e/lab/state';
import { run } from '../../e2e/lab/sys/exec';
import { parseWorkspace } from '../../shared/workspace/codec';
import { copyLabWorkspace } from '../engine/test-support/lab-workspace';
import { labCliSuite, port30001 } from './test-support/lab-cli';
import { json, npg } from './test-support/npg-run';

const mode = (await readState())?.options.mode;
const SKIP =
  mode === 'nftables'
    ? ''
    : ` (skipped: the nft guard is for kube-proxy's nftables mode and the lab runs in ${mode ?? 'no'} mode; npg-guard.lab.test.ts covers it)`;
if (SKIP) console.info(`npg-nft-guard.lab.test.ts${SKIP}`);

const { topo, ws, common, setPolicy } = SKIP ? ({} as ReturnType<typeof labCliSuite>) : labCliSuite();
const local = () => ['--workspace', ws().path, '--quiet'];

async function apply(extra: string[] = []) {
  const r = await npg(['apply', ...common(), '--yes', '--json', ...extra]);
  return {
    ...r,
    out: json<{ outcome: string; nodes: { node: string; status: string; message?: string }[] }>(r),
  };
}

const node = (name: string) => topo().nodes.find((n) => n.name === name)!;

/** Our table on a node as `nft list` prints it, or '' when there is none. */
async function ourTable(name: string): Promise<string> {
  return nodeNft(node(name), ['list', 'table', 'inet', 'nodeport-guard']).catch(() => '');
}

/** Every table but ours, without counters: what an apply must leave alone. */
async function notOurs(name: string): Promise<string> {
  const all = await nodeNft(node(name), ['list', 'ruleset']);
  return all
    .replace(/table inet nodeport-guard \{[\s\S]*?\n\}\n?/, '')
    .replace(/counter packets \d+ bytes \d+/g, 'counter');
}

async function outcome(from: string, name: string, port: number, udp = false) {
  return (await probeLab({ from, node: name, port, udp, timeoutMs: 1500 })).outcome;
}

describe.skipIf(SKIP !== '')(`the nft guard on the lab (kube-proxy nftables mode)${SKIP}`, () => {
  it('plan names the nft guard; apply: allowed sources reach the pod, blocked ones are refused, TCP and UDP, IPv4 and IPv6; nothing else changes', async () => {
    const c = topo().clients[0]!;
    const [a, b, blocked] = c.ipv4;
    const v6 = c.ipv6.length > 0;
    const before = await Promise.all(topo().nodes.map((n) => notOurs(n.name)));
    await setPolicy({
      nodePorts: [
        port30001([a!, b!, ...(v6 ? [c.ipv6[0]!] : [])]),
        { port: 30002, protocol: 'udp', mode: 'enforce', blackholePort: 65535, allow: [{ cidr: a! }] },
      ],
    });
    const p = await npg(['plan', ...common()]);
    expect(p.code).toBe(1);
    expect(p.stdout).toContain(
      `guard nft (table inet nodeport-guard, at dstnat - 10, before any DNAT): ${topo()
        .nodes.map((n) => n.name)
        .join(', ')}`,
    );
    expect(p.stdout).toMatch(/nft \+ table inet nodeport-guard written whole \(table absent\)/);
    const pj = json<{ nodes: { guard: string }[] }>(await npg(['plan', ...common(), '--json']));
    expect(pj.nodes.map((n) => n.guard)).toEqual(topo().nodes.map(() => 'nft'));

    const r = await apply();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.out.outcome).toBe('ok');
    expect(r.out.nodes.map((n) => n.status)).toEqual(topo().nodes.map(() => 'applied'));
    for (const n of topo().nodes) {
      expect(await ourTable(n.name)).toContain(
        'type nat hook prerouting priority dstnat - 10; policy accept;',
      );
      expect(await outcome(a!, n.name, 30001), `${a} -> ${n.name}`).toBe('reached');
      expect(await outcome(b!, n.name, 30001), `${b} -> ${n.name}`).toBe('reached');
      expect(await outcome(blocked!, n.name, 30001), `${blocked} -> ${n.name}`).toBe('refused');
      expect(await outcome(a!, n.name, 30002, true), `udp ${a} -> ${n.name}`).toBe('reached');
      expect(await outcome(blocked!, n.name, 30002, true), `udp ${blocked} -> ${n.name}`).toBe('refused');
      // A port the policy does not name is untouched.
      expect(await outcome(blocked!, n.name, 30007)).toBe('reached');
      if (v6 && n.ipv6) {
        expect(await outcome(c.ipv6[0]!, n.name, 30001), `v6 allowed -> ${n.name}`).toBe('reached');
        expect(await outcome(c.ipv6[2]!, n.name, 30001), `v6 blocked -> ${n.name}`).toBe('refused');
        // No v6 entry for UDP: IPv6 is blocked for it (an empty set blocks every source).
        expect(await outcome(c.ipv6[0]!, n.name, 30002, true)).toBe('refused');
      }
    }
    expect(await Promise.all(topo().nodes.map((n) => notOurs(n.name)))).toEqual(before);
    // discover says which guard each node has, and which ports it guards.
    const d = json<{
      nodes: { guardBackend: string; nft?: { state: string; ports: string[] } }[];
      nodePorts: { port: number; guardedOn: string[] }[];
    }>(await npg(['discover', ...common(), '--json']));
    expect(d.nodes.map((n) => [n.guardBackend, n.nft])).toEqual(
      topo().nodes.map(() => ['nft', { state: 'healthy', ports: ['tcp/30001', 'udp/30002'] }]),
    );
    expect(d.nodePorts.find((p) => p.port === 30001)?.guardedOn.length).toBe(topo().nodes.length);
    expect(d.nodePorts.find((p) => p.port === 30007)?.guardedOn).toEqual([]);
    const v = await npg(['verify', ...common()]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toMatch(/tcp\/30001 \(IPv4\): [1-9]\d* connections? blocked/);

    // Apply twice: nothing to do, nothing sent, no history line.
    const history = json<{ records: unknown[] }>(await npg(['history', ...local(), '--json']));
    const again = await apply();
    expect(again.code, again.stderr).toBe(0);
    expect(again.out.nodes.every((n) => n.status === 'unchanged')).toBe(true);
    const history2 = json<{ records: unknown[] }>(await npg(['history', ...local(), '--json']));
    expect(history2.records.length).toBe(history.records.length);
  });

  it('a kube-proxy restart and resync leave the guard in force and verify clean', async () => {
    const [a, , blocked] = topo().clients[0]!.ipv4;
    for (const n of topo().nodes) await restartKubeProxy(n, topo());
    await Promise.all(topo().nodes.map((n) => resyncKubeProxy(topo(), n)));
    for (const n of topo().nodes) {
      expect(await outcome(a!, n.name, 30001), `${a} -> ${n.name}`).toBe('reached');
      expect(await outcome(blocked!, n.name, 30001), `${blocked} -> ${n.name}`).toBe('refused');
    }
    const v = await npg(['verify', ...common()]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toMatch(/^all \d+ nodes hold the policy$/m);
  });

  it('verify finds an allowed address deleted by hand and a nat prerouting chain that runs before ours; apply repairs the set', async () => {
    const [a, b, blocked] = topo().clients[0]!.ipv4;
    const n = topo().nodes[1]!;
    await nodeNft(n, ['delete', 'element', 'inet', 'nodeport-guard', 'allow-tcp-30001-v4', `{ ${b} }`]);
    let v = await npg(['verify', ...common()]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain(`${n.name}: tcp/30001 (IPv4): set allow-tcp-30001-v4 lacks ${b}/32 (blocked)`);
    expect(await outcome(b!, n.name, 30001)).toBe('refused');

    // Someone's nat chain at dstnat - 20 would DNAT before the guard sees the packet.
    const early =
      'table ip npg-test-early {\n  chain pre {\n    type nat hook prerouting priority -120; policy accept;\n  }\n}\n';
    await nodeNft(n, ['-f', '-'], early);
    try {
      v = await npg(['verify', ...common()]);
      expect(v.code).toBe(1);
      expect(v.stdout).toContain(
        `${n.name}: nat prerouting chain ip npg-test-early pre (priority -120) runs before the guard (-110) for IPv4: it may DNAT a NodePort before the guard sees it`,
      );
    } finally {
      await nodeNft(n, ['delete', 'table', 'ip', 'npg-test-early']);
    }
    const fixed = await apply();
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.out.nodes.find((x) => x.node === n.name)?.status).toBe('applied');
    expect(await outcome(b!, n.name, 30001)).toBe('reached');
    expect(await outcome(a!, n.name, 30001)).toBe('reached');
    expect(await outcome(blocked!, n.name, 30001)).toBe('refused');
    expect((await npg(['verify', ...common()])).code).toBe(0);
  });

  it('verify finds a listener on the blackhole port (blocked clients would reach it), on every read', async () => {
    const n = topo().nodes[0]!;
    // A real process in the node's network namespace holds the blackhole port; bounded to 60 s.
    const holder = spawn(
      'ip',
      [
        'netns',
        'exec',
        n.netns,
        process.execPath,
        '-e',
        `require('node:net').createServer().listen(65535, () => console.log('ready'));
         setTimeout(() => process.exit(0), 60000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.once('data', () => resolve());
        holder.once('exit', (code) => reject(new Error(`listener exited ${code}`)));
      });
      for (let i = 0; i < 2; i++) {
        const v = await npg(['verify', ...common()]);
        expect(v.code).toBe(1);
        expect(v.stdout).toContain(
          `${n.name}: tcp/30001: something listens on blackhole port tcp/65535: blocked clients reach it`,
        );
      }
    } finally {
      holder.kill();
    }
    await expect
      .poll(async () => (await npg(['verify', ...common()])).code, { timeout: 10_000, interval: 500 })
      .toBe(0);
  });

  it('apply --plan refuses a plan made before the table changed by hand', async () => {
    const [a, , blocked] = topo().clients[0]!.ipv4;
    await setPolicy({ nodePorts: [port30001([a!])] });
    const planFile = `${ws().dir}/plan.json`;
    expect((await npg(['plan', ...common(), '--out', planFile])).code).toBe(1);
    const n = topo().nodes[0]!;
    await nodeNft(n, ['add', 'element', 'inet', 'nodeport-guard', 'allow-tcp-30001-v4', `{ ${blocked} }`]);
    const r = await npg(['apply', ...common(), '--yes', '--plan', planFile]);
    expect(r.code).toBe(1);
    expect(`${r.stdout}${r.stderr}`).toMatch(
      new RegExp(`${n.name}: plan is stale: its guard state changed since the plan was made`),
    );
    const fresh = await apply();
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(await outcome(blocked!, n.name, 30001)).toBe('refused');
  });

  it('rollback restores the table as it was before the last change; remove leaves no table of ours', async () => {
    const [a, b, blocked] = topo().clients[0]!.ipv4;
    await setPolicy({ nodePorts: [port30001([a!])] });
    expect((await apply()).code).toBe(0);
    await setPolicy({ nodePorts: [port30001([b!])] });
    expect((await apply()).code).toBe(0);
    const n = topo().nodes[2]!.name;
    expect(await outcome(a!, n, 30001)).toBe('refused');
    expect(await outcome(b!, n, 30001)).toBe('reached');
    const rb = await npg(['rollback', ...common(), '--yes', '--json']);
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    expect(await outcome(a!, n, 30001)).toBe('reached');
    expect(await outcome(b!, n, 30001)).toBe('refused');
    const rm = await npg(['remove', ...common(), '--yes']);
    expect(rm.code, rm.stderr).toBe(0);
    for (const x of topo().nodes) {
      expect(await ourTable(x.name)).toBe('');
      expect(await outcome(blocked!, x.name, 30001)).toBe('reached');
    }
    const h = json<{ records: { op: string }[] }>(await npg(['history', ...local(), '--json']));
    expect(h.records.slice(-4).map((x) => x.op)).toEqual(['apply', 'apply', 'rollback', 'remove']);
  });

  it('export writes the nft file of each node and an install script that writes the same table; import restores the policy', async () => {
    const [a, , blocked] = topo().clients[0]!.ipv4;
    await setPolicy({ nodePorts: [port30001([a!])] });
    expect((await apply()).code).toBe(0);
    const out = `${ws().dir}/export`;
    const e = await npg(['export', ...common(), '--out', out, '--json']);
    expect(e.code, e.stderr).toBe(0);
    const [n1, n2] = topo().nodes;
    expect(json<{ files: string[] }>(e).files).toEqual(
      expect.arrayContaining(['install-guard.sh', 'export.json', `${n1!.name}.nft`]),
    );
    const doc = JSON.parse(await readFile(`${out}/export.json`, 'utf8')) as {
      nodes: { guard: string; nft?: { file: string } }[];
    };
    expect(doc.nodes.map((n) => n.guard)).toEqual(topo().nodes.map(() => 'nft'));
    // Without npg: the node's file with `nft -f` on one node, the install script on another. Both
    // leave exactly the table npg apply writes: nothing to apply afterwards.
    expect((await npg(['remove', ...common(), '--yes'])).code).toBe(0);
    expect(await outcome(blocked!, n1!.name, 30001)).toBe('reached');
    await nodeNft(n1!, ['-f', `${out}/${n1!.name}.nft`]);
    await run(['sh', `${out}/install-guard.sh`], { netns: n2!.netns });
    await run(['sh', `${out}/install-guard.sh`], { netns: n2!.netns });
    for (const n of [n1!, n2!]) {
      expect(await outcome(blocked!, n.name, 30001), n.name).toBe('refused');
      expect(await outcome(a!, n.name, 30001), n.name).toBe('reached');
    }
    const p = json<{ nodes: { node: string; noop: boolean }[] }>(await npg(['plan', ...common(), '--json']));
    expect(p.nodes.filter((n) => n.noop).map((n) => n.node)).toEqual([n1!.name, n2!.name]);
    // A fresh workspace with an empty policy imports it.
    const other = await copyLabWorkspace(workspacePath());
    try {
      const i = await npg(['import', '--workspace', other.path, '--quiet', '--file', `${out}/export.json`]);
      expect(i.code, i.stderr).toBe(0);
      const theirs = parseWorkspace(await readFile(other.path, 'utf8'));
      expect(theirs.ok && theirs.workspace.policy).toEqual({ nodePorts: [port30001([a!])] });
    } finally {
      await other.cleanup();
    }
    expect((await apply()).code).toBe(0);
  });

  it('a 1,000-entry allow-list is one set, written in one transaction per node, and works', async () => {
    const [a, , blocked] = topo().clients[0]!.ipv4;
    const many = Array.from({ length: 999 }, (_, i) => `198.19.${64 + Math.floor(i / 250)}.${(i % 250) + 1}`);
    await setPolicy({ nodePorts: [port30001([a!, ...many])] });
    const r = await apply();
    expect(r.code, r.stderr).toBe(0);
    const n = topo().nodes[0]!;
    const set = JSON.parse(
      await nodeNft(n, ['-j', 'list', 'set', 'inet', 'nodeport-guard', 'allow-tcp-30001-v4']),
    ) as { nftables: { set?: { elem?: unknown[] } }[] };
    expect(set.nftables.find((x) => x.set)?.set?.elem?.length).toBe(1000);
    expect(await outcome(a!, n.name, 30001)).toBe('reached');
    expect(await outcome(blocked!, n.name, 30001)).toBe('refused');
    expect((await npg(['verify', ...common()])).code).toBe(0);
    // One element less: the set is refilled in place, the rules keep their counters.
    await setPolicy({ nodePorts: [port30001([a!, ...many.slice(1)])] });
    const p = await npg(['plan', ...common()]);
    expect(p.stdout).toContain('nft ~ set allow-tcp-30001-v4: +0 -1');
    expect((await apply()).code).toBe(0);
    expect((await npg(['verify', ...common()])).code).toBe(0);
  }, 120_000);

  it('commit-confirmed: without confirm every node restores its saved table; confirmed in time, it stays', async () => {
    const [a, , blocked] = topo().clients[0]!.ipv4;
    // From no guard: the timer then puts back no table.
    expect((await npg(['remove', ...common(), '--yes'])).code).toBe(0);
    await setPolicy({ nodePorts: [port30001([a!])] });
    const r = await apply(['--confirm-within', '10']);
    expect(r.code, r.stderr).toBe(0);
    for (const n of topo().nodes) expect(await outcome(blocked!, n.name, 30001)).toBe('refused');
    // The timer fires after 10 s on each node (it runs there, not here): wait for it, bounded.
    for (const n of topo().nodes)
      await expect.poll(() => ourTable(n.name), { timeout: 30_000, interval: 1000 }).toBe('');
    for (const n of topo().nodes) expect(await outcome(blocked!, n.name, 30001)).toBe('reached');
    const late = await npg(['confirm', ...common()]);
    expect(late.code).toBe(1);
    expect(late.stdout).toMatch(/too late: the timer restored the saved guard/);

    const r2 = await apply(['--confirm-within', '60']);
    expect(r2.code, r2.stderr).toBe(0);
    const ok = await npg(['confirm', ...common(), '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(json<{ nodes: { status: string }[] }>(ok).nodes.every((n) => n.status === 'confirmed')).toBe(true);
    for (const n of topo().nodes) expect(await outcome(blocked!, n.name, 30001)).toBe('refused');
  }, 120_000);
});
