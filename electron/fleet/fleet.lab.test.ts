// The fleet against the lab's real OpenSSH sshd nodes (`npm run lab:up`; needs root). Uses the
// workspace, lab key and known_hosts that lab:up writes, exactly as the app would.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type Inventory, WorkspaceSchema } from '../../shared/workspace/schema';
import { shippedScript } from './command-policy';
import type { Fleet } from './fleet';
import { formatKnownHostsLine } from './known-hosts';
import { type OpenFleetOptions, openFleet } from './open-fleet';
import { makeKeyPair } from './test-support/keys';
import type { ResidentProgram, UnknownHostKeyDecider } from './types';

const exec = promisify(execFile);
const repoRoot = join(dirname(new URL(import.meta.url).pathname), '..', '..');
const pidThenSleep = shippedScript('echo $$ > "$1"; exec sleep 30', { name: 'npg', args: [/\/.+/] });
// A resident program: answers each line with the uid it runs as, `END` after the end request.
const whoami = shippedScript('while read -r l; do case $l in end) echo END ;; *) id -u ;; esac; done', {
  name: 'npg-whoami',
});
const whoamiResident: ResidentProgram = {
  name: 'whoami',
  argv: ['sh', '-c', whoami, 'npg-whoami'],
  endRequest: () => 'end\n',
  answerLength: (output) => {
    const at = output.indexOf('END\n');
    return at < 0 ? undefined : at;
  },
};

interface Lab {
  readonly inventory: Inventory;
  readonly workspaceDir: string;
  readonly nodeIps: readonly string[];
}

let labPromise: Promise<Lab> | undefined;
async function lab(): Promise<Lab> {
  labPromise ??= (async () => {
    const { stdout } = await exec('npm', ['run', '-s', 'lab:status', '--', '--json'], { cwd: repoRoot });
    const status = JSON.parse(stdout) as { workspace: string; nodes: { name: string; ip: string }[] };
    const workspace = WorkspaceSchema.parse(parseYaml(await readFile(status.workspace, 'utf8')));
    return {
      inventory: workspace.inventory,
      workspaceDir: dirname(status.workspace),
      nodeIps: status.nodes.map((n) => n.ip),
    };
  })();
  return labPromise;
}

const fleets: Fleet[] = [];
const tempDirs: string[] = [];

afterAll(async () => {
  await Promise.all(fleets.splice(0).map((f) => f.close()));
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function open(user?: string, extra: Partial<OpenFleetOptions> = {}): Promise<Fleet> {
  const l = await lab();
  const inventory: Inventory =
    user === undefined
      ? l.inventory
      : { ...l.inventory, nodes: l.inventory.nodes.map((n) => ({ ...n, user })) };
  const opened = await openFleet(inventory, {
    workspaceDir: l.workspaceDir,
    sshConfigPath: null,
    credentials: { agentSocket: undefined },
    ...extra,
  });
  if (!opened.ok) throw new Error(opened.problems.map((p) => p.message).join('\n'));
  fleets.push(opened.fleet);
  return opened.fleet;
}

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'npg-fleet-lab-'));
  tempDirs.push(d);
  return d;
}

// The policy admits only the engine's own commands: these run as shipped test scripts.
const natSave = {
  op: 'iptables-save',
  argv: ['sh', '-c', shippedScript('exec iptables-save -t nat', { name: 'npg-lab' }), 'npg-lab'],
} as const;
const userName = shippedScript('exec id -un', { name: 'npg-lab' });
const catFile = shippedScript('exec cat "$1"', { name: 'npg-lab', args: [/\/.*/s] });

