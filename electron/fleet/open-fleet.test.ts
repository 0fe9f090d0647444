import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFleet } from './open-fleet';
import { type Fixture, makeFixture } from './test-support/fixture';
import { makeKeyPair, type TestKeyPair } from './test-support/keys';
import { startTestServer, type TestServer } from './test-support/ssh-server';

let fx: Fixture;
let hostKey: TestKeyPair;
let userKey: TestKeyPair;
let server: TestServer;

beforeAll(async () => {
  fx = await makeFixture();
  hostKey = makeKeyPair('ed25519');
  userKey = makeKeyPair('ecdsa');
  server = await startTestServer({ hostKey, users: { ops: { publicKeys: [userKey.publicLine] } } });
  await mkdir(join(fx.dir, 'home', '.ssh'), { recursive: true });
  await writeFile(join(fx.dir, 'home', '.ssh', 'id_lab'), userKey.privateKey, { mode: 0o600 });
  await writeFile(
    join(fx.dir, 'home', '.ssh', 'config'),
    `Host lab-*\n  HostName 127.0.0.1\n  Port ${server.port}\n  User ops\n  IdentityFile ~/.ssh/id_lab\n`,
  );
  await fx.trust([[server, hostKey.blob]]);
});
afterAll(async () => {
  await server.close();
  await fx.cleanup();
});

describe('openFleet', () => {
  it('connects with what ~/.ssh/config says about an inventory alias', async () => {
    const opened = await openFleet(
      { knownHosts: 'known_hosts', nodes: [{ name: 'n1', host: 'lab-1', sudo: false }] },
      {
        workspaceDir: fx.dir,
        homeDir: join(fx.dir, 'home'),
        localUser: 'nobody',
        credentials: { agentSocket: undefined },
      },
    );
    expect(opened.ok).toBe(true);
    if (!opened.ok) return;
    expect(opened.fleet.node('n1')).toMatchObject({ host: '127.0.0.1', port: server.port, user: 'ops' });
    expect(await opened.fleet.run('n1', { op: 'id', argv: ['id', '-u'] })).toMatchObject({ ok: true });
    await opened.fleet.close();
  });

  it('returns the per-node problems instead of a fleet', async () => {
    const opened = await openFleet(
      { nodes: [{ name: 'n1', host: 'x', proxyJump: ['nope'] }] },
      { workspaceDir: fx.dir, sshConfigPath: null, homeDir: fx.dir, localUser: 'op' },
    );
    expect(opened).toEqual({
      ok: false,
      problems: [{ node: 'n1', message: 'n1: jump host nope is not in inventory.jumpHosts' }],
    });
  });
});
