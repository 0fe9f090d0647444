// `npg verify --probe` and `--probe-from NODE` on the lab, through the real `npg` binary: real TCP
// connects from this machine (the lab's bridge, 198.18.0.1) and, over SSH, from node2, to guarded
// NodePorts, judged against the policy. A policy allows the app host and node2 on 30001 and neither
// on 30007; then a block rule deleted by hand lets a blocked source connect, which the probes
// report as drift. Works in iptables and ipvs mode; the IPv6 case runs when the lab has IPv6.
// Works on a private copy of the lab's workspace and removes the guard from every node when it ends.
import { describe, expect, it, type TestFunction } from 'vitest';
import { BRIDGE_V4, BRIDGE_V6 } from '../../e2e/lab/addressing';
import { type LabNode, nodeIptables } from '../../e2e/lab/lab';
import { readState as readLabState } from '../../e2e/lab/state';
import { labCliSuite } from './test-support/lab-cli';
import { json, npg } from './test-support/npg-run';

// In kube-proxy's nftables mode the guard is our nft table (npg-nft-guard.lab.test.ts).
const NFT = (await readLabState())?.options.mode === 'nftables';
const NFT_NOTE = NFT
  ? ' (skipped in nftables mode: it edits NPG- chains by hand; the nft guard: npg-nft-guard.lab.test.ts)'
  : '';
const itIptables = (name: string, fn: TestFunction, timeout?: number) =>
  it.skipIf(NFT)(`${name}${NFT_NOTE}`, fn, timeout);

const { topo, common, setPolicy } = labCliSuite();

interface ProbeJson {
  from: string;
  origin: 'app-host' | 'node';
  node: string;
  address: string;
  family: 'ipv4' | 'ipv6';
  port: number;
  source?: string;
  expected?: 'connected' | 'refused';
  outcome: string;
  verdict: 'ok' | 'drift' | 'error';
  message: string;
}
interface VerifyJson {
  status: string;
  probes: {
    status: string;
    results: ProbeJson[];
    notProbed: { port: number; protocol: string; reason: string }[];
    problems: string[];
  };
}

async function verify(extra: string[]) {
  const r = await npg(['verify', ...common(), '--json', ...extra]);
  return { ...r, out: json<VerifyJson>(r) };
}

function find(out: VerifyJson, from: string, node: string, port: number, family = 'ipv4') {
  const hit = out.probes.results.find(
    (p) => p.from === from && p.node === node && p.port === port && p.family === family,
  );
  if (!hit) throw new Error(`no probe ${from} -> ${node} ${family} ${port}: ${JSON.stringify(out.probes)}`);
  return hit;
}

/** Deletes the block (REDIRECT) rule of NPG-TCP-<port> (IPv4) on a node, by its position. */
async function deleteBlockRule(node: LabNode, port: number): Promise<void> {
  const chain = `NPG-TCP-${port}`;
  const rules = (await nodeIptables(node, ['-t', 'nat', '-S', chain]))
    .split('\n')
    .filter((l) => l.startsWith(`-A ${chain} `));
  const at = rules.findIndex((l) => l.includes('REDIRECT'));
  expect(at, rules.join('\n')).toBeGreaterThanOrEqual(0);
  await nodeIptables(node, ['-t', 'nat', '-D', chain, String(at + 1)]);
}

