// One rule's tokens (text readers) into typed statements: the matches, lookups, verdicts and NAT
// that kube-proxy writes are parsed; any other statement is kept as `other` with its text. Also
// the element lists of sets, maps and anonymous `{ ... }` in rules, which the readers share.
import type { Counters } from '../netfilter/model';
import { NFT_LIMITS, nftFail } from './errors';
import type { NftElement, NftMatchOp, NftSelector, NftStatement, NftValue, NftVerdict } from './model';
import type { Token } from './tokens';

export interface ParsedRule {
  readonly statements: readonly NftStatement[];
  readonly comment?: string;
  readonly counters?: Counters;
}

/** What a reader needs to word an error: the line and its text. */
export interface Where {
  readonly line: number;
  readonly text: string;
}

const SIMPLE_VERDICTS = new Set(['accept', 'drop', 'return', 'continue', 'queue']);
const OPS: ReadonlyMap<string, NftMatchOp> = new Map([
  ['==', '=='],
  ['eq', '=='],
  ['!=', '!='],
  ['ne', '!='],
  ['<', '<'],
  ['lt', '<'],
  ['>', '>'],
  ['gt', '>'],
  ['<=', '<='],
  ['le', '<='],
  ['>=', '>='],
  ['ge', '>='],
]);
const BINOPS = new Set(['&', 'and', '|', 'or', '^', 'xor', '<<', 'lshift', '>>', 'rshift']);
const PAYLOAD_PROTOS = new Set([
  'ip',
  'ip6',
  'tcp',
  'udp',
  'udplite',
  'sctp',
  'dccp',
  'th',
  'icmp',
  'icmpv6',
  'ether',
  'vlan',
  'arp',
  'ah',
  'esp',
  'comp',
]);
const META_KEYS = new Set([
  'mark',
  'l4proto',
  'nfproto',
  'iif',
  'iifname',
  'iiftype',
  'oif',
  'oifname',
  'oiftype',
  'skuid',
  'skgid',
  'pkttype',
  'length',
  'priority',
  'cpu',
  'cgroup',
]);
const FIB_RESULTS = new Set(['type', 'oif', 'oifname']);
/** Words that start a statement of their own: a run of unknown words stops before them. */
const STARTERS = new Set([
  'counter',
  'comment',
  'jump',
  'goto',
  ...SIMPLE_VERDICTS,
  'reject',
  'masquerade',
  'snat',
  'dnat',
  'redirect',
  'numgen',
  'update',
  'meta',
  'ct',
  'fib',
  'mark',
  'log',
  'limit',
  'notrack',
]);

export function parseVerdict(
  toks: readonly Token[],
  i: number,
  where: Where,
): [NftVerdict, number] | undefined {
  const w = toks[i]?.t;
  if (w === undefined) return undefined;
  if (SIMPLE_VERDICTS.has(w)) return [{ kind: w as 'accept' }, i + 1];
  if (w === 'jump' || w === 'goto') {
    const target = toks[i + 1];
    if (!target || target.t === '}' || target.t === ',' || target.t === ';' || target.t === '\n')
      nftFail(`\`${w}\` without a chain name`, where.line, where.text);
    return [{ kind: w, target: target.t }, i + 2];
  }
  return undefined;
}

function skipNewlines(toks: readonly Token[], i: number): number {
  while (toks[i]?.t === '\n' || toks[i]?.t === '#handle') i++;
  return i;
}

function parseCount(text: string | undefined, what: string, where: Where): number {
  if (text === undefined || !/^\d{1,20}$/.test(text))
    nftFail(`\`counter\` ${what} is not a number (${text ?? 'nothing'})`, where.line, where.text);
  return Number(text);
}

/** `counter [packets N bytes M]` from `i` (at `counter`). */
function parseCounter(toks: readonly Token[], i: number, where: Where): [Counters | undefined, number] {
  if (toks[i + 1]?.t !== 'packets') return [undefined, i + 1];
  const packets = parseCount(toks[i + 2]?.t, 'packets', where);
  if (toks[i + 3]?.t !== 'bytes') nftFail('`counter packets N` without `bytes M`', where.line, where.text);
  const bytes = parseCount(toks[i + 4]?.t, 'bytes', where);
  return [{ packets, bytes }, i + 5];
}

/**
 * `{ a . b comment "x" : goto c, ... }` from `i` (at `{`); newlines inside are ignored.
 * Returns the elements and the index after `}`.
 */
