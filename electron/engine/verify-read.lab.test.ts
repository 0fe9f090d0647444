// Verify's repeats within one session on the lab: the quick read (nft listing of our chains) must
// see every change the full read sees, and bring counters up to date when nothing else changed.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestFunction } from 'vitest';
import { type LabTopology, nodeIptables, paths, probeLab } from '../../e2e/lab/lab';
import { readState } from '../../e2e/lab/state';
import { run } from '../../e2e/lab/sys/exec';
import type { Policy } from '../../shared/workspace/schema';
import type { ProgressEvent } from '../fleet/index';
import type { Session } from './session';
import { type LabEngine, openLabEngine } from './test-support/lab-engine';
import { verifyNodes } from './verify-nodes';

// The quick read lists our iptables chains; in kube-proxy's nftables mode the guard is our nft table,
// whose reads are never stood in for (verify-read.ts): those tests are skipped there.
const NFT = (await readState())?.options.mode === 'nftables';
const NFT_NOTE = NFT
  ? ' (skipped in nftables mode: the quick read is for the iptables guard; nft guard reads are always full)'
  : '';
const itIptables = (name: string, fn: TestFunction, timeout?: number) =>
  it.skipIf(NFT)(`${name}${NFT_NOTE}`, fn, timeout);

let lab: LabEngine;
let topo: LabTopology;
let session: Session;
let policy: Policy;
const ENTRY = ['-m', 'comment', '--comment', 'nodeport-guard: entry', '-j', 'NPG-PREROUTING'];
const change: LabEngine['change'] = (...args) => lab.change(...args);

/** Verify node1 once; which read it took, and what it found. */
async function verifyNode1(quickReadMaxAgeMs?: number) {
  const ops: string[] = [];
  const r = await verifyNodes(session, policy, {
    ...(quickReadMaxAgeMs === undefined ? {} : { quickReadMaxAgeMs }),
    onProgress: (e: ProgressEvent) => {
      if (e.phase === 'running' && e.node === 'node1') ops.push(e.op);
    },
  });
  const n = r.nodes.find((x) => x.node === 'node1')!;
  if (!n.ok) throw new Error(n.message);
  // Listings come from the resident nft (one per family): `read` names the scripts run, in order.
  const resident = (op: string) => /^nft ip6? \(resident\)$/.test(op);
  const read = ops.filter((op) => !resident(op)).join(',');
  return { read, resident: ops.filter(resident).length === 2, verify: n.verify };
}

/** nft processes running in a network namespace (the resident ones are the only long-lived nft). */
async function nftProcesses(netns: string): Promise<number> {
  const pids = (await run(['ip', 'netns', 'pids', netns])).split('\n').filter((p) => /^\d+$/.test(p));
  let n = 0;
  for (const pid of pids) {
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
    if (comm.trim() === 'nft') n++;
  }
  return n;
}

beforeAll(async () => {
  lab = await openLabEngine();
  ({ topo, session } = lab);
  const [a] = topo.clients[0]!.ipv4;
  policy = {
    nodePorts: [
      {
        port: 30001,
        protocol: 'tcp',
        mode: 'enforce',
        blackholePort: 65535,
        allow: [{ cidr: a!, label: 'a' }],
      },
    ],
  };
  await change('apply', policy);
}, 120_000);

afterAll(async () => {
  await lab?.close();
}, 120_000);

