import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseIpvsadm } from './ipvs-parse';

const fixture = (name: string) =>
  readFileSync(new URL(`../../e2e/lab/fixtures/${name}`, import.meta.url), 'utf8');

describe('parseIpvsadm', () => {
  it('reads `ipvsadm -Ln` output: virtual services with their real servers', () => {
    const r = parseIpvsadm(fixture('ipvs-v4.ipvsadm-Ln.txt'));
    if (!r.ok) throw new Error(r.error.message);
    const udp = r.ipvs.services.find((s) => s.kind === 'address' && s.protocol === 'udp' && s.port === 30002);
    expect(udp).toMatchObject({ kind: 'address', address: '198.18.0.11', scheduler: 'rr', flags: '' });
    expect(udp?.realServers.map((rs) => [rs.address, rs.port, rs.forward, rs.weight])).toEqual([
      ['198.19.2.11', 5353, 'Masq', 1],
      ['198.19.3.11', 5353, 'Masq', 1],
    ]);
    const empty = r.ipvs.services.find((s) => s.kind === 'address' && s.port === 30004);
    expect(empty?.realServers).toEqual([]);
  });

  it('reads IPv6 addresses in brackets', () => {
    const r = parseIpvsadm(fixture('ipvs-v6.ipvsadm-Ln.txt'));
    if (!r.ok) throw new Error(r.error.message);
    const sctp = r.ipvs.services.find(
      (s) => s.kind === 'address' && s.protocol === 'sctp' && s.port === 30005,
    );
    expect(sctp?.realServers.map((rs) => `${rs.address} ${rs.port}`)).toEqual(['2001:2:0:101::d 9000']);
  });

  it('reads flags and firewall-mark services', () => {
    const r = parseIpvsadm(`TCP  10.96.0.1:443 rr persistent 10800
  -> 192.0.2.1:6443               Masq    0      3          1
FWM  100 wrr
  -> 192.0.2.2:80                 Route   5      0          0
`);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.ipvs.services.map((s) => [s.kind, s.scheduler, s.flags, s.realServers.length])).toEqual([
      ['address', 'rr', 'persistent 10800', 1],
      ['fwmark', 'wrr', '', 1],
    ]);
    expect(r.ipvs.services[0]?.realServers[0]).toMatchObject({
      weight: 0,
      activeConnections: 3,
      inactiveConnections: 1,
      line: 2,
    });
  });

  it('cuts a 1 MB offending line in the error', () => {
    const r = parseIpvsadm(`TCP  10.0.0.1:80 rr\n${'x'.repeat(1_000_000)}\n`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ line: 2, text: expect.stringMatching(/^x{200}\.\.\.$/) });
  });

  it.each([
    ['a real server before any service', '  -> 10.0.0.1:80 Masq 1 0 0\n', 1, /before any virtual service/],
    ['garbage', 'TCP 10.0.0.1:80 rr\nhello world\n', 2, /expected a virtual service/],
    ['a service without port', 'TCP  10.0.0.1 rr\n', 1, /valid :port/],
    ['binary bytes', 'TCP  10.0.0.1:80 rr\u0001\n', 1, /binary/],
  ])('rejects %s with the line number', (_, text, line, message) => {
    const r = parseIpvsadm(text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.line).toBe(line);
      expect(r.error.message).toMatch(message);
    }
  });
});
