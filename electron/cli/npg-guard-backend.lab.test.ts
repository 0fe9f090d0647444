// The workspace's guard backend on the running lab in kube-proxy's iptables or ipvs mode, through
// the real `npg` binary, real sshd, real nft and real packets: `npg policy --guard-backend nft`
// moves every node from our NPG- chains to our own nft table in one apply, with the new guard
// written before the old one goes (a blocked client probing all through the switch never gets in,
// an allowed one never is refused); a kube-proxy restart then leaves the guard in force and verify
// clean; and the way back is the same apply the other way. In nftables mode this file is skipped
// (the nft guard is the only guard there: npg-nft-guard.lab.test.ts).
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { nodeIptables, nodeNft, probeLab, restartKubeProxy, resyncKubeProxy } from '../../e2e/lab/lab';
import { readState } from '../../e2e/lab/state';
import { parseWorkspace } from '../../shared/workspace/codec';
import { labCliSuite, port30001 } from './test-support/lab-cli';
import { json, npg } from './test-support/npg-run';

const mode = (await readState())?.options.mode;
const SKIP =
  mode === 'iptables' || mode === 'ipvs'
    ? ''
    : ` (skipped: the lab runs in ${mode ?? 'no'} mode, where the nft guard is the only one)`;
if (SKIP) console.info(`npg-guard-backend.lab.test.ts${SKIP}`);

const { topo, ws, common, setPolicy } = SKIP ? ({} as ReturnType<typeof labCliSuite>) : labCliSuite();

/** `npg policy` touches no node: the workspace flags only. */
const local = () => ['--workspace', ws().path, '--quiet'];
const node = (name: string) => topo().nodes.find((n) => n.name === name)!;

/** Our chains in a node's nat table (both families), as iptables-save lists them. */
async function ourChains(name: string): Promise<string[]> {
  const out = await Promise.all([
    nodeIptables(node(name), ['-t', 'nat', '-S']),
    node(name).ipv6 ? nodeIptables(node(name), ['-t', 'nat', '-S'], true) : Promise.resolve(''),
  ]);
  return out
    .join('\n')
    .split('\n')
    .filter((l) => l.includes('NPG-'));
}

async function ourTable(name: string): Promise<string> {
  return nodeNft(node(name), ['list', 'table', 'inet', 'nodeport-guard']).catch(() => '');
}

async function outcome(from: string, name: string, port: number) {
  return (await probeLab({ from, node: name, port, timeoutMs: 1500 })).outcome;
}

async function apply() {
  const r = await npg(['apply', ...common(), '--yes', '--json']);
  const out = json<{ outcome: string; nodes: { node: string; status: string; message?: string }[] }>(r);
  return { ...r, out };
}

/**
 * Probes from an allowed and a blocked client against the first node, one pair after another, while
 * `during` runs; every outcome, so a gap in the guard (or a refused allowed client) shows.
 */
async function probedWhile<T>(allowed: string, blocked: string, during: Promise<T>) {
  const seen = { allowed: [] as string[], blocked: [] as string[] };
  let done = false;
  const result = during.finally(() => {
    done = true;
  });
  const target = topo().nodes[0]!.name;
  // Bounded: the apply ends within its own timeout; 400 pairs is far more than it takes.
  for (let i = 0; i < 400 && !done; i++) {
    const [a, b] = await Promise.all([outcome(allowed, target, 30001), outcome(blocked, target, 30001)]);
    seen.allowed.push(a);
    seen.blocked.push(b);
  }
  return { result: await result, seen };
}

