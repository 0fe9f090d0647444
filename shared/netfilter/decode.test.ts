import { describe, expect, it } from 'vitest';
import { chainsByName } from './chain-index.js';
import {
  applyMark,
  decodeMatch,
  decodeRule,
  decodeTarget,
  type MarkTarget,
  ruleComment,
  ruleComments,
} from './decode.js';
import { parseMark, parseNatRange, parsePortList, parsePortRange, parseU32 } from './decode-values.js';
import type { Match, MatchOption, Rule, Table, Target } from './model.js';

const o = (name: string, values: string[] = [], negated = false): MatchOption => ({ name, negated, values });
const m = (module: string, ...options: MatchOption[]): Match => ({ module, options });
const j = (name: string, ...options: MatchOption[]): Target => ({ kind: 'jump', name, options });

describe('value parsers', () => {
  it('reads port ranges with open ends and rejects bad ones', () => {
    expect(parsePortRange('80')).toEqual({ from: 80, to: 80 });
    expect(parsePortRange('80:90')).toEqual({ from: 80, to: 90 });
    expect(parsePortRange(':1023')).toEqual({ from: 0, to: 1023 });
    expect(parsePortRange('1024:')).toEqual({ from: 1024, to: 65535 });
    expect(parsePortRange('1000-2000', '-')).toEqual({ from: 1000, to: 2000 });
    for (const bad of ['90:80', '65536', 'http', '', '1:2:3', '-1'])
      expect(parsePortRange(bad)).toBeUndefined();
    expect(parsePortList('53,1000:2000')).toEqual([
      { from: 53, to: 53 },
      { from: 1000, to: 2000 },
    ]);
  });

  it('reads marks and u32 in hex and decimal', () => {
    expect(parseMark('0x4000/0x4000')).toEqual({ value: 0x4000, mask: 0x4000 });
    expect(parseMark('0x1')).toEqual({ value: 1, mask: 0xffffffff });
    expect(parseMark('16/0xff')).toEqual({ value: 16, mask: 0xff });
    expect(parseU32('0xffffffff')).toBe(0xffffffff);
    expect(parseU32('0x100000000')).toBeUndefined();
    expect(parseMark('0xg')).toBeUndefined();
  });

  it.each([
    ['198.18.0.1', { addresses: { from: '198.18.0.1', to: '198.18.0.1' } }],
    [
      '198.18.0.1:8080',
      { addresses: { from: '198.18.0.1', to: '198.18.0.1' }, ports: { from: 8080, to: 8080 } },
    ],
    [
      '198.18.0.1-198.18.0.5:80-90',
      { addresses: { from: '198.18.0.1', to: '198.18.0.5' }, ports: { from: 80, to: 90 } },
    ],
    [':8080', { ports: { from: 8080, to: 8080 } }],
    [
      '198.18.0.9:1000-2000/3000',
      {
        addresses: { from: '198.18.0.9', to: '198.18.0.9' },
        ports: { from: 1000, to: 2000 },
        portBase: 3000,
      },
    ],
    ['2001:2::10', { addresses: { from: '2001:2::10', to: '2001:2::10' } }],
    [
      '[2001:2::10]:8080',
      { addresses: { from: '2001:2::10', to: '2001:2::10' }, ports: { from: 8080, to: 8080 } },
    ],
    [
      '[2001:2::3-2001:2::9]:8080-8090',
      { addresses: { from: '2001:2::3', to: '2001:2::9' }, ports: { from: 8080, to: 8090 } },
    ],
    // kube-proxy's address:port has a fast path; these check it agrees with the general one.
    ['198.18.0.1:0', { addresses: { from: '198.18.0.1', to: '198.18.0.1' }, ports: { from: 0, to: 0 } }],
    [
      '198.18.0.1:00008080',
      { addresses: { from: '198.18.0.1', to: '198.18.0.1' }, ports: { from: 8080, to: 8080 } },
    ],
    ['1..2.3:80', { addresses: { from: '1..2.3', to: '1..2.3' }, ports: { from: 80, to: 80 } }],
  ])('reads NAT range %s', (text, range) => {
    expect(parseNatRange(text)).toEqual(range);
  });

  it.each([
    '',
    'x',
    '198.18.0.1:',
    '[2001:2::1',
    '[2001:2::1]x',
    '198.18.0.1:90-80',
    '1.2.3:80',
    '198.18.0.1:65536',
    '198.18.0.1:8x',
    '198.18.0.1.5:80',
  ])('rejects NAT range %j', (text) => {
    expect(parseNatRange(text)).toBeUndefined();
  });
});

