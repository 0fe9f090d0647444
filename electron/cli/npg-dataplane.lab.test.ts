// The dataplane signs read from real nodes, through the real `npg` binary and real sshd: a lab node
// that shows Cilium's BPF NodePort define (Cilium's node_config.h, the file its agent writes) is
// named as not guardable by discover and plan, and apply leaves it alone unless the user guards
// that node anyway (--guard-anyway). The lab's nodes share this machine's filesystem, so the one
// file stands for every node; it is made only where no Cilium runs here, and always removed.
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { Policy } from '../../shared/workspace/schema';
import { labCliSuite } from './test-support/lab-cli';
import { json, npg } from './test-support/npg-run';

const CILIUM_DIR = '/var/run/cilium';
const CONFIG = `${CILIUM_DIR}/state/globals/node_config.h`;
const SKIP = existsSync(CILIUM_DIR)
  ? ` (skipped: ${CILIUM_DIR} exists on this machine; not ours to touch)`
  : '';
if (SKIP) console.info(`npg-dataplane.lab.test.ts${SKIP}`);

const { topo, common, setPolicy } = SKIP ? ({} as ReturnType<typeof labCliSuite>) : labCliSuite();

const policy = (allow: string): Policy => ({
  nodePorts: [
    { port: 30001, protocol: 'tcp', mode: 'enforce', blackholePort: 65535, allow: [{ cidr: allow }] },
  ],
});

afterAll(async () => {
  if (!SKIP) await rm(CILIUM_DIR, { recursive: true, force: true });
});

describe.skipIf(SKIP !== '')(`a node whose NodePorts Cilium serves in BPF${SKIP}`, () => {
  it('is named by discover and plan, left alone by apply, and guarded when the user says so for it', async () => {
    const [first, ...others] = topo().nodes.map((n) => n.name);
    await setPolicy(policy(topo().clients[0]!.ipv4[0]!));
    // Before: every node is kube-proxy's, nothing is said.
    const before = json<{ nodes: { dataplane?: { guardable: string } }[] }>(
      await npg(['discover', ...common(), '--json']),
    );
    expect(before.nodes.map((n) => n.dataplane?.guardable)).toEqual(topo().nodes.map(() => 'yes'));

    await mkdir(`${CILIUM_DIR}/state/globals`, { recursive: true });
    await writeFile(
      CONFIG,
      '/* written by the lab test */\n#define ENABLE_NODEPORT 1\n#define ENABLE_IPV4 1\n',
    );
    try {
      const d = await npg(['discover', ...common()]);
      for (const n of topo().nodes)
        expect(d.stdout).toContain(`dataplane: ${n.name}: Cilium serves NodePorts in eBPF before netfilter`);
      const p = await npg(['plan', ...common(), '--json']);
      const plan = json<{ nodes: unknown[]; unplanned: { node: string; message: string }[] }>(p);
      expect(plan.nodes).toEqual([]);
      expect(plan.unplanned.map((u) => u.node)).toEqual(topo().nodes.map((n) => n.name));
      expect(plan.unplanned[0]!.message).toMatch(/^node\d: Cilium serves NodePorts in eBPF before netfilter/);

      // The others are left alone, so (as for any node left out) the apply goes on only with --continue.
      const a = await npg(['apply', ...common(), '--yes', '--json', '--continue', '--guard-anyway', first!]);
      const out = json<{ nodes: { node: string; status: string }[]; unplanned: { node: string }[] }>(a);
      expect(out.nodes.map((n) => [n.node, n.status])).toEqual([[first, 'applied']]);
      expect(out.unplanned.map((u) => u.node)).toEqual(others);
      const bad = await npg(['plan', ...common(), '--guard-anyway', 'nosuchnode']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^npg: --guard-anyway "nosuchnode": no such node in /);
    } finally {
      await rm(CILIUM_DIR, { recursive: true, force: true });
    }
  }, 180_000);
});