describe.skipIf(SKIP !== '')(`the guard backend switch on the lab (${mode} mode)${SKIP}`, () => {
  it('moves every node from NPG- chains to our nft table in one apply, with no moment unguarded, and back', async () => {
    const c = topo().clients[0]!;
    const [a, , blocked] = c.ipv4;
    const v6 = c.ipv6.length > 0 ? [c.ipv6[0]!] : [];
    await setPolicy({ nodePorts: [port30001([a!, ...v6])] });
    const first = await apply();
    expect(first.code, first.stdout + first.stderr).toBe(0);
    for (const n of topo().nodes) {
      expect(await ourChains(n.name), n.name).toContain('-N NPG-TCP-30001');
      expect(await ourTable(n.name)).toBe('');
    }

    // The choice is the workspace's, written by the CLI; plan says what the apply will do.
    const set = await npg(['policy', ...local(), '--guard-backend', 'nft']);
    expect(set.code, set.stderr).toBe(0);
    const saved = parseWorkspace(await readFile(ws().path, 'utf8'));
    expect(saved.ok && saved.workspace.policy.guardBackend).toBe('nft');
    const bad = await npg(['policy', ...local(), '--guard-backend', 'ebpf']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('npg: --guard-backend "ebpf": one of iptables, nft; workspace unchanged');
    const names = topo()
      .nodes.map((n) => n.name)
      .join(', ');
    const p = await npg(['plan', ...common()]);
    expect(p.stdout).toContain(
      `switching to nft: table inet nodeport-guard is written first, then the NPG- chains go: ${names}`,
    );

    const toNft = await probedWhile(a!, blocked!, apply());
    expect(toNft.result.code, toNft.result.stdout + toNft.result.stderr).toBe(0);
    expect(toNft.result.out.nodes.map((n) => n.status)).toEqual(topo().nodes.map(() => 'applied'));
    expect(toNft.seen.blocked.length).toBeGreaterThan(0);
    expect(toNft.seen.blocked.filter((o) => o !== 'refused')).toEqual([]);
    expect(toNft.seen.allowed.filter((o) => o !== 'reached')).toEqual([]);
    for (const n of topo().nodes) {
      expect(await ourChains(n.name), n.name).toEqual([]);
      expect(await ourTable(n.name)).toContain(
        'type nat hook prerouting priority dstnat - 10; policy accept;',
      );
      expect(await outcome(a!, n.name, 30001), `${a} -> ${n.name}`).toBe('reached');
      expect(await outcome(blocked!, n.name, 30001), `${blocked} -> ${n.name}`).toBe('refused');
    }
    const d = json<{ nodes: { guardBackend: string; nft?: { state: string; ports: string[] } }[] }>(
      await npg(['discover', ...common(), '--json']),
    );
    expect(d.nodes.map((n) => [n.guardBackend, n.nft])).toEqual(
      topo().nodes.map(() => ['nft', { state: 'healthy', ports: ['tcp/30001'] }]),
    );

    // A kube-proxy restart rewrites iptables' PREROUTING; our table is out of its reach.
    for (const n of topo().nodes) await restartKubeProxy(n, topo());
    await Promise.all(topo().nodes.map((n) => resyncKubeProxy(topo(), n)));
    for (const n of topo().nodes) {
      expect(await outcome(a!, n.name, 30001), `after restart ${a} -> ${n.name}`).toBe('reached');
      expect(await outcome(blocked!, n.name, 30001), `after restart ${blocked} -> ${n.name}`).toBe('refused');
    }
    const v = await npg(['verify', ...common()]);
    expect(v.code, v.stdout + v.stderr).toBe(0);

    // And back: the chains first, then our table goes.
    expect((await npg(['policy', ...local(), '--guard-backend', 'iptables'])).code).toBe(0);
    const back = await npg(['plan', ...common()]);
    expect(back.stdout).toContain(
      `switching to iptables: the NPG- chains are written first, then table inet nodeport-guard goes: ${names}`,
    );
    const toIpt = await probedWhile(a!, blocked!, apply());
    expect(toIpt.result.code, toIpt.result.stdout + toIpt.result.stderr).toBe(0);
    expect(toIpt.seen.blocked.filter((o) => o !== 'refused')).toEqual([]);
    expect(toIpt.seen.allowed.filter((o) => o !== 'reached')).toEqual([]);
    for (const n of topo().nodes) {
      expect(await ourChains(n.name), n.name).toContain('-N NPG-TCP-30001');
      expect(await ourTable(n.name)).toBe('');
    }
    const v2 = await npg(['verify', ...common()]);
    expect(v2.code, v2.stdout + v2.stderr).toBe(0);
  }, 300_000);
});
