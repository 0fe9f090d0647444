import { type AddressInfo, createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { shippedScript } from './command-policy';
import { Fleet, type FleetOptions } from './fleet';
import { type Fixture, makeFixture, nodeFor } from './test-support/fixture';
import { makeKeyPair, type TestKeyPair } from './test-support/keys';
import { type ExecCall, type ExecReply, startTestServer, type TestServer } from './test-support/ssh-server';
import { startTcpProxy } from './test-support/tcp-proxy';
import type { ProgressEvent } from './types';

const echoArgs = shippedScript('printf "%s|" "$@"', { name: 'npg', rest: { pattern: /.*/s, max: 8 } });
/**
 * A node command as these transport tests need it: the command policy admits only the engine's own
 * shapes, so the text runs as a shipped test script, and `reply` answers for the text inside.
 */
const standIn = (text: string): readonly string[] => [
  'sh',
  '-c',
  shippedScript(text, { name: 'npg-test' }),
  'npg-test',
];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let fx: Fixture;
let hostKey: TestKeyPair;
let userKey: TestKeyPair;
let keyPath: string;
let server: TestServer;
const fleets: Fleet[] = [];

/** The in-process node: answers like a host whose npg user has no sudo rights. */
async function reply(call: ExecCall): Promise<ExecReply | 'sh'> {
  const c = call.command
    .replace(/^LC_ALL=C timeout -k 5 \d+ /, 'LC_ALL=C ')
    .replace(/sh -c '([^']*)' npg-test$/, '$1');
  if (c.startsWith('LC_ALL=C sudo -n -- ')) {
    return call.user === 'nosudo'
      ? { stderr: 'sudo: a password is required\n', code: 1 }
      : { stdout: `as root: ${c.slice('LC_ALL=C sudo -n -- '.length)}\n` };
  }
  if (c === 'LC_ALL=C iptables-save -t nat') return { stdout: '*nat\nCOMMIT\n' };
  if (c === 'LC_ALL=C test -e /nope') return { code: 1 };
  if (c.startsWith('LC_ALL=C ipset'))
    return { stderr: 'ipset v7.17: The set with the given name does not exist\n', code: 1 };
  if (c.startsWith('LC_ALL=C ss')) return { hang: true };
  if (c.startsWith('LC_ALL=C ip ')) return { code: 124, stderr: '' }; // the node's `timeout` fired
  if (c.startsWith('LC_ALL=C conntrack')) return { dropConnection: true };
  if (c.startsWith('LC_ALL=C uname')) {
    await sleep(80);
    return { stdout: 'Linux\n' };
  }
  // cat, printf, true, id: let a real /bin/sh run the text we sent.
  return 'sh';
}

