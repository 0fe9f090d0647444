// The setup of test files that run fleet commands in a real local /bin/sh behind the in-process
// SSH server (persistent shell, exec fallback, resident programs): keys, the server, known_hosts,
// and fleets to one node `n1` that are closed after each test. Call once at the top of a file.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { Fleet } from '../fleet';
import { type Fixture, makeFixture, nodeFor } from './fixture';
import { makeKeyPair, type TestKeyPair } from './keys';
import { startTestServer, type TestServer, type TestServerOptions } from './ssh-server';

export interface ShServerSuite {
  readonly server: () => TestServer;
  readonly fixture: () => Fixture;
  readonly hostKey: () => TestKeyPair;
  readonly userKey: () => TestKeyPair;
  /** A fleet of one node `n1` (root) on the suite's server, closed after the test. */
  fleet(): Fleet;
  /** Closes `f` after the test too (a fleet built by the test itself). */
  track(f: Fleet): Fleet;
  /** Where the user key is on disk. */
  readonly keyPath: () => string;
}

export function shServerSuite(extra: Pick<TestServerOptions, 'live'> = {}): ShServerSuite {
  let fx: Fixture | undefined;
  let server: TestServer | undefined;
  let keys: { host: TestKeyPair; user: TestKeyPair; path: string } | undefined;
  const fleets: Fleet[] = [];
  const ready = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error("shServerSuite's beforeAll has not run");
    return v;
  };
  beforeAll(async () => {
    fx = await makeFixture();
    const host = makeKeyPair('ed25519');
    const user = makeKeyPair('ed25519');
    keys = { host, user, path: await fx.writeKey('id_user', user) };
    // Exec requests (the fallback path) also run in a real /bin/sh, so every path gives real answers.
    server = await startTestServer({
      hostKey: host,
      users: { root: { publicKeys: [user.publicLine] } },
      exec: () => 'sh',
      ...extra,
    });
    await fx.trust([[server, host.blob]]);
  });
  afterEach(async () => {
    await Promise.all(fleets.splice(0).map((f) => f.close()));
  });
  afterAll(async () => {
    await server?.close();
    await fx?.cleanup();
  });
  const suite: ShServerSuite = {
    server: () => ready(server),
    fixture: () => ready(fx),
    hostKey: () => ready(keys).host,
    userKey: () => ready(keys).user,
    keyPath: () => ready(keys).path,
    track(f) {
      fleets.push(f);
      return f;
    },
    fleet: () =>
      suite.track(
        new Fleet({
          nodes: [nodeFor(suite.server(), 'n1', 'root', { identityFiles: [suite.keyPath()] })],
          knownHostsPath: suite.fixture().knownHostsPath,
        }),
      ),
  };
  return suite;
}
