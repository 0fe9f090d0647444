import { describe, expect, it } from 'vitest';
import type { Policy } from '../workspace/schema';
import { desiredGuard, type GuardedPort } from './desired';
import {
  blockCounterSettles,
  expectProbe,
  judgeProbe,
  type ProbeJob,
  planProbes,
  probeKey,
  probeStatus,
  readProbeReport,
} from './probe';

const policy: Policy = {
  nodePorts: [
    {
      port: 30001,
      protocol: 'tcp',
      mode: 'enforce',
      blackholePort: 65535,
      allow: [
        { cidr: '198.18.0.1', label: 'app host' },
        { cidr: '198.18.100.0/24' },
        { cidr: '2001:2::100:0/112', label: 'clients v6' },
      ],
    },
    { port: 30002, protocol: 'udp', mode: 'enforce', blackholePort: 65535, allow: [] },
    { port: 30005, protocol: 'sctp', mode: 'enforce', blackholePort: 65535, allow: [] },
    {
      port: 30007,
      protocol: 'tcp',
      mode: 'enforce',
      blackholePort: 65535,
      allow: [{ cidr: '198.18.100.10' }],
    },
    { port: 30009, protocol: 'tcp', mode: 'audit', blackholePort: 65535, allow: [] },
  ],
};

function ports(): readonly GuardedPort[] {
  const d = desiredGuard(policy);
  if (!d.ok) throw new Error(d.errors[0]?.message);
  return d.desired.ports;
}
const port = (n: number) => ports().find((p) => p.port === n)!;

const job = (port: number, address = '198.18.0.11', node = 'node1'): ProbeJob => ({
  node,
  address,
  family: address.includes(':') ? 'ipv6' : 'ipv4',
  port,
  protocol: 'tcp',
});
const HERE = { kind: 'app-host' } as const;

describe('planProbes', () => {
  it('one job per target and guarded TCP port; UDP and SCTP listed as not probed, with why', () => {
    const plan = planProbes(ports(), [
      { node: 'node1', address: '198.18.0.11', family: 'ipv4' },
      { node: 'node1', address: '2001:2::11', family: 'ipv6' },
    ]);
    expect(plan.jobs.map((j) => `${j.address}:${j.port}`)).toEqual([
      '198.18.0.11:30001',
      '198.18.0.11:30007',
      '198.18.0.11:30009',
      '2001:2::11:30001',
      '2001:2::11:30007',
      '2001:2::11:30009',
    ]);
    expect(plan.notProbed.map((n) => `${n.protocol}/${n.port}`)).toEqual(['udp/30002', 'sctp/30005']);
    expect(plan.notProbed[0]?.reason).toMatch(/cannot tell|no answer/);
  });
});

describe('expectProbe', () => {
  it('enforce: an allowed source connects, named by the entry that allows it', () => {
    expect(expectProbe(port(30001), '198.18.0.1', 'ipv4')).toEqual({
      expected: 'connected',
      reason: '198.18.0.1 allowed by 198.18.0.1/32 (app host)',
    });
    expect(expectProbe(port(30001), '198.18.100.77', 'ipv4')).toMatchObject({ expected: 'connected' });
    expect(expectProbe(port(30001), '2001:2:0:0::100:5', 'ipv6')).toEqual({
      expected: 'connected',
      reason: '2001:2::100:5 allowed by 2001:2::100:0/112 (clients v6)',
    });
  });

  it('enforce: any other source is refused, IPv6 judged by the IPv6 list alone', () => {
    expect(expectProbe(port(30007), '198.18.0.1', 'ipv4')).toEqual({
      expected: 'refused',
      reason: '198.18.0.1 is not on the IPv4 allow-list',
    });
    expect(expectProbe(port(30007), '2001:2::1', 'ipv6')).toEqual({
      expected: 'refused',
      reason: '2001:2::1 is not on the IPv6 allow-list',
    });
  });

  it('audit mode blocks nothing', () => {
    expect(expectProbe(port(30009), '203.0.113.9', 'ipv4')).toEqual({
      expected: 'connected',
      reason: 'audit mode blocks nothing',
    });
  });

  it('no expectation for a source that is not one address of the target family', () => {
    expect(expectProbe(port(30001), 'nonsense', 'ipv4')).toMatch(/not an address/);
    expect(expectProbe(port(30001), '2001:2::1', 'ipv4')).toMatch(/IPv6, the target IPv4/);
  });
});

