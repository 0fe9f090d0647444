// A node is not trusted. One fleet, many nodes on in-process SSH servers, each hostile its own way:
// escape sequences in stderr, a sudo refusal dressed up as a green "ok", output without end on
// either stream, binary garbage, a command that never answers, a connection cut mid-answer, a
// lying iptables-save, a disconnect reason and a banner full of escapes. The well-behaved node's
// work goes on; every hostile node fails with one line that holds no raw control character; a
// node that floods is stopped at the cap, and the server stops being read.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseIptablesSave } from '../../shared/netfilter/index';
import { type FleetError, fleetError } from './errors';
import { Fleet, type FleetOptions } from './fleet';
import { MAX_STDOUT_BYTES } from './limits';
import { type Fixture, makeFixture, nodeFor } from './test-support/fixture';
import { makeKeyPair, type TestKeyPair } from './test-support/keys';
import { type ExecCall, type ExecReply, startTestServer, type TestServer } from './test-support/ssh-server';
import type { ProgressEvent, RunRequest } from './types';

/** What a terminal would act on, or what would reorder or hide the rest of the line. */
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/u;

const FAKE_OK = '\x1b]0;pwned\x07\x1b[2K\r\x1b[32mnode1 ok\x1b[0m';
const LIMITS = { stdout: 1024 * 1024, stderr: 64 * 1024 } as const;
const MiB = 1024 * 1024;

const idRequest: RunRequest = { op: 'id', argv: ['id', '-u'], readOnly: true };

/** Each login name on the test server is one kind of hostile node. */
function hostile(call: ExecCall): ExecReply {
  switch (call.user) {
    case 'stderr-escapes':
      return { stderr: `${FAKE_OK}\nsecond line\n`, code: 1 };
    case 'sudo-escapes':
      return { stderr: `sudo: a password is required${FAKE_OK}\n`, code: 1 };
    case 'flood':
      return { flood: { byte: 0x1b, stream: 'stdout' } };
    case 'flood-stderr':
      return { flood: { byte: 0x9b, stream: 'stderr' } };
    case 'binary':
      return {
        stdout: Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x1b, 0x5b, 0x32, 0x4a, 0xff, 0x00]).toString('latin1'),
        stderr: '\u0000\u0001\u0002\u202eELF\ufffd\u009b1;1H',
        code: 3,
      };
    case 'hang':
      return { hang: true };
    case 'drop':
      return { stdout: 'partial \x1b[2J', dropConnection: true };
    case 'liar':
      return {
        stdout: `*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING --bogus\u202e\u009b32m x -j ACCEPT\nCOMMIT\n`,
      };
    case 'liar-binary':
      return { stdout: `*nat\n-A PREROUTING -j \x1b]0;pwned\x07KUBE\nCOMMIT\n` };
    default:
      return { stdout: '0\n' };
  }
}

const USERS = [
  'root',
  'stderr-escapes',
  'sudo-escapes',
  'flood',
  'flood-stderr',
  'binary',
  'hang',
  'drop',
  'liar',
  'liar-binary',
] as const;

let fx: Fixture;
let hostKey: TestKeyPair;
let userKey: TestKeyPair;
let keyPath: string;
let server: TestServer;
let talker: TestServer;
let slammer: TestServer;
const fleets: Fleet[] = [];

beforeAll(async () => {
  fx = await makeFixture();
  hostKey = makeKeyPair('ed25519');
  userKey = makeKeyPair('ed25519');
  keyPath = await fx.writeKey('id_user', userKey);
  const users = Object.fromEntries(USERS.map((u) => [u, { publicKeys: [userKey.publicLine] }]));
  server = await startTestServer({ hostKey, users, exec: hostile });
  talker = await startTestServer({ hostKey, users, exec: hostile, banner: `Welcome${FAKE_OK}\u202e\n` });
  slammer = await startTestServer({ hostKey, users, disconnectOnAuth: `bye${FAKE_OK}\u202etxt.exe` });
  await fx.trust([
    [server, hostKey.blob],
    [talker, hostKey.blob],
    [slammer, hostKey.blob],
  ]);
});
afterEach(async () => {
  await Promise.all(fleets.splice(0).map((f) => f.close()));
});
afterAll(async () => {
  await Promise.all([server.close(), talker.close(), slammer.close()]);
  await fx.cleanup();
});

function fleet(options: Partial<FleetOptions> = {}): Fleet {
  const f = new Fleet({
    persistentShell: false, // the test server answers exec requests itself
    nodes: [
      ...USERS.map((u) => nodeFor(server, u, u, { identityFiles: [keyPath], sudo: u === 'sudo-escapes' })),
      nodeFor(talker, 'banner', 'root', { identityFiles: [keyPath], sudo: false }),
      nodeFor(slammer, 'disconnect', 'root', { identityFiles: [keyPath], sudo: false }),
    ],
    knownHostsPath: fx.knownHostsPath,
    outputLimits: LIMITS,
    ...options,
  });
  fleets.push(f);
  return f;
}

function expectOneCleanLine(message: string): void {
  expect(message).not.toMatch(RAW_CONTROL);
  expect(message.length).toBeLessThan(600);
}