describe('fleet on the lab', () => {
  it('runs iptables-save -t nat as root on every node, results in inventory order', async () => {
    const fleet = await open();
    const results = await fleet.runOnAll(fleet.nodeNames, async (ctx) => {
      const r = await ctx.run(natSave);
      return r.ok ? { ok: true, value: r.stdout } : r;
    });
    expect(results.map((r) => r.node)).toEqual(fleet.nodeNames);
    for (const r of results) {
      expect(r.ok, r.ok ? '' : r.error.message).toBe(true);
      expect(r.ok && r.value).toMatch(/^\*nat$/m);
      expect(r.ok && r.value).toMatch(/^COMMIT$/m);
    }
  });

  it('runs it through sudo -n as npglab-sudo', async () => {
    const fleet = await open('npglab-sudo');
    expect(fleet.node(fleet.nodeNames[0]!)?.sudo).toBe(true);
    const results = await fleet.runOnAll(fleet.nodeNames, async (ctx) => {
      const r = await ctx.run(natSave);
      return r.ok ? { ok: true, value: r.stdout } : r;
    });
    for (const r of results) {
      expect(r.ok, r.ok ? '' : r.error.message).toBe(true);
      expect(r.ok && r.value).toMatch(/^\*nat$/m);
    }
    const who = await fleet.run(fleet.nodeNames[0]!, {
      op: 'id',
      argv: ['sh', '-c', userName, 'npg-lab'],
      sudo: false,
    });
    expect(who).toMatchObject({ ok: true, stdout: 'npglab-sudo\n' });
  });

  it('keeps a resident program per node, through sudo -n too, and refuses it where sudo is denied', async () => {
    for (const user of ['root', 'npglab-sudo']) {
      const fleet = await open(user);
      for (let i = 0; i < 2; i++) {
        const results = await fleet.runOnAll(fleet.nodeNames, async (ctx) => {
          const r = await ctx.ask({ program: whoamiResident, input: 'who\nwho\n' });
          return r.ok ? { ok: true, value: r.stdout } : r;
        });
        for (const r of results) expect(r, user).toMatchObject({ ok: true, value: '0\n0\n' });
      }
    }
    const denied = await open('npglab-nosudo');
    const r = await denied.ask(denied.nodeNames[0]!, { program: whoamiResident, input: 'who\n' });
    expect(r).toMatchObject({ ok: false, error: { kind: 'sudo-denied', user: 'npglab-nosudo' } });
  });

  it('gives npglab-nosudo a sudo-denied error per node', async () => {
    const fleet = await open('npglab-nosudo');
    const results = await fleet.runOnAll(fleet.nodeNames, async (ctx) => {
      const r = await ctx.run(natSave);
      return r.ok ? { ok: true, value: r.stdout } : r;
    });
    for (const r of results) {
      expect(r).toMatchObject({
        ok: false,
        error: { kind: 'sudo-denied', node: r.node, user: 'npglab-nosudo' },
      });
      expect(r.ok || r.error.message).toMatch(
        new RegExp(`^${r.node}: npglab-nosudo cannot run commands as root with sudo -n`),
      );
    }
  });

  it('refuses a node whose known_hosts entry holds another key: host-key-changed', async () => {
    const l = await lab();
    const ip = l.nodeIps[0]!;
    const dir = await tempDir();
    const wrong = join(dir, 'known_hosts');
    // A wrong key of every type sshd may offer, so whichever it shows is "changed", not "unknown".
    await writeFile(
      wrong,
      (['ed25519', 'ecdsa', 'rsa'] as const)
        .map((kind) => formatKnownHostsLine(ip, 22, makeKeyPair(kind).blob, { hashed: false }))
        .join(''),
    );
    let asked = false;
    const fleet = await open(undefined, {
      knownHostsPath: wrong,
      onUnknownHostKey: async () => {
        asked = true;
        return 'accept-and-record';
      },
    });
    const node = fleet.nodeNames[0]!;
    const r = await fleet.run(node, natSave);
    expect(asked).toBe(false);
    expect(r).toMatchObject({ ok: false, error: { kind: 'host-key-changed', node } });
    expect(r.ok || r.error.message).toMatch(new RegExp(`^${node}: HOST KEY CHANGED: presents \\S+ SHA256:`));
  });

  it('asks about an unknown real host key and records it where ssh-keygen finds it', async () => {
    const l = await lab();
    const dir = await tempDir();
    const fresh = join(dir, 'known_hosts');
    const asked: string[] = [];
    const accept: UnknownHostKeyDecider = async (subject, fingerprint) => {
      asked.push(`${subject.name} ${fingerprint}`);
      return 'accept-and-record';
    };
    const fleet = await open(undefined, { knownHostsPath: fresh, onUnknownHostKey: accept });
    const node = fleet.nodeNames[0]!;
    expect(await fleet.run(node, { op: 'true', argv: ['true'] })).toMatchObject({ ok: true });
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatch(/ SHA256:[A-Za-z0-9+/]{43}$/);
    const found = await exec('ssh-keygen', ['-F', l.nodeIps[0]!, '-f', fresh]);
    expect(found.stdout).toContain(l.nodeIps[0]!);
    const again = await open(undefined, { knownHostsPath: fresh });
    expect(await again.run(node, { op: 'true', argv: ['true'] })).toMatchObject({ ok: true });
  });

  it('keeps one shell per node: 6 MB of output byte for byte, then more commands on the same connection', async () => {
    const fleet = await open();
    const node = fleet.nodeNames[0]!;
    const dir = await tempDir(); // the lab's nodes are network namespaces: same filesystem
    const file = join(dir, 'big.txt');
    const text = randomBytes(4.5 * 1024 * 1024).toString('base64');
    await writeFile(file, text);
    expect(await fleet.run(node, { op: 'cat', argv: ['sh', '-c', catFile, 'npg-lab', file] })).toMatchObject({
      ok: true,
      stdout: text,
    });
    for (let i = 0; i < 3; i++) {
      expect(await fleet.run(node, { op: 'id', argv: ['id', '-u'] })).toMatchObject({
        ok: true,
        stdout: '0\n',
      });
    }
    const missing = await fleet.run(node, {
      op: 'cat',
      argv: ['sh', '-c', catFile, 'npg-lab', join(dir, 'missing')],
    });
    expect(missing).toMatchObject({ ok: false, error: { kind: 'exit-code', code: 1 } });
  });

  it('has the node end a command at its deadline, even though the channel close alone would not', async () => {
    const fleet = await open();
    const node = fleet.nodeNames[0]!;
    const dir = await tempDir(); // the lab's nodes are network namespaces: same filesystem and pids
    const pidFile = join(dir, 'sleeper.pid');
    const r = await fleet.run(node, {
      op: 'sleeper',
      argv: ['sh', '-c', pidThenSleep, 'npg', pidFile],
      timeoutMs: 1000,
    });
    expect(r).toMatchObject({ ok: false, error: { kind: 'timeout', phase: 'run' } });
    // The node's clock starts after the login shell is up, which can take seconds here.
    let pid = '';
    for (let i = 0; i < 200 && pid === ''; i++) {
      pid = (await readFile(pidFile, 'utf8').catch(() => '')).trim();
      if (pid === '') await new Promise((res) => setTimeout(res, 50));
    }
    expect(pid).toMatch(/^\d+$/);
    let alive = true;
    for (let i = 0; i < 100 && alive; i++) {
      alive = await access(`/proc/${pid}`).then(
        () => true,
        () => false,
      );
      if (alive) await new Promise((res) => setTimeout(res, 100));
    }
    expect(alive).toBe(false);
  });
});
