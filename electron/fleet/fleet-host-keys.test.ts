import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Fleet } from './fleet';
import { sha256Fingerprint } from './host-key';
import { formatKnownHostsLine } from './known-hosts';
import { type Fixture, makeFixture, nodeFor } from './test-support/fixture';
import { makeKeyPair, type TestKeyPair } from './test-support/keys';
import { startTestServer, type TestServer } from './test-support/ssh-server';
import type { HostKeyAccepted, HostKeySubject, UnknownHostKeyDecider } from './types';

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

function fleet(
  decide?: UnknownHostKeyDecider,
  hashRecordedHostKeys = false,
  onHostKeyAccepted?: (e: HostKeyAccepted) => void,
  on: TestServer = server,
): Fleet {
  const f = new Fleet({
    persistentShell: false, // the test server answers exec requests itself
    nodes: [nodeFor(on, 'n1', 'root', { identityFiles: [keyPath] })],
    knownHostsPath: fx.knownHostsPath,
    hashRecordedHostKeys,
    ...(decide === undefined ? {} : { onUnknownHostKey: decide }),
    ...(onHostKeyAccepted === undefined ? {} : { onHostKeyAccepted }),
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
      // A slow person: the connect timeout must not run while the question is open (the answer
      // takes longer than the whole connect may; the handshake gets the rest, even under load).
      await new Promise((r) => setTimeout(r, 2500));
      return 'accept-and-record';
    };
    const f = new Fleet({
      persistentShell: false, // the test server answers exec requests itself
      nodes: [nodeFor(server, 'n1', 'root', { identityFiles: [keyPath] })],
      knownHostsPath: fx.knownHostsPath,
      onUnknownHostKey: accept,
      connectTimeoutMs: 2000,
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

  it('refuses a host known by a key of another type that now shows only an RSA key, and never asks', async () => {
    // The host was recorded by its ed25519 key (line 2); this one shows RSA only, as an interceptor
    // holding no ed25519 key of the host's would.
    const rsaServer = await startTestServer({
      hostKey: makeKeyPair('rsa'),
      users: { root: { publicKeys: [userKey.publicLine] } },
    });
    try {
      await writeFile(
        fx.knownHostsPath,
        `# pinned\n${formatKnownHostsLine('127.0.0.1', rsaServer.port, otherHostKey.blob, { hashed: false })}`,
      );
      let asked = false;
      const accepted: HostKeyAccepted[] = [];
      const r = await fleet(
        async () => {
          asked = true;
          return 'accept-and-record';
        },
        false,
        (e) => accepted.push(e),
        rsaServer,
      ).run('n1', idRequest);
      expect(asked).toBe(false);
      expect(accepted).toEqual([]);
      expect(rsaServer.stats.authMethods).toEqual([]);
      expect(r).toMatchObject({
        ok: false,
        error: {
          kind: 'host-key-changed',
          recorded: 'other-type',
          keyType: 'ssh-rsa',
          knownKeyTypes: ['ssh-ed25519'],
          knownFingerprints: [sha256Fingerprint(otherHostKey.blob)],
          lines: [2],
        },
      });
      const message = r.ok ? '' : r.error.message;
      expect(message).toMatch(/^n1: HOST KEY CHANGED: presents ssh-rsa SHA256:\S+, but known_hosts/);
      expect(message).toContain(`(${fx.knownHostsPath}:2) has only ssh-ed25519 on record`);
      expect(message).not.toContain('\n');
      // Nothing was added: the refusal leaves the file as it was.
      expect((await readFile(fx.knownHostsPath, 'utf8')).split('\n').filter(Boolean)).toHaveLength(2);
    } finally {
      await rsaServer.close();
    }
  });
});

describe('keys trusted on first use are announced', () => {
  it('names the node, the host, the type and the SHA256 fingerprint, as OpenSSH does', async () => {
    await writeFile(fx.knownHostsPath, '');
    const accepted: HostKeyAccepted[] = [];
    const r = await fleet(
      async () => 'accept-and-record',
      false,
      (e) => accepted.push(e),
    ).run('n1', idRequest);
    expect(r.ok).toBe(true);
    const fingerprint = sha256Fingerprint(hostKey.blob);
    expect(accepted).toEqual([
      {
        subject: { name: 'n1', host: '127.0.0.1', port: server.port, role: 'node', forNode: 'n1' },
        keyType: 'ssh-ed25519',
        fingerprint,
        recorded: true,
        knownHostsPath: fx.knownHostsPath,
        message: `n1: Warning: Permanently added '[127.0.0.1]:${server.port}' (ED25519) to the list of known hosts (${fx.knownHostsPath}): ${fingerprint}`,
      },
    ]);
    // Known now: the next connection announces nothing.
    const again: HostKeyAccepted[] = [];
    expect(await fleet(undefined, false, (e) => again.push(e)).run('n1', idRequest)).toMatchObject({
      ok: true,
    });
    expect(again).toEqual([]);
  });

  it('says so when a key is trusted for this session only', async () => {
    await writeFile(fx.knownHostsPath, '');
    const accepted: HostKeyAccepted[] = [];
    expect(
      await fleet(
        async () => 'accept-once',
        false,
        (e) => accepted.push(e),
      ).run('n1', idRequest),
    ).toMatchObject({
      ok: true,
    });
    expect(accepted).toHaveLength(1);
    expect(accepted[0]).toMatchObject({ recorded: false, fingerprint: sha256Fingerprint(hostKey.blob) });
    expect(accepted[0]?.message).toBe(
      `n1: Warning: trusting '[127.0.0.1]:${server.port}' (ED25519) ${sha256Fingerprint(hostKey.blob)} for this session only; not recorded in known_hosts`,
    );
  });

  it('announces nothing for a rejected key', async () => {
    await writeFile(fx.knownHostsPath, '');
    const accepted: HostKeyAccepted[] = [];
    expect(
      await fleet(
        async () => 'reject',
        false,
        (e) => accepted.push(e),
      ).run('n1', idRequest),
    ).toMatchObject({
      ok: false,
    });
    expect(accepted).toEqual([]);
  });
});
