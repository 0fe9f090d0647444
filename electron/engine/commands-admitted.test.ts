// Every command the engine builds passes the fleet's command policy. The argv come from the real
// builders (read, verify's quick read and resident nft, change, confirm, conntrack, probe), run
// against a recording node that applies checkArgv exactly as Fleet.run does before sending: when a
// builder changes its arguments and the policy is not changed with it, this fails.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkArgv, type RunRequest, type RunResult } from '../fleet/index';
import { confirmNodes } from './confirm';
import { killEstablished, listFlows } from './kill-established';
import { NFT_RESIDENTS } from './nft-resident';
import { applyChange, type NodeChange, removeChange } from './node-change';
import { probeNodes } from './probe-nodes';
import { parseScriptOutput } from './sections';
import { sendChange } from './send-change';
import { readNodeOutput, type Session } from './session';
import type { NodeSnapshot } from './snapshot';
import { KUBE_NAT, nftModeSnapshotOf, policyAllowing, snapshotOf, withGuard } from './test-support/dumps';
import { readForVerify } from './verify-read';

interface Sent {
  readonly argv: readonly string[];
  readonly check: ReturnType<typeof checkArgv>;
}

/** A node that answers every command with `stdout` (conntrack -L: one blocked flow) and records it. */
function recorder() {
  const sent: Sent[] = [];
  const run = async (req: RunRequest): Promise<RunResult> => {
    sent.push({ argv: req.argv, check: checkArgv(req.argv) });
    const stdout =
      req.argv[0] === 'conntrack' && req.argv[1] === '-L'
        ? 'tcp      6 431999 ESTABLISHED src=198.18.9.1 dst=198.18.0.11 sport=40001 dport=30001 src=198.18.64.5 dst=198.18.9.1 sport=8080 dport=40001 [ASSURED] mark=0 use=1\n'
        : '';
    return { ok: true, node: 'node1', op: req.op, stdout, stderr: '', code: 0, durationMs: 1 };
  };
  const ask = (req: { readonly program: { readonly argv: readonly string[] } }) =>
    run({ op: 'ask', argv: req.program.argv });
  const node = (name: string) => ({ name, host: '198.18.0.11', port: 22, user: 'root', jumps: [] });
  const fleet = {
    node,
    run: (_node: string, req: RunRequest) => run(req),
    runOnAll: (nodes: readonly string[], step: (ctx: unknown) => Promise<unknown>) =>
      Promise.all(nodes.map((n) => step({ node: node(n), signal: undefined, run, ask }))),
  };
  const session = {
    fleet,
    nodes: ['node1', 'node2'],
    warnings: [],
    close: async () => {},
  } as unknown as Session;
  return { sent, run, ask, fleet, session };
}

const snapshot = (v4: string): NodeSnapshot => snapshotOf('node1', v4);

const POLICY = policyAllowing(['198.18.100.10']);

function changeOf(r: ReturnType<typeof applyChange>): NodeChange {
  if (!r.ok) throw new Error(r.message);
  return r.change;
}

describe('the commands the engine builds', () => {
  it('are all admitted by the command policy', async () => {
    const rec = recorder();
    for (const what of ['full', 'nat', 'plan', 'guard'] as const)
      await readNodeOutput(rec.run, 'node1', what, ['NPG-PREROUTING', 'NPG-TCP-30001', 'NPG-UDP-30002']);

    // A cached read makes verify ask for the quick read; the resident nft programs start like commands.
    const cache = new Map([
      [
        'node1',
        { wanted: 'NPG-TCP-30001', at: Date.now(), out: parseScriptOutput(''), listed: ['NPG-TCP-30001'] },
      ],
    ]);
    await readForVerify({ run: rec.run, ask: rec.ask }, 'node1', ['NPG-TCP-30001'], cache);
    for (const program of Object.values(NFT_RESIDENTS)) await rec.ask({ program });

    const meta = { token: randomBytes(8).toString('hex'), operator: 'me@here', time: 't', planHash: 'p' };
    const apply = changeOf(applyChange(snapshot(KUBE_NAT), POLICY));
    const remove = changeOf(removeChange(snapshot(withGuard())));
    // kube-proxy's nftables mode: the nft guard goes through the same change script (one `nft -f`).
    const nft = changeOf(applyChange(nftModeSnapshotOf('node1'), POLICY));
    expect(nft.nft?.text).toContain('table inet nodeport-guard');
    for (const change of [apply, remove, nft])
      for (const confirmSeconds of [0, 86_400])
        await sendChange({ run: rec.run } as never, change, { meta, confirmSeconds });

    await confirmNodes(rec.session, ['node1'], undefined);
    await confirmNodes(rec.session, ['node1'], meta.token);

    for (const family of ['ipv4', 'ipv6'] as const)
      await listFlows(rec.run, 'node1', { port: 30001, protocol: 'udp' }, family);
    await killEstablished(rec.fleet as never, apply);

    await probeNodes(rec.session, POLICY, { fromNode: 'node1', timeoutMs: 2000 });

    // Every builder was reached: a run that never happens admits nothing.
    const names = rec.sent.map((s) => (s.argv[0] === 'sh' ? s.argv[3] : `${s.argv[0]} ${s.argv[1]}`));
    expect(new Set(names)).toEqual(
      new Set([
        'npg-read',
        'npg-quick',
        'npg-nft-ip',
        'npg-nft-ip6',
        'npg-change',
        'npg-confirm',
        'conntrack -L',
        'conntrack -D',
        'npg-probe',
      ]),
    );
    expect(rec.sent.filter((s) => !s.check.ok)).toEqual([]);
  });

  it('and the recorder would see a refusal (it applies the real policy)', async () => {
    const rec = recorder();
    await rec.run({ op: 'x', argv: ['sh', '-c', 'id', 'npg-read', 'full'] });
    expect(rec.sent[0]?.check).toMatchObject({ ok: false });
  });
});
