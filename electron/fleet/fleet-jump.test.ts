import { writeFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Fleet } from './fleet';
import { formatKnownHostsLine } from './known-hosts';
import { type Fixture, hopFor, makeFixture, nodeFor } from './test-support/fixture';
import { makeKeyPair, type TestKeyPair } from './test-support/keys';
import { startTestServer, type TestServer } from './test-support/ssh-server';
import type { HostKeySubject } from './types';

let fx: Fixture;
let userKey: TestKeyPair;
let keyPath: string;
const hostKeys: Record<string, TestKeyPair> = {};
let bastion1: TestServer;
let bastion2: TestServer;
let closedBastion: TestServer;
let target: TestServer;
const fleets: Fleet[] = [];

beforeAll(async () => {
  fx = await makeFixture();
  userKey = makeKeyPair('ed25519');
  keyPath = await fx.writeKey('id_user', userKey);
  for (const name of ['b1', 'b2', 'closed', 'target']) hostKeys[name] = makeKeyPair('ed25519');
  const users = { root: { publicKeys: [userKey.publicLine] }, jump: { publicKeys: [userKey.publicLine] } };
  bastion1 = await startTestServer({ hostKey: hostKeys.b1!, users, forwarding: true });
  bastion2 = await startTestServer({ hostKey: hostKeys.b2!, users, forwarding: true });
  closedBastion = await startTestServer({ hostKey: hostKeys.closed!, users, forwarding: false });
  target = await startTestServer({
    hostKey: hostKeys.target!,
    users,
    exec: ({ command }) => ({ stdout: `target ran: ${command}\n` }),
  });
});
afterEach(async () => {
  await Promise.all(fleets.splice(0).map((f) => f.close()));
});
afterAll(async () => {
  await Promise.all([bastion1, bastion2, closedBastion, target].map((s) => s.close()));
  await fx.cleanup();
});

async function trustAll(except: readonly TestServer[] = []): Promise<void> {
  const pairs: Array<[TestServer, TestKeyPair]> = [
    [bastion1, hostKeys.b1!],
    [bastion2, hostKeys.b2!],
    [closedBastion, hostKeys.closed!],
    [target, hostKeys.target!],
  ];
  await fx.trust(pairs.filter(([s]) => !except.includes(s)).map(([s, k]) => [s, k.blob] as const));
}

const jumpVia = (server: TestServer, name: string) => hopFor(server, name, 'jump', [keyPath]);
const idRequest = { op: 'id', argv: ['id', '-u'] } as const;

describe('ProxyJump chained in our code', () => {
  it('reaches a node through one bastion', async () => {
    await trustAll();
    const forwards = bastion1.stats.forwards.length;
    const f = new Fleet({
      persistentShell: false, // the test server answers exec requests itself
      nodes: [
        nodeFor(target, 'n1', 'root', { identityFiles: [keyPath], jumps: [jumpVia(bastion1, 'bastion1')] }),
      ],
      knownHostsPath: fx.knownHostsPath,
    });
    fleets.push(f);
    expect(await f.run('n1', idRequest)).toMatchObject({
      ok: true,
      stdout: 'target ran: LC_ALL=C timeout -k 5 120 id -u\n',
    });
    expect(bastion1.stats.forwards.slice(forwards)).toEqual([`127.0.0.1:${target.port}`]);
  });

  it('reaches a node through two bastions, outermost first', async () => {
    await trustAll();
    const f1 = bastion1.stats.forwards.length;
    const f2 = bastion2.stats.forwards.length;
    const f = new Fleet({
      persistentShell: false, // the test server answers exec requests itself
      nodes: [
        nodeFor(target, 'n1', 'root', {
          identityFiles: [keyPath],
          jumps: [jumpVia(bastion1, 'bastion1'), jumpVia(bastion2, 'bastion2')],
        }),
      ],
      knownHostsPath: fx.knownHostsPath,
    });
    fleets.push(f);
    expect(await f.run('n1', idRequest)).toMatchObject({ ok: true });
    expect(bastion1.stats.forwards.slice(f1)).toEqual([`127.0.0.1:${bastion2.port}`]);
    expect(bastion2.stats.forwards.slice(f2)).toEqual([`127.0.0.1:${target.port}`]);
  });

  it('shares one bastion connection among the nodes behind it', async () => {
    await trustAll();
    const before = bastion1.stats.authenticated;
    const jumps = [jumpVia(bastion1, 'bastion1')];
    const f = new Fleet({
      persistentShell: false, // the test server answers exec requests itself
      nodes: ['n1', 'n2', 'n3'].map((n) => nodeFor(target, n, 'root', { identityFiles: [keyPath], jumps })),
      knownHostsPath: fx.knownHostsPath,
    });
    fleets.push(f);
    const results = await f.runOnAll(f.nodeNames, (ctx) =>
      ctx.run(idRequest).then((r) => (r.ok ? { ok: true, value: r.stdout } : r)),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    expect(bastion1.stats.authenticated - before).toBe(1);
  });

  it("checks the bastion's host key too, and names the bastion when it is unknown", async () => {
    await trustAll([bastion1]);
    const asked: HostKeySubject[] = [];
    const f = new Fleet({
      persistentShell: false, // the test server answers exec requests itself
      nodes: [
        nodeFor(target, 'n1', 'root', { identityFiles: [keyPath], jumps: [jumpVia(bastion1, 'bastion1')] }),
      ],
      knownHostsPath: fx.knownHostsPath,
      onUnknownHostKey: async (subject) => {
        asked.push(subject);
        return 'reject';
      },
    });
    fleets.push(f);
    const r = await f.run('n1', idRequest);
    expect(asked).toEqual([
      { name: 'bastion1', host: '127.0.0.1', port: bastion1.port, role: 'jump-host', forNode: 'n1' },
    ]);
    expect(r).toMatchObject({ ok: false, error: { kind: 'host-key-unknown', node: 'n1', hop: 'bastion1' } });
    expect(r.ok || r.error.message).toMatch(/^n1 \(jump host bastion1\): host key/);
  });

  it('refuses a changed key on the node behind the bastion', async () => {
    await trustAll([target]);
    await writeFile(
      fx.knownHostsPath,
      formatKnownHostsLine(target.host, target.port, hostKeys.b2!.blob, { hashed: false }),
      { flag: 'a' },
    );
    const f = new Fleet({
      persistentShell: false, // the test server answers exec requests itself
      nodes: [
        nodeFor(target, 'n1', 'root', { identityFiles: [keyPath], jumps: [jumpVia(bastion1, 'bastion1')] }),
      ],
      knownHostsPath: fx.knownHostsPath,
    });
    fleets.push(f);
    expect(await f.run('n1', idRequest)).toMatchObject({
      ok: false,
      error: { kind: 'host-key-changed', hop: 'n1' },
    });
  });

  it('reports a bastion that will not forward as connect-failed at that bastion', async () => {
    await trustAll();
    const f = new Fleet({
      persistentShell: false, // the test server answers exec requests itself
      nodes: [
        nodeFor(target, 'n1', 'root', {
          identityFiles: [keyPath],
          jumps: [jumpVia(closedBastion, 'closed')],
        }),
      ],
      knownHostsPath: fx.knownHostsPath,
    });
    fleets.push(f);
    const r = await f.run('n1', idRequest);
    expect(r).toMatchObject({ ok: false, error: { kind: 'connect-failed', node: 'n1', hop: 'closed' } });
    expect(r.ok || r.error.message).toMatch(
      /^n1 \(jump host closed\): cannot connect: tunnel to 127\.0\.0\.1:\d+ refused/,
    );
  });
});
