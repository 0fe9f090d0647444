// The engine in-process on the lab: 50 consecutive applies of changing allow-lists while a probe
// loop from an allowed client runs throughout (no connection may be refused: each change is one
// atomic transaction), with kube-proxy re-syncing its chains in between (nothing may be lost);
// and --kill-established cutting a blocked client's open connection. Runs in every mode: in
// kube-proxy's nftables mode the same use cases write the nft guard (our table) instead.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LabTopology, probeLab, resyncKubeProxy } from '../../e2e/lab/lab';
import { run } from '../../e2e/lab/sys/exec';
import type { Policy } from '../../shared/workspace/schema';
import { localStore } from './local-store';
import { prepare } from './prepare';
import { runChanges } from './run-changes';
import type { Session } from './session';
import { policyAllowing } from './test-support/dumps';
import { type LabEngine, openLabEngine } from './test-support/lab-engine';
import type { LabWorkspace } from './test-support/lab-workspace';
import { verifyNodes } from './verify-nodes';

let lab: LabEngine;
let topo: LabTopology;
let ws: LabWorkspace;
let session: Session;
const change: LabEngine['change'] = (...args) => lab.change(...args);

const policy = (allow: readonly string[]): Policy => policyAllowing(allow);

async function kubeRules(): Promise<string[]> {
  return Promise.all(
    topo.nodes.map(async (n) =>
      (await run(['iptables-save'], { netns: n.netns }))
        .split('\n')
        .filter((l) => !l.includes('NPG-') && !l.startsWith('#'))
        .map((l) => l.replace(/ \[\d+:\d+\]$/, ''))
        .join('\n'),
    ),
  );
}

beforeAll(async () => {
  lab = await openLabEngine();
  ({ topo, ws, session } = lab);
  await change('remove', { nodePorts: [] });
}, 120_000);

afterAll(async () => {
  await lab?.close();
}, 120_000);

describe('rollout on the lab', () => {
  it('50 consecutive applies of changing allow-lists: no allowed connection refused, kube-proxy resyncs lose nothing', async () => {
    const [a, ...others] = topo.clients[0]!.ipv4;
    const baseline = await kubeRules();
    let stop = false;
    const counts = { reached: 0, other: 0, details: [] as string[] };
    const probes = (async () => {
      for (let i = 0; !stop; i++) {
        const node = topo.nodes[i % topo.nodes.length]!;
        const r = await probeLab({ from: a!, node: node.name, port: 30001, timeoutMs: 2000 });
        if (r.outcome === 'reached') counts.reached++;
        else {
          counts.other++;
          counts.details.push(`${node.name}: ${r.outcome} ${r.detail}`);
        }
      }
    })();
    try {
      for (let i = 0; i < 50; i++) {
        // a is always allowed; the others come and go, so every apply rewrites the chain.
        const allow = [a!, ...others.filter((_, k) => ((i >> k) & 1) === 1)];
        const resync =
          i % 10 === 5 ? Promise.all(topo.nodes.map((n) => resyncKubeProxy(topo, n))) : undefined;
        const r = await change('apply', policy(allow));
        await resync;
        expect(r.outcome, JSON.stringify(r.outcomes)).toBe('ok');
      }
    } finally {
      stop = true;
      await probes;
    }
    expect(counts.other, counts.details.join('\n')).toBe(0);
    expect(counts.reached).toBeGreaterThan(20);
    const v = await verifyNodes(session, policy([a!, ...others.filter((_, k) => ((49 >> k) & 1) === 1)]));
    expect(v.status, JSON.stringify(v.nodes)).toBe('ok');
    expect(await kubeRules()).toEqual(baseline);
  }, 600_000);

  it('--kill-established cuts a now-blocked client’s open connection and keeps the allowed one', async () => {
    const [a, b] = topo.clients[0]!.ipv4;
    const node = topo.nodes[0]!;
    await change('apply', policy([a!, b!]));
    // Two long-lived TCP connections through the NodePort, from a and from b (socat in the client netns).
    const client = topo.clients[0]!;
    // A connection that stays open and idle: sleep keeps socat's stdin open; its own session, so
    // the whole group (sh, sleep, socat) is ended by one kill of the leader's group.
    const open = (from: string) =>
      run(
        [
          'sh',
          '-c',
          'setsid sh -c \'sleep 20 | socat - "TCP4:$0:30001,bind=$1"\' "$1" "$2" </dev/null >/dev/null 2>&1 & echo $!',
          'x',
          node.ipv4,
          from,
        ],
        { netns: client.netns },
      );
    const pidA = (await open(a!)).trim();
    const pidB = (await open(b!)).trim();
    await new Promise((r) => setTimeout(r, 500));
    const flows = async (src: string) =>
      (
        await run(['conntrack', '-L', '-p', 'tcp', '--orig-port-dst', '30001', '-s', src], {
          netns: node.netns,
        }).catch(() => '')
      )
        .split('\n')
        .filter((l) => l.includes('ESTABLISHED')).length;
    expect(await flows(b!)).toBeGreaterThan(0);
    const r = await change('apply', policy([a!]), { killEstablished: true });
    const o = r.outcomes.find((x) => x.node === node.name)!;
    expect(o.status).toBe('applied');
    expect(o.status === 'applied' && o.killed?.deleted.map((d) => d.source)).toContain(b);
    expect(await flows(b!)).toBe(0);
    expect(await flows(a!)).toBeGreaterThan(0);
    await run(['kill', '--', `-${pidA}`, `-${pidB}`]).catch(() => undefined);
  }, 120_000);

  it('a change that loses its answer is looked at again: the node is reported old or new, as it is', async () => {
    const [a] = topo.clients[0]!.ipv4;
    await change('remove', { nodePorts: [] });
    const node = topo.nodes[0]!;
    // Another holder of the node lock makes the change wait; our 2 s limit ends it first.
    const lock = `/var/lib/nodeport-guard/netns/${node.netns}/lock`;
    const holder = run(['flock', lock, 'sleep', '6'], { netns: node.netns });
    await new Promise((r) => setTimeout(r, 300));
    const prepared = await prepare(session, 'apply', policy([a!]));
    const result = await runChanges(
      session,
      prepared.changes.filter((c) => c.node === node.name),
      { store: localStore(ws.path), workspacePath: ws.path, changeTimeoutMs: 2000 },
    );
    await holder;
    // The change script was stopped (KILL over SSH): it must not go on once the lock is free.
    await new Promise((r) => setTimeout(r, 1500));
    const o = result.outcomes[0]!;
    expect(o.status).toBe('failed');
    expect(o.status === 'failed' && o.state).toBe('old');
    expect(o.status === 'failed' && o.message).toMatch(
      /did not finish within 2000 ms.*read again: the node holds the old guard/,
    );
    expect((await run(['iptables-save', '-t', 'nat'], { netns: node.netns })).includes('NPG-')).toBe(false);
    // kube-proxy's nftables mode: the guard would have been our table; it was not written either.
    if (topo.options.mode === 'nftables')
      expect(
        await run(['nft', 'list', 'table', 'inet', 'nodeport-guard'], { netns: node.netns }).then(
          () => 'present',
          () => 'absent',
        ),
      ).toBe('absent');
  }, 60_000);
});
