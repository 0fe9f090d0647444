import { describe, expect, it } from 'vitest';
import { desiredOf } from '../test-support/fixtures';
import { nftDesired } from './desired';
import { isNoSuchTableError, NFT_READ_LIMITS, parseNftBaseChains, parseNftGuardTable } from './parse';
import { nftStateHash, nftStateMatches } from './state';
import { CHAINS_JSON, FIXTURE_POLICY, TABLE_JSON } from './test-support/fixtures';

const ok = (text: string) => {
  const r = parseNftGuardTable(text);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const wrap = (...objects: unknown[]) =>
  JSON.stringify({ nftables: [{ metainfo: { version: '1.0.6' } }, ...objects] });
const at = { family: 'inet', table: 'nodeport-guard' };
const TABLE = { table: { family: 'inet', name: 'nodeport-guard', handle: 1 } };
const CHAIN = {
  chain: {
    ...at,
    name: 'prerouting',
    handle: 1,
    type: 'nat',
    hook: 'prerouting',
    prio: -110,
    policy: 'accept',
  },
};

describe('parseNftGuardTable', () => {
  it('reads recorded nft output into exactly the state the policy wants', () => {
    const state = ok(TABLE_JSON);
    expect(nftStateMatches(state, nftDesired(desiredOf(FIXTURE_POLICY)))).toBe(true);
    if (state.table !== 'present') throw new Error('absent');
    expect(state.sets.map((s) => [s.name, s.elements])).toEqual([
      ['allow-tcp-30001-v4', ['198.18.7.7/32', '198.18.100.0/24']],
      ['allow-tcp-30001-v6', ['2001:2::7/128', '2001:2:0:1::/64']],
      ['allow-udp-30002-v4', ['198.18.0.0/15']],
      ['allow-udp-30002-v6', []],
    ]);
    const rules = state.chains[0]!.rules;
    expect(rules[0]).toMatchObject({
      kind: 'guard',
      protocol: 'tcp',
      port: 30001,
      family: 'ipv4',
      set: 'allow-tcp-30001-v4',
      action: { kind: 'redirect', port: 65535 },
      handle: 6,
      counters: { packets: 3, bytes: 180 },
    });
    expect(rules[3]).toMatchObject({ kind: 'guard', family: 'ipv6', action: { kind: 'count' } });
  });

  it('leaves counters out of the state hash but not handles', () => {
    const base = nftStateHash(ok(TABLE_JSON));
    expect(
      nftStateHash(ok(TABLE_JSON.replace('"packets": 3, "bytes": 180', '"packets": 9, "bytes": 999'))),
    ).toBe(base);
    expect(nftStateHash(ok(TABLE_JSON.replace('"handle": 6', '"handle": 60')))).not.toBe(base);
  });

  it('reads output without our table as absent', () => {
    expect(ok(wrap())).toEqual({ table: 'absent' });
  });

  it('keeps rules it does not recognise as foreign, and other objects by name', () => {
    const state = ok(
      wrap(
        TABLE,
        CHAIN,
        { rule: { ...at, chain: 'prerouting', handle: 4, expr: [{ accept: null }] } },
        {
          map: { ...at, name: 'm', type: 'ipv4_addr', map: 'verdict' },
        },
        { counter: { ...at, name: 'seen', handle: 9, packets: 1, bytes: 60 } },
      ),
    );
    expect(state).toMatchObject({
      table: 'present',
      chains: [{ rules: [{ kind: 'foreign', handle: 4, text: 'accept' }] }],
      others: ['counter seen', 'map m'],
    });
  });

  it('shows a foreign rule as nft would, without the counter values that change with every packet', () => {
    const rule = (packets: number) =>
      ok(
        wrap(TABLE, CHAIN, {
          rule: {
            ...at,
            chain: 'prerouting',
            handle: 4,
            comment: 'theirs',
            expr: [
              { match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 22 } },
              { counter: { packets, bytes: packets * 60 } },
              { drop: null },
            ],
          },
        }),
      );
    expect(rule(1)).toMatchObject({
      chains: [
        {
          rules: [{ kind: 'foreign', comment: 'theirs', text: 'tcp dport 22 counter drop comment "theirs"' }],
        },
      ],
    });
    expect(nftStateHash(rule(7))).toBe(nftStateHash(rule(1)));
  });

  it('takes a rule of our shape with anything missing, added or unknown as foreign', () => {
    const expr = JSON.parse(TABLE_JSON).nftables[7].rule.expr as unknown[];
    const swap = (key: string, to: unknown) => expr.map((e) => (Object.hasOwn(e as object, key) ? to : e));
    const noCounter = expr.filter((e) => !Object.hasOwn(e as object, 'counter'));
    const withAddr = swap('redirect', { redirect: { addr: '1.2.3.4', port: 1 } });
    const withFlags = swap('redirect', { redirect: { port: 65535, flags: 'random' } });
    const namedCounter = swap('counter', { counter: 'seen' });
    const unknownOp = expr.map((e, i) =>
      i === 0 ? { match: { ...(e as { match: object }).match, op: 'sometimes' } } : e,
    );
    const twoKeys = expr.map((e, i) => (i === 1 ? { ...(e as object), accept: null } : e));
    for (const x of [noCounter, withAddr, withFlags, namedCounter, unknownOp, twoKeys]) {
      const state = ok(
        wrap(TABLE, CHAIN, {
          rule: { ...at, chain: 'prerouting', handle: 4, comment: 'nodeport-guard: x', expr: x },
        }),
      );
      expect(state.table === 'present' && state.chains[0]!.rules[0]!.kind).toBe('foreign');
    }
  });

  it('accepts the implicit dependencies some nft versions print', () => {
    const expr = JSON.parse(TABLE_JSON).nftables[7].rule.expr as unknown[];
    const meta = (key: string, right: string) => ({ match: { op: '==', left: { meta: { key } }, right } });
    const state = ok(
      wrap(TABLE, CHAIN, {
        rule: {
          ...at,
          chain: 'prerouting',
          handle: 4,
          comment: 'c',
          expr: [meta('nfproto', 'ipv4'), meta('l4proto', 'tcp'), ...expr],
        },
      }),
    );
    expect(state.table === 'present' && state.chains[0]!.rules[0]).toMatchObject({
      kind: 'guard',
      port: 30001,
    });
    const wrongFamily = ok(
      wrap(TABLE, CHAIN, {
        rule: {
          ...at,
          chain: 'prerouting',
          handle: 4,
          comment: 'c',
          expr: [meta('nfproto', 'ipv6'), ...expr],
        },
      }),
    );
    expect(wrongFamily.table === 'present' && wrongFamily.chains[0]!.rules[0]!.kind).toBe('foreign');
  });

  it('reads element shapes: plain, prefix, elem with statements, range', () => {
    const state = ok(
      wrap(TABLE, {
        set: {
          ...at,
          name: 's',
          type: 'ipv4_addr',
          flags: ['interval'],
          elem: [
            '198.18.0.1',
            { prefix: { addr: '198.18.4.0', len: 22 } },
            {
              elem: {
                val: { prefix: { addr: '198.18.8.0', len: 24 } },
                comment: 'x',
                counter: { packets: 0, bytes: 0 },
              },
            },
            { range: ['198.18.9.1', '198.18.9.5'] },
          ],
        },
      }),
    );
    expect(state.table === 'present' && state.sets[0]!.elements).toEqual([
      '198.18.0.1/32',
      '198.18.4.0/22',
      '198.18.8.0/24',
      '198.18.9.1-198.18.9.5',
    ]);
  });

  it('names what is wrong and where, on one line', () => {
    const message = (text: string) => {
      const r = parseNftGuardTable(text);
      return r.ok ? 'ok' : r.error.message;
    };
    expect(message(wrap(TABLE, { set: { ...at, name: 'a\ndelete table ip nat', type: 'ipv4_addr' } }))).toBe(
      'nftables[2] (set): "name" contains a control character',
    );
    expect(message(wrap(TABLE, { rule: { ...at, chain: 'nope', expr: [] } }))).toBe(
      'nftables[2] (rule): chain nope is not listed before its rules',
    );
    expect(message(wrap({ table: { family: 'ip', name: 'nat' } }))).toBe(
      'table ip nat is not our table inet nodeport-guard',
    );
    const big = { set: { ...at, name: 'allow-tcp-1-v4', type: 'ipv4_addr', elem: [] as string[] } };
    for (let i = 0; i <= NFT_READ_LIMITS.maxElementsPerSet; i++)
      big.set.elem.push(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    expect(message(wrap(TABLE, big))).toBe(
      `set allow-tcp-1-v4: ${NFT_READ_LIMITS.maxElementsPerSet + 1} elements, more than ${NFT_READ_LIMITS.maxElementsPerSet}`,
    );
  });

  it('returns typed errors for untrusted output, never throws', () => {
    const cases: [string, string][] = [
      ['not json', 'not-json'],
      ['{"nftables": 3}', 'bad-shape'],
      ['[]', 'bad-shape'],
      [wrap({ table: { family: 'ip', name: 'nat' } }), 'wrong-table'],
      [wrap(TABLE, { rule: { ...at, chain: 'nope', expr: [] } }), 'bad-shape'],
      [wrap(TABLE, { rule: { ...at, chain: 'prerouting', expr: {} } }), 'bad-shape'],
      [
        wrap(TABLE, { chain: { ...at, name: 'p', type: 'nat', hook: 'prerouting', prio: 'soon' } }),
        'bad-shape',
      ],
      [wrap({ set: { ...at, name: 's', type: 'ipv4_addr' } }), 'bad-shape'],
      [wrap(TABLE, { rule: { ...at, chain: 'prerouting', handle: 'x', expr: [] } }), 'bad-shape'],
      [wrap(TABLE, { set: { ...at, name: 'a\ndelete table ip nat', type: 'ipv4_addr' } }), 'bad-shape'],
      [wrap(TABLE, CHAIN, { rule: { ...at, chain: 'prerouting', comment: 'a\rb', expr: [] } }), 'bad-shape'],
      [
        wrap(TABLE, CHAIN, {
          rule: {
            ...at,
            chain: 'prerouting',
            expr: Array(NFT_READ_LIMITS.maxExprPerRule + 1).fill({ accept: null }),
          },
        }),
        'too-large',
      ],
      ['x'.repeat(NFT_READ_LIMITS.maxChars + 1), 'too-large'],
      ['['.repeat(200_000), 'not-json'],
    ];
    for (const [text, kind] of cases) {
      const r = parseNftGuardTable(text);
      expect(r.ok ? 'ok' : r.error.kind, text.slice(0, 60)).toBe(kind);
      if (!r.ok) expect(r.error.message).not.toContain('\n');
    }
  });
});

describe('parseNftBaseChains and priorities', () => {
  it('lists base chains with numeric priorities, regular chains left out', () => {
    const r = parseNftBaseChains(CHAINS_JSON);
    expect(r).toEqual({
      ok: true,
      value: [
        {
          family: 'inet',
          table: 'nodeport-guard',
          name: 'prerouting',
          type: 'nat',
          hook: 'prerouting',
          prio: -110,
        },
        {
          family: 'ip',
          table: 'kube-proxy',
          name: 'nat-prerouting',
          type: 'nat',
          hook: 'prerouting',
          prio: -100,
        },
      ],
    });
  });

  it('reads symbolic priorities too, and names a priority it cannot read', () => {
    const chain = (prio: unknown) =>
      JSON.stringify({
        nftables: [{ chain: { family: 'ip', table: 't', name: 'c', type: 'nat', hook: 'prerouting', prio } }],
      });
    const prios = ['dstnat - 10', 'dstnat', 'srcnat + 5', '-150'].map((p) => {
      const r = parseNftBaseChains(chain(p));
      return r.ok ? r.value[0]!.prio : r.error.message;
    });
    expect(prios).toEqual([-110, -100, 105, -150]);
    const r = parseNftBaseChains(chain('later'));
    expect(r.ok ? 'ok' : r.error).toEqual({
      kind: 'bad-shape',
      message:
        'nftables[0] (chain): chain c: "prio" must be a number or a standard priority such as "dstnat - 10", not "later"',
    });
  });

  it('recognises nft saying the table does not exist', () => {
    expect(isNoSuchTableError('Error: No such file or directory\nlist table inet nodeport-guard\n')).toBe(
      true,
    );
    expect(isNoSuchTableError('Error: Operation not permitted\n')).toBe(false);
  });
});
