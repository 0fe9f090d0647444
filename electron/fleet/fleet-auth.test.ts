import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialSources } from './credentials';
import { Fleet } from './fleet';
import { type Fixture, makeFixture, nodeFor } from './test-support/fixture';
import { makeKeyPair, type TestKeyPair } from './test-support/keys';
import { startTestServer, type TestServer } from './test-support/ssh-server';

const exec = promisify(execFile);

let fx: Fixture;
let hostKey: TestKeyPair;
const keys: Record<string, TestKeyPair> = {};
const paths: Record<string, string> = {};
let server: TestServer;
const fleets: Fleet[] = [];

beforeAll(async () => {
  fx = await makeFixture();
  hostKey = makeKeyPair('ed25519');
  keys.ed25519 = makeKeyPair('ed25519');
  keys.ecdsa = makeKeyPair('ecdsa');
  keys.rsa = makeKeyPair('rsa');
  keys.secret = makeKeyPair('ed25519', 'correct horse');
  keys.stranger = makeKeyPair('ed25519');
  keys.agentOnly = makeKeyPair('ed25519');
  for (const [name, key] of Object.entries(keys)) paths[name] = await fx.writeKey(`id_${name}`, key);
  server = await startTestServer({
    hostKey,
    users: {
      root: {
        publicKeys: [keys.ed25519!, keys.ecdsa!, keys.rsa!, keys.secret!, keys.agentOnly!].map(
          (k) => k.publicLine,
        ),
      },
      ops: { password: 's3cret' },
    },
  });
  await fx.trust([[server, hostKey.blob]]);
});
afterEach(async () => {
  await Promise.all(fleets.splice(0).map((f) => f.close()));
});
afterAll(async () => {
  await server.close();
  await fx.cleanup();
});

function fleet(user: string, identityFiles: readonly string[], credentials: CredentialSources = {}): Fleet {
  const f = new Fleet({
    persistentShell: false, // the test server answers exec requests itself
    nodes: [nodeFor(server, 'n1', user, { identityFiles, sudo: false })],
    knownHostsPath: fx.knownHostsPath,
    credentials,
  });
  fleets.push(f);
  return f;
}

const idRequest = { op: 'id', argv: ['id', '-u'] } as const;

describe('authentication', () => {
  it.each(['ed25519', 'ecdsa', 'rsa'])('logs in with an %s key file', async (kind) => {
    expect(await fleet('root', [paths[kind]!]).run('n1', idRequest)).toMatchObject({ ok: true });
  });

  it('asks for a passphrase once per fleet and uses it', async () => {
    const asked: string[] = [];
    const f = fleet('root', [paths.secret!], {
      getPassphrase: async (path) => {
        asked.push(path);
        return 'correct horse';
      },
    });
    expect(await f.run('n1', idRequest)).toMatchObject({ ok: true });
    f.disconnect('n1');
    expect(await f.run('n1', idRequest)).toMatchObject({ ok: true });
    expect(asked).toEqual([paths.secret]);
  });

  it('says why an encrypted key was not used', async () => {
    const none = await fleet('root', [paths.secret!]).run('n1', idRequest);
    expect(none).toMatchObject({ ok: false, error: { kind: 'auth-failed', user: 'root' } });
    expect(none.ok || none.error.message).toMatch(/encrypted and no passphrase was given/);
    const wrong = await fleet('root', [paths.secret!], { getPassphrase: async () => 'nope' }).run(
      'n1',
      idRequest,
    );
    expect(wrong.ok || wrong.error.message).toMatch(/wrong passphrase for key/);
  });

  it('asks again after a wrong passphrase, saying so, and gives up after three', async () => {
    const asked: boolean[] = [];
    const second = await fleet('root', [paths.secret!], {
      getPassphrase: async (_path, retry) => {
        asked.push(retry);
        return asked.length === 2 ? 'correct horse' : 'nope';
      },
    }).run('n1', idRequest);
    expect(second).toMatchObject({ ok: true });
    expect(asked).toEqual([false, true]);

    const tries: boolean[] = [];
    const never = await fleet('root', [paths.secret!], {
      getPassphrase: async (_path, retry) => {
        tries.push(retry);
        return 'nope';
      },
    }).run('n1', idRequest);
    expect(never.ok || never.error.message).toMatch(/wrong passphrase for key/);
    expect(tries).toEqual([false, true, true]);
  });

  it('a skipped second ask still says the passphrase was wrong', async () => {
    let n = 0;
    const r = await fleet('root', [paths.secret!], {
      getPassphrase: async () => (n++ === 0 ? 'nope' : undefined),
    }).run('n1', idRequest);
    expect(r.ok || r.error.message).toMatch(/wrong passphrase for key/);
  });

  it('refuses a key the server does not know, and notes a missing key file', async () => {
    const r = await fleet('root', [paths.stranger!, join(fx.dir, 'missing')]).run('n1', idRequest);
    expect(r).toMatchObject({ ok: false, error: { kind: 'auth-failed', node: 'n1', hop: 'n1' } });
    expect(r.ok || r.error.message).toMatch(
      /^n1: authentication as root failed \(key \S+missing does not exist\)$/,
    );
  });

  it('logs in with a password, asked only when the server accepts passwords', async () => {
    const asked: string[] = [];
    const f = fleet('ops', [], {
      getPassword: async (hop) => {
        asked.push(`${hop.user}@${hop.name}`);
        return 's3cret';
      },
    });
    expect(await f.run('n1', idRequest)).toMatchObject({ ok: true });
    expect(asked).toEqual(['ops@n1']);
    const wrong = await fleet('ops', [], { getPassword: async () => 'guess' }).run('n1', idRequest);
    expect(wrong).toMatchObject({ ok: false, error: { kind: 'auth-failed', user: 'ops' } });
  });

  describe('with a real ssh-agent', () => {
    let agent: ChildProcess | undefined;
    let socket: string;
    beforeAll(async () => {
      socket = join(fx.dir, 'agent.sock');
      agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
      for (let i = 0; i < 100; i++) {
        if (
          await access(socket).then(
            () => true,
            () => false,
          )
        )
          break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await exec('ssh-add', [paths.agentOnly!], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
    });
    afterAll(() => {
      if (agent?.pid !== undefined) process.kill(agent.pid);
    });

    it('logs in with a key held only by the agent, after the named key files fail', async () => {
      expect(
        await fleet('root', [paths.stranger!], { agentSocket: socket }).run('n1', idRequest),
      ).toMatchObject({
        ok: true,
      });
    });

    it('notes an agent socket that does not answer and goes on to other methods', async () => {
      const r = await fleet('root', [paths.stranger!], { agentSocket: join(fx.dir, 'no-agent.sock') }).run(
        'n1',
        idRequest,
      );
      expect(r).toMatchObject({ ok: false, error: { kind: 'auth-failed' } });
      expect(r.ok || r.error.message).toMatch(/ssh-agent/);
    });
  });
});
