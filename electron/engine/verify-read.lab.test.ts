// Verify's repeats within one session on the lab: the quick read (nft listing of our chains) must
// see every change the full read sees, and bring counters up to date when nothing else changed.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LabTopology, nodeIptables, paths, probeLab } from '../../e2e/lab/lab';
import type { Policy } from '../../shared/workspace/schema';
import type { ProgressEvent } from '../fleet/index';
import type { Session } from './session';
import { type LabEngine, openLabEngine } from './test-support/lab-engine';
import { verifyNodes } from './verify-nodes';

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
  return { read: ops.join(','), verify: n.verify };
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
  it('repeats read only the nft listing while nothing changed, with fresh counters', async () => {
    // A first verify reads plainly; the second also lists through nft; from the third on: quick.
    expect((await verifyNode1()).read).toBe('read (guard)');
    expect((await verifyNode1()).read).toBe('read (guard)');
    const again = await verifyNode1();
    expect(again.read).toBe('read (quick)');
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
    // Interactive nft keeps a history in $HOME: a read must not write the node admin's files.
    expect(existsSync(join(paths.nodeRootHome('node1'), '.nft.history'))).toBe(false);
  });

  it('sees a rule deleted, a rule added and the entry moved behind KUBE-SERVICES, each by hand', async () => {
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
  });

  it('a comment replaced in place is invisible to nft: the quick read misses it, the next full read (after QUICK_MAX_AGE_MS) finds it', async () => {
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
  });
});
