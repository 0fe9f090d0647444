// The node-side probe script (probe-script.ts) on the lab, run in a node's network namespace: with
// bash's /dev/tcp (what every lab node has) and with the `nc -z` fallback, for a node without
// bash, hidden here by a mount namespace that covers bash with /dev/null. Both tools must report
// the same outcomes for a listening port (the node's sshd) and a closed one. The run over SSH is
// covered by electron/cli/npg-probe.lab.test.ts; this is the fallback that test cannot reach.
import { beforeAll, describe, expect, it } from 'vitest';
import { currentLab, type LabTopology } from '../../e2e/lab/lab';
import { run } from '../../e2e/lab/sys/exec';
import { PROBE_SCRIPT } from './probe-script';

let topo: LabTopology;

beforeAll(async () => {
  topo = await currentLab();
});

/** Runs the probe script in node2's netns; `hideBash`: in a mount namespace where bash is not executable. */
async function probe(hideBash: boolean, pairs: readonly string[]): Promise<Map<string, string>> {
  const node2 = topo.nodes[1]!;
  const argv = hideBash
    ? [
        'unshare',
        '-m',
        'sh',
        '-c',
        'b=$(readlink -f "$(command -v bash)") && mount --bind /dev/null "$b" && exec sh -c "$0" npg-probe "$@"',
        PROBE_SCRIPT,
        '2',
        ...pairs,
      ]
    : ['sh', '-c', PROBE_SCRIPT, 'npg-probe', '2', ...pairs];
  const out = await run(argv, { netns: node2.netns });
  const lines = new Map<string, string>();
  for (const line of out.split('\n')) {
    const m = /^%%npg (tool|probe) (.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === 'tool') lines.set('tool', m[2]!);
    else {
      const [dst, port, outcome] = m[2]!.split(' ');
      lines.set(`${dst}:${port}`, outcome!);
    }
  }
  return lines;
}

describe('the node probe script', () => {
  it('reports the same outcomes through bash and through the nc fallback', async () => {
    expect(topo.nodes.length).toBeGreaterThanOrEqual(2);
    const node1 = topo.nodes[0]!.ipv4;
    const pairs = [node1, '22', node1, '65535'];
    const viaBash = await probe(false, pairs);
    const viaNc = await probe(true, pairs);
    expect(viaBash.get('tool')).toBe('bash');
    expect(viaNc.get('tool'), 'netcat-openbsd must be installed (.ci/run installs it)').toBe('nc');
    for (const r of [viaBash, viaNc]) {
      expect(r.get(`${node1}:22`)).toBe('connected');
      expect(r.get(`${node1}:65535`)).toBe('refused');
    }
  });
});
