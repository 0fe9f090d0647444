// Bad input to the fleet commands, through the real binary, with no lab: every case is one line on
// stderr, exit 2, the workspace file byte for byte as it was, and not one connection to the node
// (its "sshd" is a TCP listener here that counts connections).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npg } from './test-support/npg-run';

let dir: string;
let server: Server;
let port = 0;
let connections = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'npg-fleet-cli-'));
  server = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

function workspace(policy: string): string {
  return `version: 1\ninventory:\n  knownHosts: known_hosts\n  nodes:\n    - name: node1\n      host: 127.0.0.1\n      port: ${port}\n      user: root\npolicy:\n${policy}`;
}

async function expectRefused(args: readonly string[], text: string, pattern: RegExp): Promise<void> {
  const path = join(dir, `ws-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(path, text);
  const before = connections;
  const fleet = args[0] === 'policy' ? [] : ['--ssh-config', 'none'];
  const r = await npg([...args, '--workspace', path, ...fleet], { timeoutMs: 60_000 });
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stdout).toBe('');
  expect(await readFile(path, 'utf8')).toBe(text);
  expect(connections).toBe(before);
}

const GOOD = '  nodePorts:\n    - port: 30001\n      allow:\n        - cidr: 198.18.100.10\n';

describe('fleet commands refuse bad input before contacting any node', () => {
  it('a corrupt workspace file', { timeout: 60_000 }, async () => {
    await expectRefused(
      ['apply', '--yes'],
      workspace(GOOD).replace('127.0.0.1', '127.0.0.1;reboot'),
      /inventory\.nodes\[0\]\.host/,
    );
    await expectRefused(['verify'], 'version: 1\ninventory: [\n', /workspace .*: YAML/);
    await expectRefused(
      ['plan'],
      workspace('  nodePorts:\n    - port: 30001\n    - port: 30001\n'),
      /already guarded/,
    );
  });

  it('malformed CIDRs, ports out of range, shell metacharacters in the file', {
    timeout: 60_000,
  }, async () => {
    await expectRefused(
      ['apply', '--yes'],
      workspace(GOOD.replace('198.18.100.10', '198.18.100.300')),
      /allow\[0\]\.cidr: .*300/,
    );
    await expectRefused(
      ['apply', '--yes'],
      workspace(GOOD.replace('30001', '70000')),
      /nodePorts\[0\]\.port/,
    );
    await expectRefused(
      ['apply', '--yes'],
      workspace(`${GOOD}          label: "$(reboot)"\n`),
      /policy\.nodePorts\[0\]\.allow\[0\]\.label "\$\(reboot\)": shell metacharacters/,
    );
  });

  it('bad flags: policy edits, --node, --confirm-within, --concurrency', { timeout: 60_000 }, async () => {
    const w = workspace(GOOD);
    await expectRefused(
      ['policy', '--port', '30001', '--add', '198.18.0.1/33'],
      w,
      /--add: "198\.18\.0\.1\/33" has prefix length 33/,
    );
    await expectRefused(
      ['policy', '--port', '30001', '--add', '198.18.0.1|sh'],
      w,
      /character "\|" is not allowed/,
    );
    await expectRefused(
      ['policy', '--port', '30001', '--add', '198.18.0.1', '--label', 'a;b'],
      w,
      /--label "a;b": shell metacharacters/,
    );
    await expectRefused(['policy', '--port', '0', '--add', '198.18.0.1'], w, /--port "0": port out of range/);
    await expectRefused(
      ['policy', '--port', '30001', '--remove', '198.18.0.99'],
      w,
      /not in the allow-list of tcp\/30001/,
    );
    await expectRefused(['apply', '--yes', '--node', 'node9'], w, /--node node9: not in the inventory/);
    await expectRefused(['apply', '--yes', '--confirm-within', '5;'], w, /--confirm-within/);
    await expectRefused(
      ['apply', '--yes', '--canary', 'node7'],
      w,
      /--canary "node7": not a node of the inventory/,
    );
    await expectRefused(['verify', '--concurrency', '0'], w, /--concurrency/);
  });

  it('an allow-list emptied by accident: --allow with no address is refused with the way out', {
    timeout: 60_000,
  }, async () => {
    const w = workspace(GOOD);
    const way =
      /^npg: tcp\/30001: --allow gives no address: .* use --allow-empty if that is meant, or --drop to remove the guard; workspace unchanged$/;
    await expectRefused(['policy', '--port', '30001', '--allow', ''], w, way);
    await expectRefused(['policy', '--port', '30001', '--allow', ','], w, /--allow gives no address/);
    await expectRefused(['policy', '--port', '30002', '--mode', 'audit'], w, /a new guard without --allow/);
    await expectRefused(
      ['policy', '--port', '30001', '--remove', '198.18.100.10'],
      w,
      /--remove takes the last entry/,
    );
    await expectRefused(
      ['policy', '--port', '30001', '--allow-empty', '--add', '198.18.0.1'],
      w,
      /--allow-empty: give no addresses/,
    );
  });

  it('--allow-empty empties the list on purpose; a port that is no NodePort is saved with a warning', {
    timeout: 60_000,
  }, async () => {
    const path = join(dir, 'careless.yaml');
    await writeFile(path, workspace(GOOD));
    const before = connections;
    const emptied = await npg(['policy', '--port', '30001', '--allow-empty', '--workspace', path]);
    expect(emptied.code, emptied.stderr).toBe(0);
    expect(await readFile(path, 'utf8')).toMatch(/port: 30001\n(.*\n)*?\s+allow: \[\]/);
    const ssh = await npg(['policy', '--port', String(port), '--allow', '198.18.0.1', '--workspace', path]);
    expect(ssh.code, ssh.stderr).toBe(0);
    const warnings = ssh.stderr.split('\n').filter((l) => l.startsWith('npg: warning: '));
    expect(warnings).toEqual([
      `npg: warning: tcp/${port}: ${port} is the SSH port of node1: the guard would cut off SSH from every source it does not allow`,
      ...(port < 30000 || port > 32767
        ? [
            `npg: warning: tcp/${port}: ${port} is outside the NodePort range 30000-32767, so no Service can expose it as a NodePort`,
          ]
        : []),
    ]);
    const far = await npg([
      'policy',
      '--port',
      '8080',
      '--proto',
      'udp',
      '--allow',
      '198.18.0.1',
      '--workspace',
      path,
    ]);
    expect(far.code, far.stderr).toBe(0);
    expect(far.stderr).toContain(
      'npg: warning: udp/8080: 8080 is outside the NodePort range 30000-32767, so no Service can expose it as a NodePort\n',
    );
    expect(await readFile(path, 'utf8')).toMatch(/port: 8080/);
    expect(connections).toBe(before);
  });

  it('a node that does not speak SSH: one line naming it, exit 2', { timeout: 60_000 }, async () => {
    const path = join(dir, 'noyes.yaml');
    await writeFile(path, workspace(GOOD));
    // The listener hangs up at once: the read fails and says so about node1.
    const r = await npg([
      'apply',
      '--workspace',
      path,
      '--ssh-config',
      'none',
      '--connect-timeout',
      '2',
      '--quiet',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^npg: node1/);
  });
});