beforeAll(async () => {
  fx = await makeFixture();
  hostKey = makeKeyPair('ed25519');
  userKey = makeKeyPair('ed25519');
  keyPath = await fx.writeKey('id_user', userKey);
  server = await startTestServer({
    hostKey,
    users: { root: { publicKeys: [userKey.publicLine] }, nosudo: { publicKeys: [userKey.publicLine] } },
    exec: reply,
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

function fleet(names: readonly string[] = ['n1'], user = 'root', options: Partial<FleetOptions> = {}): Fleet {
  const f = new Fleet({
    persistentShell: false, // the test server answers exec requests itself
    nodes: names.map((n) => nodeFor(server, n, user, { identityFiles: [keyPath] })),
    knownHostsPath: fx.knownHostsPath,
    ...options,
  });
  fleets.push(f);
  return f;
}

describe('run', () => {
  it('returns stdout, stderr, code and duration on success', async () => {
    const r = await fleet().run('n1', { op: 'iptables-save', argv: standIn('iptables-save -t nat') });
    expect(r).toMatchObject({ ok: true, node: 'n1', op: 'iptables-save', stdout: '*nat\nCOMMIT\n', code: 0 });
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('passes argv and stdin through the remote shell unchanged', async () => {
    const f = fleet();
    const args = ["it's", '$(id)', 'a b', '*', ''];
    const echoed = await f.run('n1', { op: 'echo', argv: ['sh', '-c', echoArgs, 'npg', ...args] });
    expect(echoed).toMatchObject({ ok: true, stdout: `${args.join('|')}|` });
    const stdin = Buffer.from([0, 1, 2, 255, 10, 39]);
    const cat = await f.run('n1', { op: 'cat', argv: standIn('cat'), stdin: 'line one\nline two\n' });
    expect(cat).toMatchObject({ ok: true, stdout: 'line one\nline two\n' });
    const bin = await f.run('n1', { op: 'cat', argv: standIn('cat'), stdin });
    expect(bin.ok && Buffer.from(bin.stdout, 'latin1').length).toBeGreaterThan(0);
  });

  it('refuses argv outside the policy without connecting', async () => {
    const before = server.stats.connections;
    const f = fleet();
    expect(await f.run('n1', { op: 'evil', argv: ['rm', '-rf', '/'] })).toMatchObject({
      ok: false,
      error: { kind: 'invalid-request', message: 'n1: refused to run evil: command not allowed: "rm"' },
    });
    expect(await f.run('n1', { op: 'evil', argv: ['sh', '-c', 'id'] })).toMatchObject({
      ok: false,
      error: { kind: 'invalid-request' },
    });
    expect(await f.run('nx', { op: 'id', argv: ['id', '-u'] })).toMatchObject({
      ok: false,
      error: { kind: 'invalid-request' },
    });
    expect(server.stats.connections).toBe(before);
  });

  it('maps exit codes: accepted ones are success, others an exit-code error with stderr', async () => {
    const f = fleet();
    expect(
      await f.run('n1', { op: 'probe', argv: standIn('test -e /nope'), okExitCodes: [0, 1] }),
    ).toMatchObject({
      ok: true,
      code: 1,
    });
    const r = await f.run('n1', { op: 'ipset list', argv: standIn('ipset list KUBE-NODE-PORT-TCP') });
    expect(r).toMatchObject({ ok: false, error: { kind: 'exit-code', code: 1 } });
    expect(r.ok || r.error.message).toBe(
      'n1: ipset list exited with 1: ipset v7.17: The set with the given name does not exist',
    );
  });

  it('runs through sudo -n for non-root users and maps a refusal to sudo-denied', async () => {
    const f = fleet(['n1'], 'nosudo');
    const r = await f.run('n1', { op: 'iptables-save', argv: standIn('iptables-save -t nat') });
    expect(r).toMatchObject({
      ok: false,
      error: { kind: 'sudo-denied', node: 'n1', user: 'nosudo', reason: 'password-required' },
    });
    expect(r.ok || r.error.message).toMatch(
      /^n1: nosudo cannot run commands as root with sudo -n \(sudo: a password is required\)/,
    );
    // sudo: false on the request skips sudo (commands that need no rights).
    expect(await f.run('n1', { op: 'id', argv: ['id', '-u'], sudo: false })).toMatchObject({ ok: true });
    expect(server.stats.execs.slice(-2).map((e) => e.command)).toEqual([
      "LC_ALL=C timeout -k 5 120 sudo -n -- sh -c 'iptables-save -t nat' npg-test",
      'LC_ALL=C timeout -k 5 120 id -u',
    ]);
  });

  it('stops a command at its timeout and keeps the session usable', async () => {
    const f = fleet();
    const abandonedBefore = server.stats.abandoned;
    const r = await f.run('n1', { op: 'ss', argv: standIn('ss -Hltn'), timeoutMs: 150 });
    expect(r).toMatchObject({ ok: false, error: { kind: 'timeout', phase: 'run', timeoutMs: 150 } });
    expect(r.ok || r.error.message).toBe('n1: ss did not finish within 150 ms and was stopped');
    await sleep(50);
    expect(server.stats.abandoned).toBe(abandonedBefore + 1);
    // The node's own deadline (timeout(1)) is checked on the lab's real sshd.
    expect(await f.run('n1', { op: 'id', argv: ['true'] })).toMatchObject({ ok: true });
  });

  it("reports the node-side deadline (timeout's exit 124) as a timeout", async () => {
    const r = await fleet().run('n1', { op: 'ip addr', argv: standIn('ip -j addr'), timeoutMs: 3000 });
    expect(r).toMatchObject({ ok: false, error: { kind: 'timeout', phase: 'run', timeoutMs: 3000 } });
  });

  it('cancels a running command and refuses to start when already cancelled', async () => {
    const f = fleet();
    const ac = new AbortController();
    const pending = f.run('n1', { op: 'ss', argv: standIn('ss -Hltn') }, { signal: ac.signal });
    await sleep(100);
    ac.abort();
    expect(await pending).toMatchObject({
      ok: false,
      error: { kind: 'cancelled', message: 'n1: ss cancelled' },
    });
    const connections = server.stats.connections;
    expect(await fleet().run('n1', { op: 'id', argv: ['id', '-u'] }, { signal: ac.signal })).toMatchObject({
      ok: false,
      error: { kind: 'cancelled' },
    });
    expect(server.stats.connections).toBe(connections);
  });

  it('keeps one session per node, and reconnects after it drops', async () => {
    const f = fleet();
    const before = server.stats.connections;
    for (let i = 0; i < 3; i++)
      expect(await f.run('n1', { op: 'true', argv: ['true'] })).toMatchObject({ ok: true });
    expect(server.stats.connections).toBe(before + 1);
    server.dropAll();
    await sleep(50);
    expect(await f.run('n1', { op: 'true', argv: ['true'] })).toMatchObject({ ok: true });
    expect(server.stats.connections).toBe(before + 2);
  });

  it('drops a session whose peer stops answering keepalives, and reconnects', async () => {
    const proxy = await startTcpProxy(server.port);
    try {
      const f = new Fleet({
        persistentShell: false, // the test server answers exec requests itself
        nodes: [{ ...nodeFor(server, 'n1', 'root', { identityFiles: [keyPath] }), port: proxy.port }],
        // known_hosts names the server's own port; this node is reached through the relay's
        knownHostsPath: fx.knownHostsPath,
        onUnknownHostKey: async () => 'accept-and-record',
        keepaliveIntervalMs: 50,
        keepaliveCountMax: 2,
      });
      fleets.push(f);
      expect(await f.run('n1', { op: 'true', argv: ['true'] })).toMatchObject({ ok: true });
      const before = server.stats.connections;
      const closedBefore = server.stats.closed;
      proxy.freeze();
      await sleep(400);
      // The client gave up on the silent connection by itself (keepalive), before any new command.
      expect(server.stats.closed).toBe(closedBefore + 1);
      expect(await f.run('n1', { op: 'true', argv: ['true'], timeoutMs: 2000 })).toMatchObject({ ok: true });
      expect(server.stats.connections).toBe(before + 1);
    } finally {
      await proxy.close();
    }
  });

  it('reports a connection lost mid-command as connection-lost, then reconnects', async () => {
    const f = fleet();
    const argv = [
      'conntrack',
      '-D',
      '-f',
      'ipv4',
      '-p',
      'tcp',
      '--orig-port-dst',
      '30001',
      '-s',
      '198.18.0.9',
    ];
    const r = await f.run('n1', { op: 'conntrack -D', argv });
    expect(r).toMatchObject({ ok: false, error: { kind: 'connection-lost' } });
    // A command that may change the node: whether it ran is unknown, and the message says so.
    expect(r.ok || r.error.message).toMatch(
      /^n1: connection lost during conntrack -D \(.*\); it may or may not have run$/,
    );
    expect(await f.run('n1', { op: 'true', argv: ['true'] })).toMatchObject({ ok: true });
    // One that only reads: nobody needs to wonder whether it ran.
    const read = await f.run('n1', { op: 'conntrack -D', argv, readOnly: true });
    expect(read.ok || read.error.message).toMatch(/^n1: connection lost during conntrack -D \([^)]*\)$/);
  });

  it('times out a connect to a peer that never speaks SSH', async () => {
    const silent = createServer(() => {}); // accepts TCP, says nothing
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    const f = new Fleet({
      persistentShell: false, // the test server answers exec requests itself
      nodes: [{ ...nodeFor(server, 'mute', 'root', { identityFiles: [keyPath] }), port }],
      knownHostsPath: fx.knownHostsPath,
      connectTimeoutMs: 200,
    });
    fleets.push(f);
    const r = await f.run('mute', { op: 'id', argv: ['id', '-u'] });
    expect(r).toMatchObject({
      ok: false,
      error: { kind: 'timeout', phase: 'connect', message: 'mute: no SSH session within 200 ms' },
    });
    silent.close();
  });

  it('fails fast with connect-failed when nothing listens', async () => {
    const f = new Fleet({
      persistentShell: false, // the test server answers exec requests itself
      nodes: [{ ...nodeFor(server, 'gone', 'root', { identityFiles: [keyPath] }), port: 1 }],
      knownHostsPath: fx.knownHostsPath,
    });
    fleets.push(f);
    const r = await f.run('gone', { op: 'id', argv: ['id', '-u'] });
    expect(r).toMatchObject({ ok: false, error: { kind: 'connect-failed', node: 'gone' } });
    expect(r.ok || r.error.message).toBe('gone: cannot connect: 127.0.0.1:1: ECONNREFUSED');
  });
});

describe('runOnAll', () => {
  it('honours the concurrency limit across nodes and returns results in inventory order', async () => {
    const names = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const f = fleet(names, 'root', { concurrency: 2 });
    server.stats.maxActiveExecs = 0;
    const events: ProgressEvent[] = [];
    const results = await f.runOnAll(
      ['n5', 'n3', 'n1', 'n4', 'n2'],
      async (ctx) => {
        const a = await ctx.run({ op: 'uname', argv: standIn('uname -s') });
        const b = await ctx.run({ op: 'uname', argv: standIn('uname -r') });
        if (!a.ok) return a;
        if (!b.ok) return b;
        return { ok: true, value: a.stdout.trim() };
      },
      { onProgress: (e) => events.push(e) },
    );
    expect(results.map((r) => r.node)).toEqual(names);
    expect(results.every((r) => r.ok && r.value === 'Linux')).toBe(true);
    expect(server.stats.maxActiveExecs).toBe(2);
    const n3 = events.filter((e) => e.node === 'n3').map((e) => e.phase);
    expect(n3).toEqual(['connecting', 'running', 'running', 'done']);
  });

  it('waits on one signal across 16 nodes without Node calling its listeners a leak', async () => {
    const names = Array.from({ length: 16 }, (_, i) => `n${i + 1}`);
    const f = fleet(names, 'root', { concurrency: 16 });
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const results = await f.runOnAll(
        names,
        async (ctx) => {
          const r = await ctx.run({ op: 'uname', argv: standIn('uname -s') });
          return r.ok ? { ok: true, value: r.stdout } : r;
        },
        {
          signal: new AbortController().signal,
        },
      );
      expect(results.every((r) => r.ok)).toBe(true);
      await sleep(10); // warnings are emitted on a later tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('gives every node a result: failures are per node, unknown names and cancellation included', async () => {
    const f = fleet(['n1', 'n2']);
    const ac = new AbortController();
    const results = await f.runOnAll(['zz', 'n2', 'n1'], async (ctx) => {
      if (ctx.node.name === 'n2') throw new Error('step bug');
      return { ok: true, value: 1 };
    });
    expect(results.map((r) => [r.node, r.ok])).toEqual([
      ['n1', true],
      ['n2', false],
      ['zz', false],
    ]);
    expect(results[1]).toMatchObject({
      error: { kind: 'internal', message: 'n2: internal error: step bug' },
    });
    ac.abort();
    const cancelled = await f.runOnAll(['n1'], async () => ({ ok: true, value: 1 }), { signal: ac.signal });
    expect(cancelled[0]).toMatchObject({ ok: false, error: { kind: 'cancelled' } });
  });
});