describe('decodeMatch', () => {
  it('decodes tcp/udp/sctp ports with ranges and negation, keeping other options', () => {
    expect(decodeMatch(m('tcp', o('dport', ['80:90'], true), o('tcp-flags', ['SYN,RST', 'SYN'])))).toEqual({
      kind: 'tcp',
      dport: { value: { from: 80, to: 90 }, negated: true },
      other: [o('tcp-flags', ['SYN,RST', 'SYN'])],
    });
    expect(decodeMatch(m('udp', o('sport', ['53'])))).toEqual({
      kind: 'udp',
      sport: { value: { from: 53, to: 53 }, negated: false },
      other: [],
    });
    expect(decodeMatch(m('sctp', o('destination-port', ['30003'])))).toMatchObject({
      kind: 'sctp',
      dport: { value: { from: 30003 } },
    });
  });

  it('decodes multiport, addrtype, comment, mark, connmark', () => {
    expect(decodeMatch(m('multiport', o('dports', ['53,1000:2000'], true)))).toEqual({
      kind: 'multiport',
      side: 'destination',
      negated: true,
      ports: [
        { from: 53, to: 53 },
        { from: 1000, to: 2000 },
      ],
    });
    expect(decodeMatch(m('addrtype', o('dst-type', ['LOCAL']), o('limit-iface-in')))).toEqual({
      kind: 'addrtype',
      dstType: { value: ['LOCAL'], negated: false },
      limitIfaceIn: true,
      limitIfaceOut: false,
    });
    expect(decodeMatch(m('comment', o('comment', ['default/web:http'])))).toEqual({
      kind: 'comment',
      text: 'default/web:http',
    });
    expect(decodeMatch(m('mark', o('mark', ['0x4000/0x4000'], true)))).toEqual({
      kind: 'mark',
      negated: true,
      value: 0x4000,
      mask: 0x4000,
    });
    expect(decodeMatch(m('connmark', o('mark', ['0x10'])))).toMatchObject({
      kind: 'connmark',
      mask: 0xffffffff,
    });
  });

  it('decodes conntrack, state and set', () => {
    expect(
      decodeMatch(
        m(
          'conntrack',
          o('ctstate', ['RELATED,ESTABLISHED'], true),
          o('ctorigdst', ['198.18.0.1']),
          o('ctorigdstport', ['30001']),
          o('ctdir', ['ORIGINAL']),
        ),
      ),
    ).toEqual({
      kind: 'conntrack',
      states: { value: ['RELATED', 'ESTABLISHED'], negated: true },
      origDst: { value: '198.18.0.1', negated: false },
      origDstPort: { value: { from: 30001, to: 30001 }, negated: false },
      other: [o('ctdir', ['ORIGINAL'])],
    });
    expect(decodeMatch(m('state', o('state', ['NEW'])))).toEqual({
      kind: 'state',
      states: { value: ['NEW'], negated: false },
    });
    expect(decodeMatch(m('set', o('match-set', ['KUBE-NODE-PORT-TCP', 'dst,dst'], true)))).toEqual({
      kind: 'set',
      setName: 'KUBE-NODE-PORT-TCP',
      negated: true,
      flags: ['dst', 'dst'],
      other: [],
    });
  });

  it('decodes statistic random and nth', () => {
    expect(decodeMatch(m('statistic', o('mode', ['random']), o('probability', ['0.33333333349'])))).toEqual({
      kind: 'statistic',
      mode: 'random',
      negated: false,
      probability: 0.33333333349,
    });
    expect(
      decodeMatch(m('statistic', o('mode', ['nth']), o('every', ['3'], true), o('packet', ['2']))),
    ).toEqual({
      kind: 'statistic',
      mode: 'nth',
      negated: true,
      every: 3,
      packet: 2,
    });
  });

  it('decodes physdev, recent, limit, socket, owner, icmp, iprange', () => {
    expect(decodeMatch(m('physdev', o('physdev-in', ['veth0']), o('physdev-is-bridged', [], true)))).toEqual({
      kind: 'physdev',
      physdevIn: { value: 'veth0', negated: false },
      isBridged: { value: true, negated: true },
    });
    expect(
      decodeMatch(
        m(
          'recent',
          o('update'),
          o('seconds', ['60']),
          o('hitcount', ['4']),
          o('name', ['ssh']),
          o('rsource'),
        ),
      ),
    ).toEqual({
      kind: 'recent',
      action: 'update',
      negated: false,
      listName: 'ssh',
      side: 'source',
      seconds: 60,
      hitcount: 4,
      other: [],
    });
    expect(decodeMatch(m('limit', o('limit', ['5/sec']), o('limit-burst', ['10'])))).toEqual({
      kind: 'limit',
      count: 5,
      per: 'second',
      burst: 10,
    });
    expect(decodeMatch(m('limit'))).toEqual({ kind: 'limit', count: 3, per: 'hour', burst: 5 });
    expect(decodeMatch(m('socket', o('transparent')))).toEqual({
      kind: 'socket',
      transparent: true,
      nowildcard: false,
      restoreSkmark: false,
    });
    expect(decodeMatch(m('owner', o('uid-owner', ['0'], true)))).toEqual({
      kind: 'owner',
      uid: { value: '0', negated: true },
    });
    expect(decodeMatch(m('icmp6', o('icmpv6-type', ['128'])))).toEqual({
      kind: 'icmp6',
      type: { value: '128', negated: false },
    });
    expect(decodeMatch(m('iprange', o('src-range', ['198.18.0.1-198.18.0.9'])))).toEqual({
      kind: 'iprange',
      srcRange: { value: { from: '198.18.0.1', to: '198.18.0.9' }, negated: false },
    });
  });

  it('reports unknown modules and undecodable values as unknown, never guessing', () => {
    const bpf = m('bpf', o('bytecode', ['4,48 0 0 9']));
    expect(decodeMatch(bpf)).toEqual({ kind: 'unknown', match: bpf });
    const named = m('tcp', o('dport', ['http']));
    expect(decodeMatch(named)).toEqual({
      kind: 'unknown',
      match: named,
      reason: '--dport http is not a port or port range',
    });
    const noProb = m('statistic', o('mode', ['random']));
    expect(decodeMatch(noProb)).toMatchObject({
      kind: 'unknown',
      reason: 'statistic --mode random without --probability',
    });
    expect(decodeMatch(m('statistic', o('mode', ['random']), o('probability', ['1.5'])))).toMatchObject({
      kind: 'unknown',
    });
    expect(decodeMatch(m('set', o('match-set', ['X'])))).toMatchObject({ kind: 'unknown' });
  });
});