export function parseElements(
  toks: readonly Token[],
  i: number,
  where: Where,
  depth = 0,
): [NftElement[], number] {
  if (depth > NFT_LIMITS.maxDepth) nftFail('braces nested too deep', where.line, where.text);
  const elements: NftElement[] = [];
  i++;
  for (;;) {
    i = skipNewlines(toks, i);
    const t = toks[i];
    if (!t) nftFail('`{` is not closed', where.line, where.text);
    if (t.t === '}') return [elements, i + 1];
    if (t.t === ',') {
      i++;
      continue;
    }
    const key: string[] = [];
    for (;;) {
      const a = toks[i];
      if (!a || a.t === '}' || a.t === ',' || a.t === ';' || a.t === '\n')
        nftFail('an element without a value', where.line, where.text);
      if (a.t === '{') {
        // A nested anonymous set (an interval inside a concatenation): kept as its text.
        const [inner, next] = parseElements(toks, i, where, depth + 1);
        key.push(`{ ${inner.map((e) => e.key.join(' . ')).join(', ')} }`);
        i = next;
      } else {
        key.push(a.t);
        i++;
      }
      if (toks[i]?.t !== '.') break;
      i++;
    }
    let comment: string | undefined;
    for (;;) {
      const o = toks[i]?.t;
      if (o === 'comment' && toks[i + 1]?.quoted) {
        comment = toks[i + 1]!.t;
        i += 2;
      } else if (o === 'timeout' || o === 'expires') i += 2;
      else if (o === 'counter') i = parseCounter(toks, i, where)[1];
      else break;
    }
    let verdict: NftVerdict | undefined;
    let data: string[] | undefined;
    if (toks[i]?.t === ':') {
      i++;
      const v = parseVerdict(toks, i, where);
      if (v) [verdict, i] = v;
      else {
        data = [];
        for (;;) {
          const a = toks[i];
          if (!a || a.t === '}' || a.t === ',' || a.t === '\n')
            nftFail('`:` without a value', where.line, where.text);
          data.push(a.t);
          i++;
          if (toks[i]?.t !== '.') break;
          i++;
        }
      }
    }
    elements.push({
      key,
      ...(comment === undefined ? {} : { comment }),
      ...(verdict ? { verdict } : {}),
      ...(data ? { data } : {}),
    });
    if (elements.length > NFT_LIMITS.maxObjects) nftFail('too many elements', where.line, where.text);
  }
}

/** A selector from `i`, or undefined when `toks[i]` starts none. Returns the next index. */
function parseSelector(toks: readonly Token[], i: number): [NftSelector, number] | undefined {
  const parts: string[] = [];
  let numgen: NftSelector['numgen'];
  for (;;) {
    const one = parseOneSelector(toks, i);
    if (!one) return parts.length ? [{ parts, ...(numgen ? { numgen } : {}) }, i - 1] : undefined;
    let [text, next] = one;
    if (one[2]) numgen = one[2];
    // Binary operations on the field (`meta mark & 0x4000`, `mark and 0x4000`).
    while (BINOPS.has(toks[next]?.t ?? '') && toks[next + 1] && !STRUCTURAL.has(toks[next + 1]!.t)) {
      text += ` ${toks[next]!.t} ${toks[next + 1]!.t}`;
      next += 2;
    }
    parts.push(text);
    i = next;
    if (toks[i]?.t !== '.') return [{ parts, ...(numgen ? { numgen } : {}) }, i];
    i++;
  }
}

const STRUCTURAL = new Set(['{', '}', ';', ',', '\n']);

