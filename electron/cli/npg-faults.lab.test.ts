// Faults during the guard's rollout on the lab, through the real binary (and, where a fault must
// land between planning and changing, through the engine in-process): each gives a clear result
// naming the node, and every node ends fully at its old guard or fully at the new one.
import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it, type TestFunction } from 'vitest';
import { fault, nodeIptables } from '../../e2e/lab/lab';
import { LAB_USERS, readState as readLabState } from '../../e2e/lab/state';
import type { Policy } from '../../shared/workspace/schema';
import { localStore } from '../engine/local-store';
import { prepare } from '../engine/prepare';
import { runChanges } from '../engine/run-changes';
import { openSession } from '../engine/session';
import { loadWorkspace } from '../engine/workspace-file';
import { labCliSuite } from './test-support/lab-cli';
import { json, npg } from './test-support/npg-run';

// In kube-proxy's nftables mode the guard is our nft table (npg-nft-guard.lab.test.ts).
const NFT = (await readLabState())?.options.mode === 'nftables';
const NFT_NOTE = NFT
  ? ' (skipped in nftables mode: it checks NPG- chains or fails iptables-restore; the nft guard: npg-nft-guard.lab.test.ts)'
  : '';
const itIptables = (name: string, fn: TestFunction, timeout?: number) =>
  it.skipIf(NFT)(`${name}${NFT_NOTE}`, fn, timeout);

const { topo, ws, common, edit, removeAll } = labCliSuite({
  extraFlags: ['--connect-timeout', '4'],
  setup: (cli) => cli.edit((w) => ({ ...w, policy: policyAllowing(cli.topo().clients[0]!.ipv4[0]!) })),
  teardown: async (cli) => {
    for (const n of cli.topo().nodes) {
      await fault('restore-ok', n.name).catch(() => undefined);
      await fault('uncut', n.name).catch(() => undefined);
      await fault('sshd-start', n.name).catch(() => undefined);
    }
  },
});

interface ApplyJson {
  outcome: string;
  error?: string;
  nodes: { node: string; status: string; message?: string; state?: string }[];
  unplanned: { node: string; status: string; message: string }[];
}

function policyAllowing(cidr: string): Policy {
  return {
    nodePorts: [{ port: 30001, protocol: 'tcp', mode: 'enforce', blackholePort: 65535, allow: [{ cidr }] }],
  };
}

async function guarded(node: string): Promise<boolean> {
  const n = topo().nodes.find((x) => x.name === node)!;
  return (await nodeIptables(n, ['-t', 'nat', '-S'])).includes('NPG-');
}

/** Each node is fully old (no guard) or fully new (verify: in order); returns which. */
async function states(): Promise<Record<string, 'old' | 'new'>> {
  const v = await npg(['verify', ...common(), '--json']);
  const out = json<{ nodes: { node: string; status: string }[] }>(v);
  const result: Record<string, 'old' | 'new'> = {};
  for (const n of topo().nodes) {
    const isGuarded = await guarded(n.name);
    const status = out.nodes.find((x) => x.node === n.name)?.status;
    if (isGuarded) expect(status, `${n.name} holds part of a guard`).toBe('ok');
    result[n.name] = isGuarded ? 'new' : 'old';
  }
  return result;
}

