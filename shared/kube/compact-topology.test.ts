// The quick path of `npg inspect` (quick-inspect.ts) prints what the general path prints: on the
// real nat dump, and on thousands of variants of it with rule lines dropped or changed, whenever
// the quick path answers, its JSON is the general path's; when it does not, the general path
// decides. It must answer on kube-proxy's plain dump (the case it exists for), both the nat table
// alone (`iptables-save -t nat`) and the whole dump (`iptables-save -c`: raw, mangle, filter, nat),
// whose filter table adds the ports KUBE-EXTERNAL-SERVICES turns away.
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findTable, parseIptablesSave } from '../netfilter';
import { analyzeTopology, quickInspect, quickInspectBytes, toInspectJson } from '.';
import { probabilityAt, probabilityValue } from './rule-facts';

const FIXTURES = new URL('../../e2e/lab/fixtures/', import.meta.url);
const NAT = readFileSync(new URL('iptables-v4-current.iptables-save-t-nat.txt', FIXTURES), 'utf8');
/** Whole `iptables-save` dumps (mangle, filter, nat) of kube-proxy's iptables mode. */
const WHOLE = readFileSync(new URL('iptables-v4-current.iptables-save.txt', FIXTURES), 'utf8');
const LAB_WHOLE = readFileSync(new URL('lab-iptables-current-node1.iptables-save.txt', FIXTURES), 'utf8');

/** What `npg inspect --json` prints through the general path, or undefined for a parse error. */
function general(text: string): unknown {
  const r = parseIptablesSave(text, { lazy: true });
  if (!r.ok) return undefined;
  // The CLI prints the parser's warnings too (inspectDump); the quick path has none to print.
  if (r.warnings.length > 0) return { parseWarnings: r.warnings };
  const nat = findTable(r.ruleset, 'nat');
  if (!nat) return undefined;
  const filter = findTable(r.ruleset, 'filter');
  const mangle = findTable(r.ruleset, 'mangle');
  return toInspectJson(
    analyzeTopology({
      nat,
      ...(filter ? { filter } : {}),
      ...(mangle ? { mangle } : {}),
      backend: r.ruleset.backend,
      headerComments: r.ruleset.comments,
    }),
  );
}

function sameAsGeneral(text: string): boolean {
  const quick = quickInspect(text);
  const quickBytes = quickInspectBytes(text);
  if (quick === undefined) {
    expect(quickBytes).toBeUndefined();
    return false;
  }
  const expected = general(text);
  expect(quick).toEqual(expected);
  // What `npg inspect --json` prints on the quick path: the general path's JSON, byte for byte.
  expect(new TextDecoder().decode(quickBytes)).toBe(JSON.stringify(expected));
  return true;
}

