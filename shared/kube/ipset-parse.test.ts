import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findIpset, parseIpsetList } from './ipset-parse';

const fixture = (name: string) =>
  readFileSync(new URL(`../../e2e/lab/fixtures/${name}`, import.meta.url), 'utf8');

function ok(text: string) {
  const r = parseIpsetList(text);
  if (!r.ok) throw new Error(`${r.error.line}: ${r.error.message}`);
  return r;
}

describe('parseIpsetList', () => {
  it('reads real `ipset list` output of ipvs-mode kube-proxy', () => {
    const { ipsets, warnings } = ok(fixture('ipvs-v4.ipset-list.txt'));
    expect(warnings).toEqual([]);
    const tcp = findIpset(ipsets, 'KUBE-NODE-PORT-TCP');
    expect(tcp?.type).toBe('bitmap:port');
    expect(tcp?.members.map((m) => m.entry).sort()).toEqual(['30001', '30003', '30004', '30006', '30007']);
    const cluster = findIpset(ipsets, 'KUBE-CLUSTER-IP');
    expect(cluster?.family).toBe('inet');
    expect(cluster?.members).toContainEqual(
      expect.objectContaining({ entry: '198.19.128.10,tcp:80', options: [] }),
    );
    expect(findIpset(ipsets, 'KUBE-NODE-PORT-SCTP-HASH')?.members.map((m) => m.entry)).toEqual([
      '198.18.0.11,sctp:30005',
    ]);
  });

  it('reads IPv6 sets and names cut at 31 characters', () => {
    const { ipsets } = ok(fixture('ipvs-v6.ipset-list.txt'));
    expect(findIpset(ipsets, 'KUBE-6-CLUSTER-IP')?.family).toBe('inet6');
    expect(findIpset(ipsets, 'KUBE-6-NODE-PORT-LOCAL-SCTP-HAS')).toBeDefined();
  });

  it('keeps member options and warns when the entry count disagrees', () => {
    const { ipsets, warnings } = ok(`Name: S
Type: hash:net
Header: family inet hashsize 1024 maxelem 65536 timeout 300
Number of entries: 3
Members:
10.0.0.0/8 timeout 100
192.0.2.0/24 nomatch
`);
    expect(findIpset(ipsets, 'S')?.members.map((m) => [m.entry, m.options, m.line])).toEqual([
      ['10.0.0.0/8', ['timeout', '100'], 6],
      ['192.0.2.0/24', ['nomatch'], 7],
    ]);
    expect(warnings).toEqual(['set S: header says 3 entries, 2 listed (truncated output?)']);
  });

  it('reads `ipset save` output too', () => {
    const { ipsets } = ok(
      'create KUBE-NODE-PORT-TCP bitmap:port range 0-65535\nadd KUBE-NODE-PORT-TCP 30001\n',
    );
    expect(ipsets.sets).toEqual([
      {
        name: 'KUBE-NODE-PORT-TCP',
        type: 'bitmap:port',
        header: 'range 0-65535',
        members: [{ entry: '30001', options: [], line: 2 }],
        line: 1,
      },
    ]);
  });

  it('reads empty input as no sets', () => {
    expect(ok('\n\n').ipsets.sets).toEqual([]);
  });

  it.each([
    ['garbage before a set', 'hello\nName: S\n', 1, /Name: SET/],
    ['a set without Type', 'Name: S\nMembers:\n1\n', 1, /no Type/],
    ['a header line that is no key: value', 'Name: S\nType: hash:ip\n???\n', 3, /Key: value/],
    ['binary bytes', 'Name: S\nType: hash:ip\u0000\n', 2, /binary/],
    ['add before create', 'add S 1.2.3.4\n', 1, /before its create/],
    ['save garbage', 'create S hash:ip\nflush S\n', 2, /expected "create/],
  ])('rejects %s with the line number', (_, text, line, message) => {
    const r = parseIpsetList(text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.line).toBe(line);
      expect(r.error.message).toMatch(message);
    }
  });

  it('cuts a 1 MB offending line in the error', () => {
    const r = parseIpsetList(`x${'a'.repeat(1_000_000)}`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.text.length).toBeLessThan(300);
  });
});
