// The JSON reader: `nft -j list ruleset` into the same model as the text readers, and every bad
// document answered with one line naming the object, never a throw.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NftSyntaxError } from './errors';
import { parseNftJson, parseNftRuleset } from './read';
import { readNftJson } from './read-json';
import { analyzeNftTopology } from './topology';

const CORPUS = new URL('../../e2e/lab/fixtures/corpus/', import.meta.url);
const corpus = (name: string): string => readFileSync(new URL(name, CORPUS), 'utf8');

function fails(text: string): string {
  const r = parseNftJson(text);
  if (r.ok) throw new Error('expected a parse error');
  expect(r.error.message).not.toMatch(/\n/);
  expect(r.error.line).toBe(0);
  return r.error.message;
}

const doc = (...items: unknown[]): string =>
  JSON.stringify({ nftables: [{ table: { family: 'ip', name: 't', handle: 1 } }, ...items] });
const chain = { chain: { family: 'ip', table: 't', name: 'c', handle: 2 } };
const rule = (...expr: unknown[]) => ({ rule: { family: 'ip', table: 't', chain: 'c', handle: 3, expr } });

describe('nft -j JSON', () => {
  it('reads tables, base chains, maps with concatenated keys and element comments', () => {
    const r = parseNftRuleset(corpus('nftables-k8s-test-overall.nft-j.json'));
    if (!r.ok) throw new Error(r.error.message);
    expect(r.ruleset.format).toBe('json');
    const t = r.ruleset.tables[0]!;
    expect(`${t.family} ${t.name}`).toBe('ip kube-proxy');
    expect(t.chains.find((c) => c.name === 'nat-prerouting')!.base).toEqual({
      type: 'nat',
      hook: 'prerouting',
      priority: -100,
      priorityText: '-100',
      policy: 'accept',
    });
    const noEp = t.sets.find((s) => s.name === 'no-endpoint-nodeports')!;
    expect(noEp).toMatchObject({ kind: 'map', type: ['inet_proto', 'inet_service'], dataType: 'verdict' });
    expect(noEp.elements).toEqual([
      { key: ['tcp', '3001'], comment: 'ns2/svc2:p80', verdict: { kind: 'drop' } },
    ]);
    const services = t.chains.find((c) => c.name === 'services')!.rules;
    // The JSON has no rule text: it is rendered as nft prints it.
    expect(services.map((x) => x.text)).toEqual([
      'ip daddr . meta l4proto . th dport vmap @service-ips',
      'ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports',
    ]);
    expect(services[1]!.handle).toBeGreaterThan(0);
    const masq = t.chains.find((c) => c.name === 'masquerading')!.rules.map((x) => x.text);
    expect(masq).toEqual([
      'meta mark & 0x00004000 == 0x00000000 return',
      'meta mark set meta mark ^ 0x00004000',
      'masquerade fully-random',
    ]);
  });

  it('reads counters and dnat to an IPv6 address', () => {
    const r = parseNftJson(
      doc(
        chain,
        rule(
          { counter: { packets: 5, bytes: 300 } },
          { match: { op: '==', left: { meta: { key: 'l4proto' } }, right: 'tcp' } },
          { dnat: { addr: 'fd00::1', port: 80 } },
        ),
      ),
    );
    if (!r.ok) throw new Error(r.error.message);
    const x = r.ruleset.tables[0]!.chains[0]!.rules[0]!;
    expect(x.counters).toEqual({ packets: 5, bytes: 300 });
    expect(x.text).toBe('counter packets 5 bytes 300 meta l4proto tcp dnat to [fd00::1]:80');
    expect(x.statements[2]).toMatchObject({ kind: 'dnat', addr: 'fd00::1', port: 80 });
  });

  it('reads symbolic priorities, chains whose table is not listed (`nft -j list chains`), and other objects', () => {
    const chains = JSON.stringify({
      nftables: [
        { metainfo: { json_schema_version: 1 } },
        {
          chain: {
            family: 'inet',
            table: 'g',
            name: 'p',
            type: 'nat',
            hook: 'prerouting',
            prio: 'dstnat - 10',
          },
        },
      ],
    });
    expect(fails(chains)).toMatch(/nftables\[1\] \(chain\): table inet g is not listed before its objects/);
    const t = readNftJson(chains, { impliedTables: true }).tables[0]!;
    expect(`${t.family} ${t.name}`).toBe('inet g');
    expect(t.chains[0]!.base).toMatchObject({ priority: -110, priorityText: 'dstnat - 10' });
    const r = parseNftJson(
      doc({ counter: { family: 'ip', table: 't', name: 'seen', packets: 1, bytes: 2 } }),
    );
    expect(r.ok && r.ruleset.tables[0]!.others).toEqual([{ kind: 'counter', name: 'seen' }]);
  });

  it('keeps statements it does not model whole as `other`, never as one it knows', () => {
    const r = parseNftJson(
      doc(
        chain,
        rule({ redirect: { port: 80, flags: 'random' } }),
        rule({ redirect: { port: { range: [80, 90] } } }),
        rule({ redirect: { addr: '1.2.3.4', port: 1 } }),
        rule({ counter: 'seen' }),
        rule({ match: { op: 'sometimes', left: { meta: { key: 'l4proto' } }, right: 'tcp' } }),
        rule({ accept: null, drop: null }),
      ),
    );
    if (!r.ok) throw new Error(r.error.message);
    expect(r.ruleset.tables[0]!.chains[0]!.rules.map((x) => [x.statements[0]!.kind, x.text])).toEqual([
      ['redirect', 'redirect to :80 random'],
      ['redirect', 'redirect to :80-90'],
      ['other', 'redirect {"addr":"1.2.3.4","port":1}'],
      ['other', 'counter "seen"'],
      ['other', 'match {"op":"sometimes","left":{"meta":{"key":"l4proto"}},"right":"tcp"}'],
      ['other', '{"accept":null,"drop":null}'],
    ]);
  });

  it('tells a listing that is too large or not JSON from a wrong shape', () => {
    const kind = (text: string, options = {}) => {
      try {
        readNftJson(text, options);
        return 'ok';
      } catch (e) {
        return e instanceof NftSyntaxError ? e.kind : 'thrown';
      }
    };
    expect(kind('{', {})).toBe('not-json');
    expect(kind(doc(), { maxInput: 10 })).toBe('too-large');
    expect(kind(doc(chain), { maxObjects: 1 })).toBe('too-large');
    expect(kind('[]')).toBe('syntax');
  });

  it.each([
    ['{"nftables": [', /not valid JSON/],
    ['{"rules": []}', /expected \{"nftables": \[\.\.\.\]\}/],
    ['[]', /expected \{"nftables"/],
    [
      JSON.stringify({ nftables: [rule({ accept: null })] }),
      /nftables\[0\] \(rule\): table ip t is not listed before/,
    ],
    [doc(rule({ accept: null })), /nftables\[1\] \(rule\): chain c is not listed before its rules/],
    [
      doc(chain, { rule: { family: 'ip', table: 't', chain: 'c' } }),
      /nftables\[2\] \(rule\): a rule needs "expr"/,
    ],
    [doc(chain, rule({ jump: {} })), /"jump" without a target/],
    [doc(chain, rule({ vmap: { key: { meta: { key: 'l4proto' } } } })), /"vmap" needs "data"/],
    [
      doc({ chain: { family: 'ip', table: 't', name: 'c', type: 'nat', hook: 'prerouting', prio: {} } }),
      /"prio" must be a number/,
    ],
    [doc({ table: { family: 'ipx', name: 'u' } }), /unknown family "ipx"/],
    [
      doc({ chain: { family: 'ip', table: 't', name: 'c', type: 'nat', prio: 0 } }),
      /chain c: a base chain needs both "type" and "hook"/,
    ],
    [
      doc({ chain: { family: 'ip', table: 't', name: 'c\nd' } }),
      /nftables\[1\] \(chain\): "name" contains a control character/,
    ],
    [doc(chain, rule({ jump: { target: 'x\u2028y' } })), /"target" contains a control character/],
    [
      doc(chain, { rule: { family: 'ip', table: 't', chain: 'c', handle: -1, expr: [] } }),
      /"handle" must be a non-negative integer/,
    ],
    [doc(chain, rule({ counter: { packets: 1.5, bytes: 0 } })), /"packets" must be a non-negative integer/],
    [doc({ chain: { family: 'ip', table: 't', name: 7 } }), /"name" must be a string/],
  ])('%s', (text, message) => {
    expect(fails(text)).toMatch(message);
  });

  it('bounds nesting', () => {
    let left: unknown = { meta: { key: 'mark' } };
    for (let k = 0; k < 200; k++) left = { '&': [left, 1] };
    expect(fails(doc(chain, rule({ match: { op: '==', left, right: 0 } })))).toMatch(/nested too deep/);
  });

  it('never throws on odd shapes', () => {
    const odd: unknown[] = [
      null,
      1,
      'x',
      [],
      {},
      { x: 1 },
      { match: null },
      { vmap: { key: null, data: '@m' } },
    ];
    for (const e of odd) {
      const r = parseNftJson(doc(chain, rule(e)));
      if (r.ok) analyzeNftTopology(r.ruleset.tables[0]!);
      else expect(r.error.message).not.toMatch(/\n/);
    }
    for (const item of odd) {
      const r = parseNftJson(JSON.stringify({ nftables: [item] }));
      if (!r.ok) expect(r.error.message).not.toMatch(/\n/);
    }
  });
});