describe('faults during apply', () => {
  itIptables(
    'sshd stopped on one node: refused before any change; with --continue the others change',
    async () => {
      const down = topo().nodes[1]!.name;
      await fault('sshd-stop', down);
      try {
        const r = await npg(['apply', ...common(), '--yes', '--json']);
        expect(r.code).toBe(2);
        const out = json<ApplyJson>(r);
        expect(out.error).toMatch(
          new RegExp(`^${down}: cannot connect: .*ECONNREFUSED.*; nothing changed on any node`),
        );
        for (const n of topo().nodes) expect(await guarded(n.name), n.name).toBe(false);
        const c = await npg(['apply', ...common(), '--yes', '--json', '--continue']);
        expect(c.code).toBe(2);
        const cont = json<ApplyJson>(c);
        expect(cont.unplanned).toEqual([expect.objectContaining({ node: down, status: 'unreachable' })]);
        for (const n of topo().nodes) expect(await guarded(n.name), n.name).toBe(n.name !== down);
      } finally {
        await fault('sshd-start', down);
      }
      await removeAll();
    },
  );

  itIptables(
    'iptables-restore failing on one node: that node keeps its old guard, the canary stays new, nothing is half',
    async () => {
      const bad = topo().nodes[1]!.name;
      await fault('restore-fail', bad);
      try {
        const r = await npg(['apply', ...common(), '--yes', '--json', '--canary', topo().nodes[0]!.name]);
        expect(r.code).toBe(2);
        const out = json<ApplyJson>(r);
        const failed = out.nodes.find((n) => n.node === bad)!;
        expect(failed.status).toBe('failed');
        expect(failed.message).toMatch(
          new RegExp(
            `^${bad}: iptables-restore failed: .*lab fault restore-fail.*; node left at its old guard`,
          ),
        );
        expect(out.nodes.find((n) => n.node === topo().nodes[0]!.name)!.status).toBe('applied');
        const s = await states();
        expect(s[bad]).toBe('old');
        expect(s[topo().nodes[0]!.name]).toBe('new');
        await removeAll();

        // The failing node as canary: nothing else is started.
        const c = await npg(['apply', ...common(), '--yes', '--json', '--canary', bad]);
        expect(c.code).toBe(2);
        const canary = json<ApplyJson>(c);
        for (const n of canary.nodes.filter((x) => x.node !== bad)) {
          expect(n.status).toBe('skipped');
          expect(n.message).toMatch(/not started after an earlier failure; old guard kept/);
        }
        expect(Object.values(await states()).every((x) => x === 'old')).toBe(true);
      } finally {
        await fault('restore-ok', bad);
      }
    },
  );

  it('a node cut off from the network: one line naming it, nothing changed', async () => {
    const cut = topo().nodes[topo().nodes.length - 1]!.name;
    await fault('cut', cut);
    try {
      const r = await npg(['apply', ...common(), '--yes']);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`^npg: ${cut}: (no SSH session within 4000 ms|cannot connect)`));
      for (const n of topo().nodes) expect(await guarded(n.name)).toBe(false);
    } finally {
      await fault('uncut', cut);
    }
  });

  itIptables('sshd stopped between plan and change: that node stays old, the others are new', async () => {
    const loaded = await loadWorkspace(ws().path);
    if (!loaded.ok) throw new Error(loaded.message);
    const opened = await openSession(loaded.value, { sshConfigPath: null, connectTimeoutMs: 4000 });
    if (!opened.ok) throw new Error(opened.message);
    const session = opened.session;
    const victim = topo().nodes[2]!.name;
    try {
      const prepared = await prepare(session, 'apply', loaded.value.workspace.policy);
      expect(prepared.unplanned).toEqual([]);
      await fault('sshd-stop', victim);
      session.fleet.disconnect(victim);
      const result = await runChanges(session, prepared.changes, {
        store: localStore(ws().path),
        workspacePath: ws().path,
        canary: topo().nodes[0]!.name,
        continueOnFailure: true,
      });
      const o = result.outcomes.find((x) => x.node === victim)!;
      expect(o.status).toBe('failed');
      expect(o.status === 'failed' && o.message).toMatch(new RegExp(`^${victim}: cannot connect`));
      expect(o.status === 'failed' && o.state).toBe('old');
    } finally {
      await fault('sshd-start', victim);
      await session.close();
    }
    const s = await states();
    expect(s[victim]).toBe('old');
    for (const n of topo().nodes.filter((x) => x.name !== victim)) expect(s[n.name]).toBe('new');
    await removeAll();
  });
});

describe('host keys and users', () => {
  it('a changed host key is refused naming the node and both fingerprints; nothing changes', async () => {
    const original = await readFile(ws().knownHosts, 'utf8');
    const lines = original.split('\n');
    const [a, b] = topo().nodes;
    // node a's address with node b's key: what a man in the middle (or a reinstalled node) looks like.
    const bLine = lines.find((l) => l.startsWith(`${b!.ipv4} `))!;
    const aLine = lines.find((l) => l.startsWith(`${a!.ipv4} `))!;
    await writeFile(ws().knownHosts, original.replace(aLine, bLine.replace(b!.ipv4, a!.ipv4)));
    try {
      const r = await npg(['apply', ...common(), '--yes', '--accept-new-host-keys']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        new RegExp(
          `^npg: ${a!.name}: HOST KEY CHANGED: presents ssh-ed25519 SHA256:\\S+, known_hosts .* has SHA256:\\S+; refusing to connect`,
        ),
      );
      for (const n of topo().nodes) expect(await guarded(n.name)).toBe(false);
    } finally {
      await writeFile(ws().knownHosts, original);
    }
  });

  it('an unknown host key is refused unless --accept-new-host-keys, which records it', async () => {
    const original = await readFile(ws().knownHosts, 'utf8');
    const a = topo().nodes[0]!;
    await writeFile(
      ws().knownHosts,
      original
        .split('\n')
        .filter((l) => !l.startsWith(`${a.ipv4} `))
        .join('\n'),
    );
    try {
      const r = await npg(['nodes', ...common(), '--check']);
      expect(r.code).toBe(2);
      expect(r.stdout).toMatch(
        new RegExp(
          `${a.name}: host key ssh-ed25519 SHA256:\\S+ is not in known_hosts.*pass --accept-new-host-keys`,
        ),
      );
      const ok = await npg(['nodes', ...common(), '--check', '--accept-new-host-keys']);
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);
      expect(await readFile(ws().knownHosts, 'utf8')).toContain(`${a.ipv4} ssh-ed25519 `);
    } finally {
      await writeFile(ws().knownHosts, original);
    }
  });

  itIptables('a user without sudo gets one line per node; a user with sudo -n applies', async () => {
    const asUser = (user: string) =>
      edit((w) => ({
        ...w,
        inventory: { ...w.inventory, defaults: { ...w.inventory.defaults, user, sudo: true } },
      }));
    await asUser(LAB_USERS.nosudo);
    try {
      const r = await npg(['apply', ...common(), '--yes', '--json']);
      expect(r.code).toBe(2);
      expect(json<ApplyJson>(r).error).toMatch(
        new RegExp(
          `^${topo().nodes[0]!.name}: ${LAB_USERS.nosudo} cannot run commands as root with sudo -n .*; grant NOPASSWD sudo`,
        ),
      );
      await asUser(LAB_USERS.sudo);
      const ok = await npg(['apply', ...common(), '--yes', '--json']);
      expect(ok.code, ok.stderr).toBe(0);
      for (const n of topo().nodes) expect(await guarded(n.name)).toBe(true);
      await removeAll();
    } finally {
      await asUser('root');
    }
  });
});