// Real SSH servers and a 12-node fleet: seconds on a quiet machine, more on a loaded one.
describe('a fleet with hostile nodes', { timeout: 30_000 }, () => {
  it('reads the good nodes and fails each hostile one with one clean line', async () => {
    const events: ProgressEvent[] = [];
    const f = fleet();
    const started = Date.now();
    const results = await f.runOnAll(
      f.nodeNames,
      async (ctx) => {
        const r = await ctx.run({ ...idRequest, timeoutMs: 1500 });
        if (!r.ok) return r;
        if (!ctx.node.name.startsWith('liar')) return { ok: true, value: r.stdout };
        // What the engine does with a read: parse, and quote the parse error.
        const parsed = parseIptablesSave(r.stdout);
        if (parsed.ok) return { ok: true, value: 'parsed' };
        const { line, message, text } = parsed.error;
        return {
          ok: false,
          error: fleetError.configInvalid(ctx.node.name, `iptables-save line ${line}: ${message} (${text})`),
        };
      },
      { onProgress: (e) => events.push(e) },
    );
    // The slow nodes are bounded: the hang by its step timeout, the floods by the cap.
    expect(Date.now() - started).toBeLessThan(10_000);

    const by = new Map(results.map((r) => [r.node, r]));
    expect(by.get('root')).toMatchObject({ ok: true, value: '0\n' });
    expect(by.get('banner')).toMatchObject({ ok: true, value: '0\n' });
    const error = (node: string): FleetError => {
      const r = by.get(node);
      if (r === undefined || r.ok) throw new Error(`${node} should have failed`);
      return r.error;
    };

    expect(error('stderr-escapes')).toMatchObject({ kind: 'exit-code', code: 1 });
    expect(error('stderr-escapes').message).toBe(
      'stderr-escapes: id exited with 1: \\x1b]0;pwned\\x07\\x1b[2K\\x0d\\x1b[32mnode1 ok\\x1b[0m',
    );
    expect(error('sudo-escapes')).toMatchObject({ kind: 'sudo-denied', reason: 'password-required' });
    expect(error('sudo-escapes').message).toContain('(sudo: a password is required\\x1b]0;pwned\\x07');

    expect(error('flood')).toMatchObject({ kind: 'output-exceeded', stream: 'stdout', limitBytes: MiB });
    expect(error('flood').message).toBe(
      'flood: output of id exceeded 1 MiB; stopped reading (the command may still run on the node)',
    );
    expect(error('flood-stderr')).toMatchObject({ kind: 'output-exceeded', stream: 'stderr' });
    expect(error('flood-stderr').message).toMatch(
      /^flood-stderr: stderr of id exceeded 64 KiB; stopped reading/,
    );

    expect(error('binary')).toMatchObject({ kind: 'exit-code', code: 3 });
    expect(error('binary').message).toBe(
      'binary: id exited with 3: \\x00\\x01\\x02\\u202eELF\\ufffd\\x9b1;1H',
    );
    expect(error('hang')).toMatchObject({ kind: 'timeout', phase: 'run', timeoutMs: 1500 });
    expect(error('drop')).toMatchObject({ kind: 'connection-lost' });
    expect(error('liar').message).toMatch(
      /^liar: iptables-save line 3: unknown option --bogus\\u202e\\x9b32m/,
    );
    expect(error('liar-binary').message).toMatch(
      /^liar-binary: iptables-save line 2: control character 0x1b .*\(-A PREROUTING -j \\x1b\]0;pwned\\x07KUBE\)$/,
    );
    expect(error('disconnect')).toMatchObject({ kind: 'connect-failed' });
    expect(error('disconnect').message).toContain('bye\\x1b]0;pwned\\x07\\x1b[2K\\x0d\\x1b[32mnode1 ok');

    for (const r of results) if (!r.ok) expectOneCleanLine(r.error.message);
    const failed = events.filter((e) => e.phase === 'failed');
    expect(failed.map((e) => e.node).sort()).toEqual(
      results
        .filter((r) => !r.ok)
        .map((r) => r.node)
        .sort(),
    );
    for (const e of failed) expectOneCleanLine(e.message);
  });

  it('stops reading a flood at the cap: the server is held by flow control and hung up on', async () => {
    const f = fleet();
    const before = server.stats.flooded;
    const r = await f.run('flood', idRequest);
    expect(r).toMatchObject({ ok: false, error: { kind: 'output-exceeded' } });
    // What the node could send is the cap plus what was in flight: the SSH window and one buffer.
    const sent = server.stats.flooded - before;
    expect(sent).toBeGreaterThan(LIMITS.stdout);
    expect(sent).toBeLessThan(LIMITS.stdout + 6 * MiB);
    await waitFor(() => server.stats.floodsRunning === 0);
    const settled = server.stats.flooded;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.stats.flooded).toBe(settled);
    // The connection is still good: the next command on the same node runs.
    expect(await f.run('root', idRequest)).toMatchObject({ ok: true });
  });

  it('caps at 64 MiB by default, fast, and holds no more than that', async () => {
    const f = fleet({ outputLimits: undefined });
    const before = server.stats.flooded;
    const heapBefore = process.memoryUsage().arrayBuffers;
    const started = Date.now();
    const r = await f.run('flood', idRequest);
    expect(r.ok || r.error.message).toBe(
      'flood: output of id exceeded 64 MiB; stopped reading (the command may still run on the node)',
    );
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(server.stats.flooded - before).toBeLessThan(MAX_STDOUT_BYTES + 6 * MiB);
    // The chunks read so far are dropped with the channel, not kept.
    await waitFor(() => server.stats.floodsRunning === 0);
    expect(process.memoryUsage().arrayBuffers - heapBefore).toBeLessThan(MAX_STDOUT_BYTES * 2);
  }, 30_000);
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setTimeout(r, 20));
  expect(condition()).toBe(true);
}