describe('decodeTarget', () => {
  it('decodes verdicts, REJECT and user chains', () => {
    expect(decodeTarget(j('ACCEPT'))).toEqual({ kind: 'accept' });
    expect(decodeTarget(j('DROP'))).toEqual({ kind: 'drop' });
    expect(decodeTarget(j('RETURN'))).toEqual({ kind: 'return' });
    expect(decodeTarget(j('REJECT', o('reject-with', ['tcp-reset'])))).toEqual({
      kind: 'reject',
      with: 'tcp-reset',
    });
    expect(decodeTarget(j('KUBE-SVC-X'))).toEqual({ kind: 'chain', chain: 'KUBE-SVC-X', goto: false });
    expect(decodeTarget({ kind: 'goto', name: 'cali-fw-x', options: [] })).toEqual({
      kind: 'chain',
      chain: 'cali-fw-x',
      goto: true,
    });
  });

  it('uses the table to tell a chain from a target when given', () => {
    const table: Table = {
      name: 'nat',
      complete: true,
      chains: [{ name: 'ODD', policy: '-', declared: true, rules: [] }],
    };
    expect(decodeTarget(j('ODD'), table)).toEqual({ kind: 'chain', chain: 'ODD', goto: false });
    expect(decodeTarget(j('MISSING'), table)).toEqual({ kind: 'unknown', target: j('MISSING') });
  });

  it('decodes DNAT/SNAT ranges, including IPv6 and flags', () => {
    expect(decodeTarget(j('DNAT', o('to-destination', ['[2001:2::10]:8080']), o('random')))).toEqual({
      kind: 'dnat',
      to: [{ addresses: { from: '2001:2::10', to: '2001:2::10' }, ports: { from: 8080, to: 8080 } }],
      random: true,
      randomFully: false,
      persistent: false,
    });
    expect(decodeTarget(j('SNAT', o('to-source', ['198.18.0.9']), o('random-fully')))).toMatchObject({
      kind: 'snat',
      randomFully: true,
    });
    expect(decodeTarget(j('DNAT', o('to-destination', ['nowhere'])))).toMatchObject({ kind: 'unknown' });
  });

  it('decodes MASQUERADE and REDIRECT ports', () => {
    expect(decodeTarget(j('MASQUERADE', o('random-fully')))).toEqual({
      kind: 'masquerade',
      random: false,
      randomFully: true,
    });
    expect(decodeTarget(j('MASQUERADE', o('to-ports', ['1000-2000'])))).toMatchObject({
      toPorts: { from: 1000, to: 2000 },
    });
    expect(decodeTarget(j('REDIRECT', o('to-ports', ['65535'])))).toEqual({
      kind: 'redirect',
      toPorts: { from: 65535, to: 65535 },
      random: false,
    });
    expect(decodeTarget(j('REDIRECT'))).toEqual({ kind: 'redirect', random: false });
    expect(decodeTarget(j('REDIRECT', o('to-ports', ['x'])))).toMatchObject({ kind: 'unknown' });
  });

  it('decodes every MARK form to the kernel operation and applies it (to mark 0x4001)', () => {
    const cases: [MatchOption, number, number, number][] = [
      [o('set-xmark', ['0x4000/0x4000']), 0x4000, 0x4000, 0x4001],
      [o('or-mark', ['0x4000']), 0x4000, 0x4000, 0x4001],
      [o('xor-mark', ['0x4000']), 0x4000, 0, 0x0001],
      [o('and-mark', ['0xffff0000']), 0, 0x0000ffff, 0],
      [o('set-mark', ['0x8/0xc']), 0x8, 0xc, 0x4009],
    ];
    for (const [opt, xor, mask, after] of cases) {
      const t = decodeTarget(j('MARK', opt)) as MarkTarget;
      expect([t.kind, t.xor, t.mask]).toEqual(['mark', xor, mask]);
      expect(applyMark(t, 0x4001)).toBe(after);
    }
  });

  it('keeps unknown targets', () => {
    const ct = j('CT', o('notrack'));
    expect(decodeTarget(ct)).toEqual({ kind: 'unknown', target: ct });
    expect(decodeTarget(j('LOG', o('log-prefix', ['fw: '])))).toEqual({ kind: 'log', prefix: 'fw: ' });
  });
});

