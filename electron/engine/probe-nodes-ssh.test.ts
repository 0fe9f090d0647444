// probeNodes end to end without the lab: two inventory "nodes" behind the in-process SSH server
// (which runs commands in a real /bin/sh), both at 127.0.0.1, with real loopback listeners as the
// guarded ports. Nothing here is guarded for real, so the policy is chosen to make some probes
// match and some differ: the comparison, the messages and the shipped script's path over SSH are
// what is tested.
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Policy } from '../../shared/workspace/schema';
import { Fleet } from '../fleet/fleet';
import { type Fixture, makeFixture, nodeFor } from '../fleet/test-support/fixture';
import { makeKeyPair } from '../fleet/test-support/keys';
import { startTestServer, type TestServer } from '../fleet/test-support/ssh-server';
import { probeNodes } from './probe-nodes';
import type { Session } from './session';

let fx: Fixture;
let ssh: TestServer;
let fleet: Fleet;
let session: Session;
const listeners: Server[] = [];

async function listen(): Promise<number> {
  const s = createServer((c) => c.destroy());
  listeners.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as { port: number }).port;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

beforeAll(async () => {
  fx = await makeFixture();
  const hostKey = makeKeyPair('ed25519');
  const userKey = makeKeyPair('ed25519');
  const keyPath = await fx.writeKey('id_user', userKey);
  ssh = await startTestServer({
    hostKey,
    users: { root: { publicKeys: [userKey.publicLine] } },
    exec: () => 'sh',
  });
  await fx.trust([[ssh, hostKey.blob]]);
  fleet = new Fleet({
    nodes: ['n1', 'n2'].map((n) => nodeFor(ssh, n, 'root', { identityFiles: [keyPath] })),
    knownHostsPath: fx.knownHostsPath,
  });
  session = { fleet, nodes: ['n1', 'n2'], warnings: [], close: () => fleet.close() };
}, 30_000);

afterAll(async () => {
  await fleet?.close();
  await ssh?.close();
  await fx?.cleanup();
  for (const s of listeners) s.close();
});

describe('probeNodes', () => {
  it('from here and from a node over SSH: outcomes judged against the policy for the real source', {
    timeout: 30_000,
  }, async () => {
    const allowedOpen = await listen();
    const blockedOpen = await listen();
    const blockedClosed = await freePort();
    const policy: Policy = {
      nodePorts: [
        {
          port: allowedOpen,
          protocol: 'tcp',
          mode: 'enforce',
          blackholePort: 65535,
          allow: [{ cidr: '127.0.0.0/8' }],
        },
        {
          port: blockedOpen,
          protocol: 'tcp',
          mode: 'enforce',
          blackholePort: 65535,
          allow: [{ cidr: '198.18.0.1' }],
        },
        { port: blockedClosed, protocol: 'tcp', mode: 'enforce', blackholePort: 65535, allow: [] },
        { port: 30002, protocol: 'udp', mode: 'enforce', blackholePort: 65535, allow: [] },
      ],
    };
    const r = await probeNodes(session, policy, { fromHere: true, fromNode: 'n1', timeoutMs: 2000 });
    expect(r.problems).toEqual([]);
    expect(r.notProbed).toEqual([expect.objectContaining({ port: 30002, protocol: 'udp' })]);
    // From here: both nodes x 3 TCP ports; from n1: n2 only.
    expect(r.results).toHaveLength(9);
    const line = (from: string, node: string, port: number) =>
      r.results.find(
        (x) =>
          (x.from.kind === 'app-host' ? 'here' : x.from.node) === from && x.node === node && x.port === port,
      );
    for (const [from, node] of [
      ['here', 'n1'],
      ['here', 'n2'],
      ['n1', 'n2'],
    ] as const) {
      expect(line(from, node, allowedOpen)).toMatchObject({
        source: '127.0.0.1',
        expected: 'connected',
        outcome: { kind: 'connected' },
        verdict: 'ok',
      });
      expect(line(from, node, blockedClosed)).toMatchObject({
        expected: 'refused',
        outcome: { kind: 'refused' },
        verdict: 'ok',
      });
      expect(line(from, node, blockedOpen)).toMatchObject({
        expected: 'refused',
        outcome: { kind: 'connected' },
        verdict: 'drift',
      });
    }
    expect(line('n1', 'n2', blockedOpen)?.message).toBe(
      `n2: tcp/${blockedOpen} (IPv4): probe from n1 (source 127.0.0.1) to 127.0.0.1:${blockedOpen} connected, expected refused (127.0.0.1 is not on the IPv4 allow-list): the guard let a blocked source through`,
    );
    expect(line('n1', 'n1', allowedOpen)).toBeUndefined();
    expect(r.status).toBe('drift');
  });

  it('--probe-source stands in for the route source of its family', async () => {
    const port = await listen();
    const policy: Policy = {
      nodePorts: [
        { port, protocol: 'tcp', mode: 'enforce', blackholePort: 65535, allow: [{ cidr: '203.0.113.0/24' }] },
      ],
    };
    const r = await probeNodes({ ...session, nodes: ['n1'] }, policy, {
      fromHere: true,
      source: '203.0.113.7',
      timeoutMs: 2000,
    });
    expect(r.results).toEqual([
      expect.objectContaining({ source: '203.0.113.7', expected: 'connected', verdict: 'ok' }),
    ]);
    expect(r.status).toBe('ok');
  });
});
