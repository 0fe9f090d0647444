// The quick path of `npg inspect` (quick-inspect.ts) prints what the general path prints: on the
// real nat dump, and on thousands of variants of it with rule lines dropped or changed, whenever
// the quick path answers, its JSON is the general path's; when it does not, the general path
// decides. It must answer on kube-proxy's plain dump (the case it exists for).
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findTable, parseIptablesSave } from '../netfilter';
import { analyzeTopology, quickInspect, quickInspectBytes, toInspectJson } from '.';
import { probabilityAt, probabilityValue } from './rule-facts';

const FIXTURES = new URL('../../e2e/lab/fixtures/', import.meta.url);
const NAT = readFileSync(new URL('iptables-v4-current.iptables-save-t-nat.txt', FIXTURES), 'utf8');

/** What `npg inspect --json` prints through the general path, or undefined for a parse error. */
function general(text: string): unknown {
  const r = parseIptablesSave(text, { lazy: true });
  if (!r.ok) return undefined;
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