function parseOneSelector(
  toks: readonly Token[],
  i: number,
): [string, number, NftSelector['numgen']?] | undefined {
  const w = toks[i]?.t;
  const w1 = toks[i + 1]?.t;
  if (w === undefined || toks[i]!.quoted) return undefined;
  if (PAYLOAD_PROTOS.has(w) && w1 !== undefined && /^[a-z][a-z0-9-]*$/.test(w1) && !STARTERS.has(w1))
    return [`${w} ${w1}`, i + 2];
  if (w === 'meta' && w1 !== undefined && /^[a-z][a-z0-9]*$/.test(w1)) return [`meta ${w1}`, i + 2];
  if (META_KEYS.has(w) && w !== 'priority') return [`meta ${w}`, i + 1];
  if (w === 'ct' && w1 !== undefined) {
    if ((w1 === 'original' || w1 === 'reply') && toks[i + 2]) {
      const w2 = toks[i + 2]!.t;
      if ((w2 === 'ip' || w2 === 'ip6') && toks[i + 3]) return [`ct ${w1} ${w2} ${toks[i + 3]!.t}`, i + 4];
      return [`ct ${w1} ${w2}`, i + 3];
    }
    return [`ct ${w1}`, i + 2];
  }
  if (w === 'fib') {
    const words: string[] = [];
    let j = i + 1;
    while (toks[j] && words.length < 6) {
      const x = toks[j]!.t;
      words.push(x);
      j++;
      if (FIB_RESULTS.has(x)) return [`fib ${words.join(' ')}`, j];
    }
    return undefined;
  }
  if (w === 'numgen' && (w1 === 'random' || w1 === 'inc') && toks[i + 2]?.t === 'mod') {
    const mod = Number(toks[i + 3]?.t);
    if (!Number.isInteger(mod) || mod < 1) return undefined;
    let offset = 0;
    let j = i + 4;
    if (toks[j]?.t === 'offset') {
      offset = Number(toks[j + 1]?.t);
      if (!Number.isInteger(offset) || offset < 0) return undefined;
      j += 2;
    }
    const text = `numgen ${w1} mod ${mod}${offset ? ` offset ${offset}` : ''}`;
    return [text, j, { mode: w1, mod, offset }];
  }
  return undefined;
}

/** The value of a match from `i`: `@set`, `{ ... }`, or words joined by `,` (`established,related`). */
function parseValue(toks: readonly Token[], i: number, where: Where): [NftValue, number] | undefined {
  const t = toks[i];
  if (!t || (STRUCTURAL.has(t.t) && t.t !== '{')) return undefined;
  if (t.t === '{') {
    const [elements, next] = parseElements(toks, i, where);
    return [{ kind: 'anon', elements }, next];
  }
  if (t.t === '@') {
    const name = toks[i + 1];
    if (!name || STRUCTURAL.has(name.t)) nftFail('`@` without a set name', where.line, where.text);
    return [{ kind: 'set', name: name.t }, i + 2];
  }
  if (t.t.startsWith('@') && !t.quoted) return [{ kind: 'set', name: t.t.slice(1) }, i + 1];
  if (STARTERS.has(t.t) && !t.quoted) return undefined;
  let text = t.t;
  let j = i + 1;
  while (toks[j]?.t === ',' && toks[j + 1] && !STRUCTURAL.has(toks[j + 1]!.t)) {
    text += `,${toks[j + 1]!.t}`;
    j += 2;
  }
  return [{ kind: 'literal', text }, j];
}

/** `ADDR`, `ADDR:PORT`, `[V6]:PORT`, `V6` (a bare IPv6 address has several colons). */
export function splitAddrPort(text: string): { addr: string; port?: number } {
  const v6 = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text);
  if (v6) return v6[2] ? { addr: v6[1]!, port: Number(v6[2]) } : { addr: v6[1]! };
  const v4 = /^([^:]+):(\d{1,5})$/.exec(text);
  if (v4) return { addr: v4[1]!, port: Number(v4[2]) };
  return { addr: text };
}

/**
 * Statements of one rule. `toks` holds the rule's tokens only (no newline, no handle); `source`
 * is the text the offsets point into, for the text of statements kept as `other`.
 */
