// The output caps on the channels that real programs answer on: the node's persistent shell and a
// resident program. The node's `id` is a script that floods (a real /bin/sh runs it, found first
// on PATH); the channel is retired at the cap and the node's next command still runs.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Fleet } from './fleet';
import { type Fixture, makeFixture, nodeFor } from './test-support/fixture';
import { makeKeyPair } from './test-support/keys';
import { startTestServer, type TestServer } from './test-support/ssh-server';
import type { ResidentProgram } from './types';

const LIMITS = { stdout: 256 * 1024, stderr: 16 * 1024 } as const;

let fx: Fixture;
let server: TestServer;
let keyPath: string;
const fleets: Fleet[] = [];

beforeAll(async () => {
  fx = await makeFixture();
  const hostKey = makeKeyPair('ed25519');
  const userKey = makeKeyPair('ed25519');
  keyPath = await fx.writeKey('id_user', userKey);
  const bin = join(fx.dir, 'bin');
  await mkdir(bin);
  // `id` floods stdout with escapes, `conntrack` floods stderr; neither ends on its own.
  await writeFile(join(bin, 'id'), '#!/bin/sh\nexec yes "$(printf "\\033]0;pwned\\007")"\n');
  await writeFile(join(bin, 'conntrack'), '#!/bin/sh\nexec yes "$(printf "\\033[2K\\033[32mok")" >&2\n');
  await chmod(join(bin, 'id'), 0o755);
  await chmod(join(bin, 'conntrack'), 0o755);
  server = await startTestServer({
    hostKey,
    users: { root: { publicKeys: [userKey.publicLine] } },
    exec: () => 'sh',
    binDir: bin,
    live: (command) => command.endsWith('id -u'),
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

function fleet(): Fleet {
  const f = new Fleet({
    nodes: [nodeFor(server, 'n1', 'root', { identityFiles: [keyPath], sudo: false })],
    knownHostsPath: fx.knownHostsPath,
    outputLimits: LIMITS,
  });
  fleets.push(f);
  return f;
}

describe('output caps on the persistent shell and resident programs', { timeout: 30_000 }, () => {
  it('retires the shell whose command floods stdout, and the next command gets a new one', async () => {
    const f = fleet();
    const shells = server.stats.shells;
    const r = await f.run('n1', { op: 'id', argv: ['id', '-u'], readOnly: true });
    expect(r.ok || r.error.message).toBe(
      'n1: output of id exceeded 256 KiB; stopped reading (the command may still run on the node)',
    );
    expect(await f.run('n1', { op: 'true', argv: ['true'], readOnly: true })).toMatchObject({ ok: true });
    expect(server.stats.shells).toBe(shells + 2);
  });

  it('stops at the stderr cap too', async () => {
    const f = fleet();
    const r = await f.run('n1', {
      op: 'conntrack -L',
      argv: ['conntrack', '-L', '-f', 'ipv4', '-p', 'tcp', '--orig-port-dst', '30001'],
      readOnly: true,
    });
    expect(r).toMatchObject({
      ok: false,
      error: { kind: 'output-exceeded', stream: 'stderr', limitBytes: 16384 },
    });
  });

  it('retires a resident program whose answer never ends', async () => {
    const f = fleet();
    const flooder: ResidentProgram = {
      name: 'flooder',
      argv: ['id', '-u'],
      endRequest: (nonce) => `${nonce}\n`,
      answerLength: (output, nonce) => {
        const at = output.indexOf(nonce);
        return at < 0 ? undefined : at;
      },
    };
    const lives = server.stats.lives;
    const r = await f.ask('n1', { program: flooder, input: 'q\n' });
    expect(r.ok || r.error.message).toBe(
      'n1: output of flooder exceeded 256 KiB; stopped reading (the command may still run on the node)',
    );
    // Retired: the next ask starts it again rather than reading the rest of the flood as its answer.
    const again = await f.ask('n1', { program: flooder, input: 'q\n' });
    expect(again).toMatchObject({ ok: false, error: { kind: 'output-exceeded' } });
    expect(server.stats.lives).toBe(lives + 2);
  });
});