describe('rule helpers', () => {
  const rule: Rule = {
    chain: 'KUBE-SVC-X',
    matches: [
      m('comment', o('comment', ['default/web:http -> 198.18.1.2:8080'])),
      m('comment', o('comment', ['second'])),
    ],
    target: j('KUBE-SEP-X'),
  };

  it('finds the comments', () => {
    expect(ruleComment(rule)).toBe('default/web:http -> 198.18.1.2:8080');
    expect(ruleComments(rule)).toEqual(['default/web:http -> 198.18.1.2:8080', 'second']);
    expect(ruleComment({ chain: 'X', matches: [] })).toBeUndefined();
  });

  it('decodes a whole rule', () => {
    expect(decodeRule(rule)).toEqual({
      rule,
      matches: [
        { kind: 'comment', text: 'default/web:http -> 198.18.1.2:8080' },
        { kind: 'comment', text: 'second' },
      ],
      target: { kind: 'chain', chain: 'KUBE-SEP-X', goto: false },
    });
  });
});

describe('chainsByName', () => {
  it('indexes a table built by hand once, the first chain of a name winning', () => {
    const first = { name: 'X', policy: '-', declared: true, rules: [] };
    const second = { name: 'X', policy: '-', declared: false, rules: [] };
    const table = { name: 'nat', chains: [first, second], complete: false };
    expect(chainsByName(table).get('X')).toBe(first);
    expect(chainsByName(table)).toBe(chainsByName(table));
    expect(decodeTarget({ kind: 'jump', name: 'X', options: [] }, table)).toEqual({
      kind: 'chain',
      chain: 'X',
      goto: false,
    });
    expect(decodeTarget({ kind: 'jump', name: 'Y', options: [] }, table)).toEqual({
      kind: 'unknown',
      target: { kind: 'jump', name: 'Y', options: [] },
    });
  });
});