export function parseRuleTokens(toks: readonly Token[], source: string, where: Where): ParsedRule {
  const out: NftStatement[] = [];
  let comment: string | undefined;
  let counters: Counters | undefined;
  const slice = (a: number, b: number): string =>
    b > a ? source.slice(toks[a]!.start, toks[b - 1]!.end) : '';
  let otherFrom = -1;
  const flushOther = (to: number): void => {
    if (otherFrom >= 0) out.push({ kind: 'other', text: slice(otherFrom, to) });
    otherFrom = -1;
  };
  let i = 0;
  const n = toks.length;
  while (i < n) {
    const t = toks[i]!;
    const w = t.quoted ? '' : t.t;
    const start = i;
    if (w === 'counter') {
      flushOther(i);
      const [c, next] = parseCounter(toks, i, where);
      if (c) {
        counters = c;
        out.push({ kind: 'counter', counters: c });
      } else out.push({ kind: 'counter', counters: { packets: 0, bytes: 0 } });
      i = next;
      continue;
    }
    if (w === 'comment') {
      flushOther(i);
      const c = toks[i + 1];
      if (!c) nftFail('`comment` without its text', where.line, where.text);
      comment = c.t;
      i += 2;
      continue;
    }
    const verdict = parseVerdict(toks, i, where);
    if (verdict) {
      flushOther(i);
      out.push({ kind: 'verdict', verdict: verdict[0] });
      i = verdict[1];
      continue;
    }
    if (w === 'dnat' || w === 'snat') {
      flushOther(i);
      let j = i + 1;
      if (toks[j]?.t === 'ip' || toks[j]?.t === 'ip6') j++;
      let target: { addr: string; port?: number } | undefined;
      if (toks[j]?.t === 'to' && toks[j + 1]) {
        target = splitAddrPort(toks[j + 1]!.t);
        j += 2;
      }
      while (j < n && !STARTERS.has(toks[j]!.t)) j++;
      out.push({ kind: w, ...(target ?? {}), text: slice(start, j) });
      i = j;
      continue;
    }
    if (w === 'masquerade' || w === 'reject' || w === 'redirect') {
      flushOther(i);
      let j = i + 1;
      let port: number | undefined;
      while (j < n && !STARTERS.has(toks[j]!.t)) {
        const m = /^:(\d{1,5})$/.exec(toks[j]!.t);
        if (m) port = Number(m[1]);
        j++;
      }
      out.push({ kind: w, text: slice(start, j), ...(port === undefined ? {} : { port }) });
      i = j;
      continue;
    }
    if ((w === 'update' || w === 'add') && (toks[i + 1]?.t.startsWith('@') ?? false)) {
      flushOther(i);
      let set = toks[i + 1]!.t.slice(1);
      let j = i + 2;
      if (set === '') {
        set = toks[i + 2]?.t ?? '';
        j++;
      }
      if (toks[j]?.t === '{') {
        let depth = 0;
        for (; j < n; j++) {
          if (toks[j]!.t === '{') depth++;
          else if (toks[j]!.t === '}' && --depth === 0) break;
        }
        if (depth !== 0) nftFail('`{` is not closed', where.line, where.text);
        j++;
      }
      out.push({ kind: 'set-update', set, text: slice(start, j) });
      i = j;
      continue;
    }
    const sel = w ? parseSelector(toks, i) : undefined;
    if (sel) {
      const [left, afterSel] = sel;
      const next = toks[afterSel]?.t;
      if (next === 'vmap') {
        flushOther(i);
        const m = toks[afterSel + 1];
        if (!m) nftFail('`vmap` without a map', where.line, where.text);
        if (m.t === '{') {
          const [elements, after] = parseElements(toks, afterSel + 1, where);
          out.push({ kind: 'vmap', key: left, map: { kind: 'anon', elements } });
          i = after;
        } else {
          const name = m.t === '@' ? (toks[afterSel + 2]?.t ?? '') : m.t.replace(/^@/, '');
          out.push({ kind: 'vmap', key: left, map: { kind: 'named', name } });
          i = afterSel + (m.t === '@' ? 3 : 2);
        }
        continue;
      }
      if (next === 'set') {
        flushOther(i);
        let j = afterSel + 1;
        while (j < n && !STARTERS.has(toks[j]!.t)) j++;
        // `meta mark set meta mark | 0x4000`: the value starts with `meta`/`mark` again.
        if (j === afterSel + 1) {
          while (j < n && (toks[j]!.t === 'meta' || toks[j]!.t === 'mark' || toks[j]!.t === 'ct')) j++;
          while (j < n && !STARTERS.has(toks[j]!.t)) j++;
        }
        out.push({ kind: left.parts[0]?.endsWith('mark') ? 'mark-set' : 'other', text: slice(start, j) });
        i = j;
        continue;
      }
      let op: NftMatchOp = '==';
      let j = afterSel;
      const o = OPS.get(toks[j]?.t ?? '');
      if (o) {
        op = o;
        j++;
      }
      const value = parseValue(toks, j, where);
      if (value) {
        flushOther(i);
        out.push({ kind: 'match', left, op, right: value[0] });
        i = value[1];
        continue;
      }
    }
    if (t.t === '{') {
      // An unknown statement's argument: skip it whole.
      if (otherFrom < 0) otherFrom = i;
      i = parseElements(toks, i, where)[1];
      continue;
    }
    if (otherFrom < 0) otherFrom = i;
    i++;
  }
  flushOther(n);
  return {
    statements: out,
    ...(comment === undefined ? {} : { comment }),
    ...(counters ? { counters } : {}),
  };
}