describe('quickInspect', () => {
  it('answers on a plain nat dump, with the general path JSON', () => {
    expect(sameAsGeneral(NAT)).toBe(true);
  });

  it('with the service comments gone (a dump without comments)', () => {
    expect(sameAsGeneral(NAT.replace(/ -m comment --comment "[^"]*"/g, ''))).toBe(true);
  });

  it('with several KUBE-NODEPORTS rules for one port (the first way on wins)', () => {
    expect(sameAsGeneral(NAT.replace(/-p tcp (.*) --dport 3000\d -j/g, '-p tcp $1 --dport 30001 -j'))).toBe(
      true,
    );
  });

  it('with externalTrafficPolicy Local told by the KUBE-SVL chain alone', () => {
    expect(sameAsGeneral(NAT.replace(/ -m addrtype --src-type LOCAL/g, ''))).toBe(true);
  });

  it.each(readdirSync(FIXTURES).filter((f) => /ip6?tables-save/.test(f)))(
    '%s: the general JSON or no answer',
    (file) => {
      sameAsGeneral(readFileSync(new URL(file, FIXTURES), 'utf8'));
    },
  );

  const lines = NAT.split('\n');
  const ruleLines = lines.flatMap((l, i) => (l.startsWith('-A ') ? [i] : []));
  // Edits that give the walk other shapes: session affinity, a statistic without --mode, a
  // probability that is no number, a DNAT kept elsewhere, a drop mark, a loop.
  const edits: ((line: string) => string)[] = [
    (l) => l.replace(' -m statistic', ' -m recent --name X --rcheck --seconds 10800 --reap -m statistic'),
    (l) => l.replace('--probability 0.', '--probability 1.'),
    (l) => l.replace('--probability 0.', '--probability x'),
    (l) => l.replace(/-j KUBE-SEP-\w+/, '-j KUBE-MARK-DROP'),
    (l) => l.replace(/-j KUBE-SVC-\w+$/, '-j KUBE-EXT-CDGGSHYLG3RE2FKL'),
    (l) => l.replace('--to-destination 198.19.', '--to-destination 198.19.0.1-'),
    (l) => l.replace(' -m addrtype --src-type LOCAL', ''),
    (l) => l.replace(/ -s \S+/, ''),
    (l) => l.replace(/-j KUBE-SEP-\w+/, '-j DNAT --to-destination 198.19.9.9:80'),
    (l) => l.replace('--dport 3000', '--dport 3001'),
    (l) => l.replace(/--dport 3000\d/, '--dport 30001'),
    (l) => l.replace(/(--to-destination [\d.]+):/, '$1:0'),
    (l) => l.replace(/--probability \S+/, '--probability .5'),
    (l) => l.replace(/--probability \S+/, '--probability 1.'),
    (l) => l.replace(/--probability \S+/, '--probability 00.25'),
    (l) => l.replace(/--probability \S+/, '--probability 0.1234567890123456789'),
    (l) => l.replace(/--probability \S+/, '--probability 1e-1'),
  ];

  it('on variants with rule lines dropped or edited: the general JSON or no answer', () => {
    let answered = 0;
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.constantFrom(...ruleLines), { maxLength: 6 }),
        fc.array(fc.tuple(fc.constantFrom(...ruleLines), fc.nat(edits.length - 1)), { maxLength: 4 }),
        (dropped, edited) => {
          const out = lines.slice();
          for (const [i, e] of edited) out[i] = edits[e]!(out[i]!);
          for (const i of dropped) out[i] = '';
          if (sameAsGeneral(out.join('\n'))) answered++;
        },
      ),
      { numRuns: 400 },
    );
    // Most variants are still kube-proxy's plain shape: the quick path must not give up on them.
    expect(answered).toBeGreaterThan(200);
  });

  it('reads a probability from the text as Number() reads its string', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.stringMatching(/^[0-9]{1,3}\.[0-9]{1,16}$/),
          fc.stringMatching(/^[0-9]{0,2}\.?[0-9]{0,3}$/),
          fc.double({ min: 0, max: 1, noNaN: true }).map(String),
        ),
        (v) => {
          const text = `x ${v} y`;
          expect(probabilityAt(text, 2, 2 + v.length)).toBe(probabilityValue(v));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

/** A whole dump's tables, each with its header and trailer comments. */
function sections(text: string): string[] {
  return text.split(/(?=^# Generated by)/m);
}

function withoutTable(text: string, table: string): string {
  return sections(text)
    .filter((s) => !s.includes(`\n*${table}\n`))
    .join('');
}

/** The filter KUBE-EXTERNAL-SERVICES rules removed: the node of a cluster where every service has endpoints. */
function allServed(text: string): string {
  return text.replace(/^.*-A KUBE-EXTERNAL-SERVICES .*\n/gm, '');
}

describe('quickInspect on a whole iptables-save dump', () => {
  it.each([
    ['the real dump', WHOLE],
    ['the lab node dump (-c counters)', LAB_WHOLE],
    ['every service with endpoints', allServed(WHOLE)],
    ['the lab node, every service with endpoints', allServed(LAB_WHOLE)],
    ['no mangle table', withoutTable(WHOLE, 'mangle')],
    ['tables in another order', sections(WHOLE).reverse().join('')],
    [
      'a raw and a security table',
      `${WHOLE}*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -p udp -m udp --dport 53 -j NOTRACK\nCOMMIT\n*security\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n`,
    ],
  ])('%s: takes the quick path, with the general path JSON', (_what, text) => {
    expect(sameAsGeneral(text)).toBe(true);
  });

  it('a filter table makes the "no filter table" warning go; without one it stays', () => {
    expect(quickInspect(allServed(WHOLE))!.warnings).toEqual([]);
    const natOnly = quickInspect(withoutTable(WHOLE, 'filter'))!;
    expect(natOnly.warnings).toEqual([expect.stringMatching(/^no filter table/)]);
    expect(sameAsGeneral(withoutTable(WHOLE, 'filter'))).toBe(true);
  });

  it('lists the port filter KUBE-EXTERNAL-SERVICES turns away, with its filter steps', () => {
    const np = quickInspect(WHOLE)!.nodePorts.find((n) => n.port === 30004)!;
    expect(np).toMatchObject({ service: 'default/empty:http', noEndpoints: true, endpoints: [] });
    expect(np.path.slice(-2)).toEqual(['INPUT', 'KUBE-EXTERNAL-SERVICES']);
    expect(quickInspect(allServed(WHOLE))!.nodePorts.some((n) => n.port === 30004)).toBe(false);
  });

  const reject = WHOLE.split('\n').find((l) => l.includes('-A KUBE-EXTERNAL-SERVICES'))!;
  it.each([
    [
      'a REJECT for a port nat has endpoints for (stale rules)',
      reject.replace('--dport 30004', '--dport 30001'),
    ],
    [
      'a DROP for a port without local endpoints',
      reject.replace('has no endpoints', 'has no local endpoints').replace(/-j REJECT.*/, '-j DROP'),
    ],
    ['a REJECT without a comment', reject.replace(/ -m comment --comment "[^"]*"/, '')],
    ['a REJECT for udp', reject.replace(/tcp/g, 'udp')],
    [
      'two rules for one port (the first wins)',
      `${reject}\n${reject.replace('has no endpoints', 'has no local endpoints')}`,
    ],
    ['a rule that turns nothing away', reject.replace(/-j REJECT.*/, '-j ACCEPT')],
  ])('filter KUBE-EXTERNAL-SERVICES with %s: the general path JSON', (_what, line) => {
    expect(sameAsGeneral(WHOLE.replace(reject, `${reject}\n${line}`))).toBe(true);
    expect(sameAsGeneral(WHOLE.replace(reject, line))).toBe(true);
  });

  it('a port only filter knows, with no KUBE-SERVICES jump to KUBE-NODEPORTS: the general path JSON', () => {
    const text = WHOLE.replace(/^.*-A KUBE-SERVICES .*-j KUBE-NODEPORTS\n/m, '');
    expect(text).not.toBe(WHOLE);
    expect(sameAsGeneral(text)).toBe(true);
    expect(quickInspect(text)!.nodePorts.find((n) => n.port === 30004)!.path).toEqual([
      'PREROUTING',
      'KUBE-SERVICES',
      'INPUT',
      'KUBE-EXTERNAL-SERVICES',
    ]);
  });

  it('no nat table: no answer (the general path names the missing table)', () => {
    expect(quickInspect(withoutTable(WHOLE, 'nat'))).toBeUndefined();
  });

  // Lines the parser rejects, in a table the walk never reads: the quick path must not answer.
  it.each([
    ['a misspelt option in mangle', '*mangle', '-A PREROUTING -m statistic --probabilty 0.5 -j ACCEPT'],
    ['an unknown command in mangle', '*mangle', '-Q PREROUTING'],
    ['bad counters in filter', '*filter', '[0:x] -A INPUT -j ACCEPT'],
    ['PREROUTING in filter', '*filter', ':PREROUTING ACCEPT [0:0]'],
    ['INPUT in raw', '*raw', ':INPUT ACCEPT [0:0]'],
    ['a policy on a user chain in mangle', '*mangle', ':KUBE-X ACCEPT [0:0]'],
    ['an IPv6 address in filter', '*filter', '-A INPUT -s 2001:2::1/128 -j ACCEPT'],
    ['a chain declared twice in filter', '*filter', ':KUBE-FORWARD - [0:0]'],
  ])('%s: no answer, and the parser names the line', (_what, header, line) => {
    // The line goes last in its table (a new table after the others for raw).
    const at = WHOLE.indexOf(`\n${header}\n`);
    const commit = at < 0 ? WHOLE.length : WHOLE.indexOf('\nCOMMIT\n', at) + 1;
    const tail = at < 0 ? `${header}\n${line}\nCOMMIT\n` : `${line}\n`;
    const text = WHOLE.slice(0, commit) + tail + WHOLE.slice(commit);
    expect(quickInspect(text)).toBeUndefined();
    expect(quickInspectBytes(text)).toBeUndefined();
    const r = parseIptablesSave(text, { lazy: true });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.line).toBe(text.slice(0, text.indexOf(`${line}\n`, commit)).split('\n').length);
  });

  const lines = WHOLE.split('\n');
  const ruleLines = lines.flatMap((l, i) => (/^\[\d+:\d+\] -A /.test(l) ? [i] : []));
  const rejectLine = lines.findIndex((l) => l.includes('-A KUBE-EXTERNAL-SERVICES'));
  const mangleCommit = lines.findIndex((l, i) => l === 'COMMIT' && lines.slice(0, i).includes('*mangle'));
  // Edits of rules of every table: filter's REJECT for another port, protocol or policy, other
  // targets and comments; the nat walk's shapes as above.
  const edits: ((line: string) => string)[] = [
    (l) => l.replace('-j REJECT --reject-with icmp-port-unreachable', '-j DROP'),
    (l) => l.replace('has no endpoints', 'has no local endpoints'),
    (l) => l.replace('--dport 30004', '--dport 30001'),
    (l) => l.replace('--dport 30004', '--dport 30002'),
    (l) => l.replace('-p tcp', '-p udp').replace('-m tcp', '-m udp'),
    (l) => l.replace(/ -m comment --comment "[^"]*"/, ''),
    (l) => l.replace('-j REJECT', '-g REJECT'),
    (l) => l.replace(/ -j \S+.*$/, ' -j ACCEPT'),
    (l) => l.replace('--ctstate', '--ctstat'),
    (l) => `${l} "`,
    (l) => l.replace(/-A \S+/, '-A KUBE-EXTERNAL-SERVICES'),
    (l) => l.replace('-m tcp --dport', '-m tcp ! --dport'),
    (l) => l.replace(/-j KUBE-SEP-\w+/, '-j KUBE-MARK-DROP'),
    (l) => l.replace(/ -s \S+/, ''),
    (l) => l.replace(/--probability \S+/, '--probability 1.'),
  ];
  const turnAway = fc
    .tuple(
      fc.constantFrom(30001, 30002, 30003, 30004, 30005, 31999),
      fc.constantFrom('tcp', 'udp', 'sctp'),
      fc.constantFrom(
        ' -m comment --comment "x/y:z has no endpoints"',
        ' -m comment --comment "x/y:z has no local endpoints"',
        '',
      ),
      fc.constantFrom('REJECT --reject-with icmp-port-unreachable', 'DROP', 'ACCEPT'),
    )
    .map(
      ([port, p, comment, target]) =>
        `[0:0] -A KUBE-EXTERNAL-SERVICES -p ${p}${comment} -m ${p} --dport ${port} -j ${target}`,
    );
  const mangleLines = fc.constantFrom(
    '[0:0] -A PREROUTING -m statistic --probabilty 0.5 -j ACCEPT',
    '[0:0] -A PREROUTING -j MARK --set-xmark 0x1/0xffffffff',
    '[0:0] -A PREROUTING -j MARK --set-xmark',
    '[0:0] -A KUBE-IPTABLES-HINT -d fe80::1/128 -j ACCEPT',
    '[0:0] -A KUBE-IPTABLES-HINT "',
    ':KUBE-NEW - [0:0]',
    ':FORWARD ACCEPT [0:0]',
    '-Q PREROUTING',
  );

  it('on variants of every table: the general JSON or no answer', () => {
    let answered = 0;
    let turnedAway = 0;
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.constantFrom(...ruleLines), { maxLength: 4 }),
        fc.array(fc.tuple(fc.constantFrom(...ruleLines, rejectLine, rejectLine), fc.nat(edits.length - 1)), {
          maxLength: 4,
        }),
        fc.array(turnAway, { maxLength: 3 }),
        fc.option(mangleLines, { freq: 4 }),
        fc.nat(3),
        fc.boolean(),
        (dropped, edited, added, mangle, order, noMangle) => {
          const out = lines.slice();
          for (const [i, e] of edited) out[i] = edits[e]!(out[i]!);
          for (const i of dropped) out[i] = '';
          if (added.length > 0) out[rejectLine] = [out[rejectLine], ...added].join('\n');
          if (mangle !== null) out[mangleCommit] = `${mangle}\nCOMMIT`;
          let text = out.join('\n');
          if (noMangle) text = withoutTable(text, 'mangle');
          const parts = sections(text);
          parts.push(...parts.splice(0, order % parts.length));
          if (sameAsGeneral(parts.join(''))) {
            answered++;
            if (added.length > 0) turnedAway++;
          }
        },
      ),
      { numRuns: 400 },
    );
    // Most variants are still kube-proxy's plain shape: the quick path must not give up on them,
    // nor on the ports filter turns away.
    expect(answered).toBeGreaterThan(150);
    expect(turnedAway).toBeGreaterThan(50);
  });
});