describe('judgeProbe', () => {
  it('as expected: ok, and the message says so', () => {
    const r = judgeProbe(job(30001), HERE, port(30001), '198.18.0.1', { kind: 'connected' }, 2000);
    expect(r.verdict).toBe('ok');
    expect(r.message).toBe(
      'node1: tcp/30001 (IPv4): probe from this machine (source 198.18.0.1) to 198.18.0.11:30001 connected as expected (198.18.0.1 allowed by 198.18.0.1/32 (app host))',
    );
    const refused = judgeProbe(job(30007), HERE, port(30007), '198.18.0.1', { kind: 'refused' }, 2000);
    expect(refused.verdict).toBe('ok');
    expect(refused.expected).toBe('refused');
  });

  it('a blocked source that connects is drift, naming node, port, source and outcome', () => {
    const r = judgeProbe(
      job(30007, '198.18.0.11'),
      { kind: 'node', node: 'node2' },
      port(30007),
      '198.18.0.12',
      { kind: 'connected' },
      2000,
    );
    expect(r.verdict).toBe('drift');
    expect(r.message).toBe(
      'node1: tcp/30007 (IPv4): probe from node2 (source 198.18.0.12) to 198.18.0.11:30007 connected, expected refused (198.18.0.12 is not on the IPv4 allow-list): the guard let a blocked source through',
    );
  });

  it('timeouts are drift either way, with a hint; an allowed source refused is drift', () => {
    expect(judgeProbe(job(30007), HERE, port(30007), '198.18.0.1', { kind: 'timeout' }, 2000)).toMatchObject({
      verdict: 'drift',
      message: expect.stringContaining('timed out after 2 s, expected refused'),
    });
    expect(judgeProbe(job(30001), HERE, port(30001), '198.18.0.1', { kind: 'timeout' }, 2000).verdict).toBe(
      'drift',
    );
    expect(judgeProbe(job(30001), HERE, port(30001), '198.18.0.1', { kind: 'refused' }, 2000)).toMatchObject({
      verdict: 'drift',
      message: expect.stringContaining('refused, expected connected'),
    });
  });

  it('could not check: unreachable, not run, unknown source', () => {
    const u = judgeProbe(
      job(30001),
      HERE,
      port(30001),
      '198.18.0.1',
      { kind: 'unreachable', detail: 'EHOSTUNREACH' },
      2000,
    );
    expect(u.verdict).toBe('error');
    expect(u.message).toContain('unreachable (EHOSTUNREACH)');
    const n = judgeProbe(
      job(30001),
      HERE,
      port(30001),
      '198.18.0.1',
      { kind: 'not-run', detail: 'the total time limit was reached' },
      2000,
    );
    expect(n.verdict).toBe('error');
    const s = judgeProbe(job(30001), HERE, port(30001), undefined, { kind: 'connected' }, 2000);
    expect(s.verdict).toBe('error');
    expect(s.expected).toBeUndefined();
    expect(s.message).toContain('the source address is unknown');
  });

  it('probeStatus: error over drift over ok', () => {
    expect(probeStatus([])).toBe('ok');
    expect(probeStatus([{ verdict: 'ok' }, { verdict: 'drift' }])).toBe('drift');
    expect(probeStatus([{ verdict: 'error' }, { verdict: 'drift' }])).toBe('error');
  });
  it("an allowed source refused or dropped while the port's block rule counted nothing: not the guard, not drift", () => {
    for (const kind of ['refused', 'timeout'] as const) {
      const r = judgeProbe(job(30001), HERE, port(30001), '198.18.0.1', { kind }, 2000, false);
      expect(r.verdict, kind).toBe('ok');
      expect(r.message, kind).toMatch(/but not by the guard: its block rule counted no connection/);
      expect(
        blockCounterSettles(judgeProbe(job(30001), HERE, port(30001), '198.18.0.1', { kind }, 2000)),
      ).toBe(true);
    }
    // The rule counted (or nobody knows): the guard may have done it, drift as before.
    for (const counted of [true, undefined])
      expect(
        judgeProbe(job(30001), HERE, port(30001), '198.18.0.1', { kind: 'refused' }, 2000, counted).verdict,
      ).toBe('drift');
    // A blocked source that connected is drift whatever the counter says.
    const through = judgeProbe(
      job(30007),
      HERE,
      port(30007),
      '198.18.0.1',
      { kind: 'connected' },
      2000,
      false,
    );
    expect(through.verdict).toBe('drift');
    expect(blockCounterSettles(through)).toBe(false);
  });
});

describe('readProbeReport', () => {
  it("reads the script's marker lines, addresses in canonical form", () => {
    const r = readProbeReport([
      ['tool', 'bash'],
      ['src', '198.18.0.11', '198.18.0.12'],
      ['src', '2001:2:0::11', '2001:2::12'],
      ['src', '198.18.0.13', '-'],
      ['probe', '198.18.0.11', '30001', 'connected', ''],
      ['probe', '198.18.0.11', '30007', 'refused', 'npg-probe:', 'connect:', 'Connection', 'refused'],
      ['probe', '2001:2::11', '30001', 'timeout'],
      ['probe', '198.18.0.11', '30009', 'weird'],
      ['probe', 'bad', '30009', 'connected'],
    ]);
    expect(r.tool).toBe('bash');
    expect([...r.sources]).toEqual([
      ['198.18.0.11', '198.18.0.12'],
      ['2001:2::11', '2001:2::12'],
    ]);
    expect(r.outcomes.get(probeKey('198.18.0.11', 30001))).toEqual({ kind: 'connected' });
    expect(r.outcomes.get(probeKey('198.18.0.11', 30007))).toEqual({
      kind: 'refused',
      detail: 'npg-probe: connect: Connection refused',
    });
    expect(r.outcomes.get(probeKey('2001:2::11', 30001))).toEqual({ kind: 'timeout' });
    expect(r.outcomes.size).toBe(3);
    expect(r.error).toBeUndefined();
  });

  it('tool none and script errors come through', () => {
    expect(readProbeReport([['tool', 'none']]).tool).toBe('none');
    expect(readProbeReport([['error', 'bad-port']]).error).toBe('bad-port');
  });
});