describe('npg verify --probe on the lab', () => {
  it('probes from this machine and from node2 see the guard as the policy says; UDP is not probed', async () => {
    expect(topo().nodes.length).toBeGreaterThanOrEqual(2);
    const node2 = topo().nodes[1]!;
    const [a] = topo().clients[0]!.ipv4;
    await setPolicy({
      nodePorts: [
        {
          port: 30001,
          protocol: 'tcp',
          mode: 'enforce',
          blackholePort: 65535,
          allow: [{ cidr: BRIDGE_V4, label: 'app host' }, { cidr: node2.ipv4, label: 'node2' }, { cidr: a! }],
        },
        { port: 30007, protocol: 'tcp', mode: 'enforce', blackholePort: 65535, allow: [{ cidr: a! }] },
        { port: 30002, protocol: 'udp', mode: 'enforce', blackholePort: 65535, allow: [{ cidr: a! }] },
      ],
    });
    const applied = await npg(['apply', ...common(), '--yes']);
    expect(applied.code, applied.stderr).toBe(0);

    const here = await verify(['--probe']);
    expect(here.code, here.stdout + here.stderr).toBe(0);
    expect(here.out.status).toBe('ok');
    expect(here.out.probes.status).toBe('ok');
    expect(here.out.probes.results).toHaveLength(topo().nodes.length * 2);
    for (const n of topo().nodes) {
      expect(find(here.out, 'app-host', n.name, 30001)).toMatchObject({
        address: n.ipv4,
        source: BRIDGE_V4,
        expected: 'connected',
        outcome: 'connected',
        verdict: 'ok',
      });
      expect(find(here.out, 'app-host', n.name, 30007)).toMatchObject({
        source: BRIDGE_V4,
        expected: 'refused',
        outcome: 'refused',
        verdict: 'ok',
      });
    }
    expect(here.out.probes.notProbed).toEqual([
      expect.objectContaining({
        port: 30002,
        protocol: 'udp',
        reason: expect.stringContaining('UDP is not probed'),
      }),
    ]);

    const fromNode2 = await verify(['--probe-from', node2.name]);
    expect(fromNode2.code, fromNode2.stdout + fromNode2.stderr).toBe(0);
    const others = topo().nodes.filter((n) => n.name !== node2.name);
    expect(fromNode2.out.probes.results).toHaveLength(others.length * 2);
    for (const n of others) {
      expect(find(fromNode2.out, node2.name, n.name, 30001)).toMatchObject({
        origin: 'node',
        source: node2.ipv4,
        outcome: 'connected',
        verdict: 'ok',
      });
      expect(find(fromNode2.out, node2.name, n.name, 30007)).toMatchObject({
        source: node2.ipv4,
        expected: 'refused',
        outcome: 'refused',
        verdict: 'ok',
      });
    }

    // The human output lists every probe and says what is not probed.
    const human = await npg(['verify', ...common(), '--probe']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(`hold the policy; ${topo().nodes.length * 2} probes as expected`);
    expect(human.stdout).toContain(
      `${topo().nodes[0]!.name}: tcp/30007 (IPv4): probe from this machine (source ${BRIDGE_V4}) to ${topo().nodes[0]!.ipv4}:30007 refused as expected`,
    );
    expect(human.stdout).toContain('udp/30002: UDP is not probed');
  });

  it('IPv6: every address the node reports; the v4-only allow-lists block the app host over IPv6', async (ctx) => {
    const dual = topo().nodes.filter((n) => n.ipv6);
    if (dual.length === 0) ctx.skip();
    const v = await verify(['--probe', '--probe-all-addresses']);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    for (const n of dual)
      for (const port of [30001, 30007])
        expect(find(v.out, 'app-host', n.name, port, 'ipv6')).toMatchObject({
          address: n.ipv6,
          source: BRIDGE_V6,
          expected: 'refused',
          outcome: 'refused',
          verdict: 'ok',
        });
  });

  itIptables(
    'a block rule deleted by hand: the blocked app host and node2 connect, and the probes say so (exit 1)',
    async () => {
      const node1 = topo().nodes[0]!;
      const node2 = topo().nodes[1]!;
      await deleteBlockRule(node1, 30007);
      try {
        const here = await verify(['--probe']);
        expect(here.code, here.stdout + here.stderr).toBe(1);
        expect(here.out.status).toBe('drift');
        expect(here.out.probes.status).toBe('drift');
        const leak = find(here.out, 'app-host', node1.name, 30007);
        expect(leak).toMatchObject({ expected: 'refused', outcome: 'connected', verdict: 'drift' });
        expect(leak.message).toBe(
          `${node1.name}: tcp/30007 (IPv4): probe from this machine (source ${BRIDGE_V4}) to ${node1.ipv4}:30007 connected, expected refused (${BRIDGE_V4} is not on the IPv4 allow-list): the guard let a blocked source through`,
        );
        // The other nodes still refuse.
        for (const n of topo().nodes.slice(1))
          expect(find(here.out, 'app-host', n.name, 30007).verdict, n.name).toBe('ok');

        const human = await npg(['verify', ...common(), '--probe']);
        expect(human.code).toBe(1);
        expect(human.stdout).toContain(leak.message);

        const fromNode2 = await verify(['--probe-from', node2.name]);
        expect(fromNode2.code, fromNode2.stdout + fromNode2.stderr).toBe(1);
        expect(find(fromNode2.out, node2.name, node1.name, 30007)).toMatchObject({
          source: node2.ipv4,
          outcome: 'connected',
          verdict: 'drift',
        });
      } finally {
        const fixed = await npg(['apply', ...common(), '--yes']);
        expect(fixed.code, fixed.stderr).toBe(0);
      }
      const again = await verify(['--probe', '--probe-from', node2.name]);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(find(again.out, 'app-host', node1.name, 30007).outcome).toBe('refused');
    },
  );

  itIptables(
    "an allowed source stopped by a service without endpoints is not drift (the guard's block rule counted nothing); stopped by the guard, it is",
    async () => {
      const node1 = topo().nodes[0]!;
      const empty = 30004; // default/empty: a NodePort without endpoints
      await setPolicy({
        nodePorts: [
          {
            port: empty,
            protocol: 'tcp',
            mode: 'enforce',
            blackholePort: 65535,
            allow: [{ cidr: BRIDGE_V4 }],
          },
        ],
      });
      const applied = await npg(['apply', ...common(), '--yes']);
      expect(applied.code, applied.stderr).toBe(0);

      const r = await verify(['--probe']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      for (const n of topo().nodes) {
        const p = find(r.out, 'app-host', n.name, empty);
        expect(p, JSON.stringify(p)).toMatchObject({ expected: 'connected', verdict: 'ok' });
        // kube-proxy rejects what has no endpoints (iptables mode); the guard let it through.
        if (p.outcome !== 'connected')
          expect(p.message).toMatch(/but not by the guard: its block rule counted no connection/);
      }

      // The app host's allow rule deleted by hand on node1: now the guard itself refuses it.
      const chain = `NPG-TCP-${empty}`;
      const rules = (await nodeIptables(node1, ['-t', 'nat', '-S', chain]))
        .split('\n')
        .filter((l) => l.startsWith(`-A ${chain} `));
      const at = rules.findIndex((l) => l.includes(`-s ${BRIDGE_V4}/32`));
      expect(at, rules.join('\n')).toBeGreaterThanOrEqual(0);
      await nodeIptables(node1, ['-t', 'nat', '-D', chain, String(at + 1)]);
      const drift = await verify(['--probe']);
      expect(drift.code, drift.stdout + drift.stderr).toBe(1);
      expect(find(drift.out, 'app-host', node1.name, empty)).toMatchObject({
        outcome: 'refused',
        verdict: 'drift',
      });
    },
  );

  it('bad probe flags: exit 2 before any connection', async () => {
    const r = await npg(['verify', ...common(), '--probe-from', 'no-such-node']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--probe-from "no-such-node": not in the inventory');
  });
});