describe('verify within one session', () => {
  itIptables('repeats read only the nft listing while nothing changed, with fresh counters', async () => {
    // A first verify reads plainly; the second also lists through nft; from the third on: quick.
    expect((await verifyNode1()).read).toBe('read (guard)');
    expect((await verifyNode1()).read).toBe('read (guard)');
    const again = await verifyNode1();
    expect(again.read).toBe('read (quick)');
    expect(again.resident).toBe(true);
    expect(again.verify.status).toBe('ok');
    const blocked = topo.clients[0]!.ipv4[1]!;
    const counted = () =>
      again.verify.findings.find((f) => f.kind === 'counters' && f.family === 'ipv4' && f.port === 30001);
    expect(counted()).toBeDefined();
    const before = await verifyNode1();
    expect((await probeLab({ from: blocked, node: 'node1', port: 30001 })).outcome).toBe('refused');
    const after = await verifyNode1();
    expect(after.read).toBe('read (quick)');
    const packets = (v: typeof after) =>
      (
        v.verify.findings.find((f) => f.kind === 'counters' && f.family === 'ipv4' && f.port === 30001) as {
          packets: number;
        }
      ).packets;
    expect(packets(after)).toBeGreaterThan(packets(before));
    // Interactive nft keeps a history in $HOME, written when it exits: neither the read's nor the
    // resident one (it exits when the connection closes) may write the node admin's files.
    const node = topo.nodes.find((n) => n.name === 'node1')!;
    expect(await nftProcesses(node.netns)).toBe(2);
    session.fleet.disconnect('node1');
    for (let i = 0; i < 50 && (await nftProcesses(node.netns)) > 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(await nftProcesses(node.netns)).toBe(0);
    expect(existsSync(join(paths.nodeRootHome('node1'), '.nft.history'))).toBe(false);
    // The next repeat starts a new resident on the new connection.
    const resumed = await verifyNode1();
    expect(resumed).toMatchObject({ read: 'read (quick)', resident: true });
    expect(await nftProcesses(node.netns)).toBe(2);
  });

  itIptables(
    'sees a rule deleted, a rule added and the entry moved behind KUBE-SERVICES, each by hand',
    async () => {
      const node = topo.nodes.find((n) => n.name === 'node1')!;
      const edits: { what: string; run: string[][]; kind: string }[] = [
        {
          what: 'rule deleted',
          run: [['-t', 'nat', '-D', 'NPG-TCP-30001', '1']],
          kind: 'rule-missing',
        },
        {
          what: 'rule added',
          run: [['-t', 'nat', '-I', 'NPG-TCP-30001', '1', '-s', '198.18.100.99/32', '-j', 'RETURN']],
          kind: 'rule-unexpected',
        },
        {
          what: 'entry moved behind KUBE-SERVICES',
          run: [
            ['-t', 'nat', '-D', 'PREROUTING', ...ENTRY],
            ['-t', 'nat', '-A', 'PREROUTING', ...ENTRY],
          ],
          kind: 'entry-after-kube-services',
        },
      ];
      for (const e of edits) {
        await change('apply', policy);
        expect((await verifyNode1()).verify.status).toBe('ok');
        expect((await verifyNode1()).verify.status).toBe('ok');
        expect((await verifyNode1()).read, e.what).toBe('read (quick)');
        for (const argv of e.run) await nodeIptables(node, argv);
        const seen = await verifyNode1();
        expect(seen.read, e.what).toBe('read (quick),read (guard)');
        expect(seen.verify.status, e.what).toBe('drift');
        if (e.kind)
          expect(
            seen.verify.findings.map((f) => f.kind),
            e.what,
          ).toContain(e.kind);
      }
    },
  );

  itIptables(
    'a comment replaced in place is invisible to nft: the quick read misses it, the next full read (after QUICK_MAX_AGE_MS) finds it',
    async () => {
      const node = topo.nodes.find((n) => n.name === 'node1')!;
      const [a] = topo.clients[0]!.ipv4;
      await change('apply', policy);
      expect((await verifyNode1()).verify.status).toBe('ok');
      expect((await verifyNode1()).verify.status).toBe('ok');
      await nodeIptables(node, [
        '-t',
        'nat',
        '-R',
        'NPG-TCP-30001',
        '1',
        '-s',
        `${a}/32`,
        '-m',
        'comment',
        '--comment',
        'nodeport-guard: allow b',
        '-j',
        'RETURN',
      ]);
      const quick = await verifyNode1();
      expect(quick.read).toBe('read (quick)');
      expect(quick.verify.status).toBe('ok');
      const full = await verifyNode1(0);
      expect(full.read).toBe('read (guard)');
      expect(full.verify.status).toBe('drift');
    },
  );

  itIptables('sees a listener on the blackhole port, TCP and UDP, in full and quick reads', async () => {
    const node = topo.nodes.find((n) => n.name === 'node1')!;
    const udp = { ...policy.nodePorts[0]!, port: 30002, protocol: 'udp' as const };
    const both: Policy = { nodePorts: [policy.nodePorts[0]!, udp] };
    await change('apply', both);
    const listening = (v: Awaited<ReturnType<typeof verifyNode1>>) =>
      v.verify.findings
        .filter((f) => f.kind === 'blackhole-listener')
        .map((f) => (f as { protocol: string }).protocol)
        .sort();
    const verifyBoth = async () => {
      const saved = policy;
      policy = both;
      try {
        return await verifyNode1();
      } finally {
        policy = saved;
      }
    };
    expect(listening(await verifyBoth())).toEqual([]);
    expect(listening(await verifyBoth())).toEqual([]);
    // A real process in the node's network namespace holds both blackhole ports.
    const holder = spawn(
      'ip',
      [
        'netns',
        'exec',
        node.netns,
        process.execPath,
        '-e',
        `const s = require('node:net').createServer().listen(65535, () => {
           require('node:dgram').createSocket('udp4').bind(65535, () => console.log('ready'));
         }); setTimeout(() => process.exit(0), 60000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.once('data', () => resolve());
        holder.once('exit', (code) => reject(new Error(`listener exited ${code}`)));
      });
      const quick = await verifyBoth();
      expect(quick.read).toBe('read (quick)');
      // Blocked clients would reach that listener: the check fails (exit 1).
      expect(quick.verify.status).toBe('drift');
      expect(listening(quick)).toEqual(['tcp', 'udp']);
      const full = await verifyNode1(0);
      expect(full.read).toBe('read (guard)');
      expect(listening(full)).toEqual(['tcp']);
    } finally {
      holder.kill();
    }
    await new Promise((r) => holder.once('exit', r));
    expect(listening(await verifyBoth())).toEqual([]);
    await change('apply', policy);
  });
});
