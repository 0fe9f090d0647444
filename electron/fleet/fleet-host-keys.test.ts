import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Fleet } from './fleet';
import { sha256Fingerprint } from './host-key';
import { formatKnownHostsLine } from './known-hosts';
import { type Fixture, makeFixture, nodeFor } from './test-support/fixture';
import { makeKeyPair, type TestKeyPair } from './test-support/keys';
import { startTestServer, type TestServer } from './test-support/ssh-server';
import type { HostKeySubject, UnknownHostKeyDecider } from './types';

let fx: Fixture;
let hostKey: TestKeyPair;
let otherHostKey: TestKeyPair;
let userKey: TestKeyPair;
let keyPath: string;
let server: TestServer;
const fleets: Fleet[] = [];

beforeAll(async () => {
  fx = await makeFixture();
  hostKey = makeKeyPair('ed25519');
  otherHostKey = makeKeyPair('ed25519');
  userKey = makeKeyPair('ed25519');
  keyPath = await fx.writeKey('id_user', userKey);
  server = await startTestServer({ hostKey, users: { root: { publicKeys: [userKey.publicLine] } } });
});
afterEach(async () => {
  await Promise.all(fleets.splice(0).map((f) => f.close()));
});
afterAll(async () => {
  await server.close();
  await fx.cleanup();
});

function fleet(decide?: UnknownHostKeyDecider, hashRecordedHostKeys = false): Fleet {
  const f = new Fleet({
    persistentShell: false, // the test server answers exec requests itself
    nodes: [nodeFor(server, 'n1', 'root', { identityFiles: [keyPath] })],
    knownHostsPath: fx.knownHostsPath,
    hashRecordedHostKeys,
    ...(decide === undefined ? {} : { onUnknownHostKey: decide }),
  });
  fleets.push(f);
  return f;
}

const idRequest = { op: 'id', argv: ['id', '-u'] } as const;

describe('host key checking', () => {
  it('refuses an unknown key when nobody decides, before sending any credential', async () => {
    await writeFile(fx.knownHostsPath, '');
    const before = server.stats.authMethods.length;
    const r = await fleet().run('n1', idRequest);
    expect(r).toMatchObject({
      ok: false,
      error: {
        kind: 'host-key-unknown',
        reason: 'not-recorded',
        fingerprint: sha256Fingerprint(hostKey.blob),
      },
    });
    expect(server.stats.authMethods.length).toBe(before);
  });

  it('asks the decider with the SHA256 fingerprint; a rejection connects nowhere', async () => {
    await writeFile(fx.knownHostsPath, '');
    const asked: Array<[HostKeySubject, string, string]> = [];
    const r = await fleet(async (s, fp, type) => {
      asked.push([s, fp, type]);
      return 'reject';
    }).run('n1', idRequest);
    expect(asked).toEqual([
      [
        { name: 'n1', host: '127.0.0.1', port: server.port, role: 'node', forNode: 'n1' },
        sha256Fingerprint(hostKey.blob),
        'ssh-ed25519',
      ],
    ]);
    expect(r).toMatchObject({ ok: false, error: { kind: 'host-key-unknown', reason: 'rejected' } });
    expect(r.ok || r.error.message).toMatch(/^n1: host key ssh-ed25519 SHA256:\S+ is not in known_hosts/);
  });

  it('records an accepted key in known_hosts, so the next fleet does not ask again', async () => {
    await writeFile(fx.knownHostsPath, '# existing\n');
    let asks = 0;
    const accept: UnknownHostKeyDecider = async () => {
      asks++;
      // A slow person: the connect timeout must not run while the question is open.
      await new Promise((r) => setTimeout(r, 300));
      return 'accept-and-record';
    };
    const f = new Fleet({
      persistentShell: false, // the test server answers exec requests itself
      nodes: [nodeFor(server, 'n1', 'root', { identityFiles: [keyPath] })],
      knownHostsPath: fx.knownHostsPath,
      onUnknownHostKey: accept,
      connectTimeoutMs: 200,
    });
    fleets.push(f);
    const first = await f.run('n1', idRequest);
    expect(first.ok || first.error.message).toBe(true);
    expect(await readFile(fx.knownHostsPath, 'utf8')).toBe(
      `# existing\n${formatKnownHostsLine('127.0.0.1', server.port, hostKey.blob, { hashed: false })}`,
    );
    expect(await fleet(accept).run('n1', idRequest)).toMatchObject({ ok: true });
    expect(asks).toBe(1);
  });

  it('trusts a key once without recording it: the next fleet asks again', async () => {
    await writeFile(fx.knownHostsPath, '# existing\n');
    let asks = 0;
    const once: UnknownHostKeyDecider = async () => {
      asks++;
      return 'accept-once';
    };
    expect(await fleet(once).run('n1', idRequest)).toMatchObject({ ok: true });
    expect(await readFile(fx.knownHostsPath, 'utf8')).toBe('# existing\n');
    expect(await fleet(once).run('n1', idRequest)).toMatchObject({ ok: true });
    expect(asks).toBe(2);
  });

  it('records hashed when asked to, and reads hashed entries back', async () => {
    await writeFile(fx.knownHostsPath, '');
    expect(await fleet(async () => 'accept-and-record', true).run('n1', idRequest)).toMatchObject({
      ok: true,
    });
    const text = await readFile(fx.knownHostsPath, 'utf8');
    expect(text).toMatch(/^\|1\|[^ ]+ ssh-ed25519 /);
    expect(text).not.toContain('127.0.0.1');
    expect(await fleet().run('n1', idRequest)).toMatchObject({ ok: true });
  });

  it('refuses a changed key outright, naming the node and both fingerprints, and never asks', async () => {
    await fx.trust([[server, otherHostKey.blob]], { hashed: true });
    let asked = false;
    const before = server.stats.authMethods.length;
    const r = await fleet(async () => {
      asked = true;
      return 'accept-and-record';
    }).run('n1', idRequest);
    expect(asked).toBe(false);
    expect(server.stats.authMethods.length).toBe(before);
    expect(r).toMatchObject({
      ok: false,
      error: {
        kind: 'host-key-changed',
        node: 'n1',
        fingerprint: sha256Fingerprint(hostKey.blob),
        knownFingerprints: [sha256Fingerprint(otherHostKey.blob)],
      },
    });
    expect(r.ok || r.error.message).toContain(sha256Fingerprint(otherHostKey.blob));
    expect(r.ok || r.error.message).toMatch(/^n1: HOST KEY CHANGED/);
  });

  it('refuses a key marked @revoked, and one vouched for only by a @cert-authority', async () => {
    await writeFile(
      fx.knownHostsPath,
      `@revoked * ssh-ed25519 ${hostKey.blob.toString('base64')}\n${formatKnownHostsLine('127.0.0.1', server.port, hostKey.blob, { hashed: false })}`,
    );
    expect(await fleet(async () => 'accept-and-record').run('n1', idRequest)).toMatchObject({
      ok: false,
      error: { kind: 'host-key-revoked' },
    });
    await writeFile(
      fx.knownHostsPath,
      `@cert-authority * ssh-ed25519 ${otherHostKey.blob.toString('base64')}\n`,
    );
    const r = await fleet(async () => 'accept-and-record').run('n1', idRequest);
    expect(r).toMatchObject({
      ok: false,
      error: { kind: 'host-key-unknown', reason: 'cert-authority-unsupported' },
    });
    expect(r.ok || r.error.message).toMatch(/@cert-authority/);
  });
});
