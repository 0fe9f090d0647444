// The compact reading of a plain `iptables-save -t nat` dump for `npg inspect`: no Rule, Chain or
// Table objects, only typed arrays of what the topology asks (each rule's chain, target, protocol,
// single --dport, comment, probability, DNAT destination as offsets) and a ChainTable of names.
//
// Every rule line is still checked: with the lazy parse's own checks (line-tokens.ts,
// rule-check.ts), which accept a strict subset of what the full parser accepts. Whatever this
// reader is not sure of (another table, an IPv6 address, a line the checks leave to the full
// reader, a comment or declaration of an unusual form, a chain whose rules are not together, a
// truncated dump) makes it return undefined without a word: the caller then parses the dump the
// full way (parse.ts), which reads it or reports the error with its line and text. So this never
// accepts a dump the parser rejects, and never words an error itself.

import { ChainTable } from './chain-table.js';
import { readHeaderComment } from './header.js';
import { isBuiltinTarget } from './known-names.js';
import { createLineTokens, scanLineTokens, tokenIs, tokenText } from './line-tokens.js';
import type { Backend } from './model.js';
import { MAX_LINE_LENGTH } from './parse.js';
import { checkRule, createRuleScan, GOTO, TARGET_OPTIONS } from './rule-check.js';

// Columns of NatScan.rules, one row per rule in dump order.
export const R_LINE = 0;
export const R_CHAIN = 1;
/** A chain id (>= 0), or one of the T_* codes. */
export const R_TARGET = 2;
export const R_FLAGS = 3;
export const R_PROTOCOL = 4;
export const R_DPORT = 5;
export const R_COMMENT_START = 6;
export const R_COMMENT_END = 7;
export const R_PROBABILITY_START = 8;
export const R_PROBABILITY_END = 9;
export const R_DNAT_START = 10;
export const R_DNAT_END = 11;
export const R_START = 12;
export const R_END = 13;
export const RULE_COLUMNS = 14;

/** R_TARGET codes: no `-j`/`-g`; `-j DNAT`; any other built-in target. */
export const T_NONE = -1;
export const T_DNAT = -2;
export const T_BUILTIN = -3;

export interface NatScan {
  readonly text: string;
  readonly backend: Backend;
  readonly chains: ChainTable;
  /** Per chain id: the row of its first rule, and how many rules follow it (0: none). */
  readonly firstRule: Int32Array;
  readonly ruleCount: Int32Array;
  readonly rules: Int32Array;
  readonly ruleTotal: number;
}

const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const DEL = 127;
const BRACKET = 91;
const DASH = 45;
const COLON = 58;
const HASH = 35;
const STAR = 42;
const ZERO = 48;
const NINE = 57;
/** A kube-proxy rule line is ~90 characters; the arrays grow if the guess is short. */
const CHARS_PER_RULE = 90;
const CHARS_PER_CHAIN = 330;

const NAT_BUILTINS = ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'];

/** See the module comment; undefined: parse the dump the full way. */
export function scanNatDump(text: string): NatScan | undefined {
  const chains = new ChainTable(text, Math.ceil(text.length / CHARS_PER_CHAIN));
  let rules = new Int32Array(Math.max(64, Math.ceil(text.length / CHARS_PER_RULE)) * RULE_COLUMNS);
  let firstRule = new Int32Array(1024).fill(-1);
  let ruleCount = new Int32Array(1024);
  let declared = new Uint8Array(1024);
  const tokens = createLineTokens();
  const scan = createRuleScan();
  let rows = 0;
  let runChain = -1;
  // 0: before `*nat`; 1: inside; 2: after COMMIT.
  let state = 0;
  let backend: Backend | undefined;
  let lineNo = 0;
  const len = text.length;
  let pos = 0;
  while (pos < len) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = len;
    lineNo++;
    const start = pos;
    const end = nl;
    pos = nl + 1;
    if (end === start) continue;
    if (end - start > MAX_LINE_LENGTH || text.charCodeAt(end - 1) === CR) return undefined;
    const c = text.charCodeAt(start);
    if (c === HASH) {
      for (let i = start; i < end; i++) {
        const ch = text.charCodeAt(i);
        if (ch < SPACE || ch >= DEL) return undefined;
      }
      const comment = text.slice(start, end);
      const facts = readHeaderComment(comment);
      if (facts.family === 'ipv6' || /npg: partial table|iptables-legacy tables present/i.test(comment))
        return undefined;
      if (facts.backend !== undefined) {
        if (backend !== undefined && backend !== facts.backend) return undefined;
        backend = facts.backend;
      }
      continue;
    }
    if (c === STAR) {
      if (state !== 0 || end - start !== 4 || !text.startsWith('*nat', start)) return undefined;
      state = 1;
      continue;
    }
    if (state !== 1) return undefined;
    if (c === 67 /* C */) {
      if (end - start !== 6 || !text.startsWith('COMMIT', start)) return undefined;
      state = 2;
      continue;
    }
    if (c === COLON) {
      // `:NAME POLICY [p:b]`, split by single blanks, plain characters only.
      const space1 = text.indexOf(' ', start);
      const space2 = space1 < 0 ? -1 : text.indexOf(' ', space1 + 1);
      if (space1 <= start + 1 || space2 < 0 || space2 <= space1 + 1 || space2 >= end - 1) return undefined;
      for (let i = start; i < end; i++) {
        const ch = text.charCodeAt(i);
        if (ch <= SPACE ? ch !== SPACE : ch === QUOTE || ch >= DEL) return undefined;
      }
      const n1 = text.charCodeAt(start + 1);
      if (n1 === DASH || n1 === 33 /* ! */) return undefined;
      if (!isCounters(text, space2 + 1, end)) return undefined;
      const id = chains.intern(start + 1, space1);
      if (id >= declared.length) {
        declared = growU8(declared);
        firstRule = growI32(firstRule, -1);
        ruleCount = growI32(ruleCount, 0);
      }
      if (declared[id] === 1 || ruleCount[id] !== 0) return undefined;
      declared[id] = 1;
      const policyLength = space2 - space1 - 1;
      const builtin = isNatBuiltin(chains, id);
      if (builtin) {
        if (
          !(policyLength === 1 && text.charCodeAt(space1 + 1) === DASH) &&
          !(policyLength === 6 && text.startsWith('ACCEPT', space1 + 1)) &&
          !(policyLength === 4 && text.startsWith('DROP', space1 + 1))
        )
          return undefined;
      } else if (policyLength !== 1 || text.charCodeAt(space1 + 1) !== DASH) return undefined;
      // Any other built-in name (FORWARD in nat) is an error the full parser words.
      if (!builtin && isOtherBuiltin(chains, id)) return undefined;
      continue;
    }
    if (c !== BRACKET && c !== DASH) return undefined;
    if (!scanLineTokens(text, start, end, tokens)) return undefined;
    const at = c === BRACKET ? 1 : 0;
    if (at === 1 && !isCounters(text, tokens.starts[0]!, tokens.ends[0]!)) return undefined;
    if (tokens.count < at + 2 || !tokenIs(text, tokens, at, '-A') || tokens.quoted[at + 1]) return undefined;
    const chainStart = tokens.starts[at + 1]!;
    const chainEnd = tokens.ends[at + 1]!;
    const c0 = text.charCodeAt(chainStart);
    if (c0 === 33 && chainEnd - chainStart === 1) return undefined;
    if (c0 === DASH && chainEnd - chainStart >= 2) {
      const c1 = text.charCodeAt(chainStart + 1);
      if (c1 < ZERO || c1 > NINE) return undefined;
    }
    if (!checkRule(text, tokens, at + 2, scan)) return undefined;
    // The family check: an IPv6 address is read the full way.
    if (hasColon(text, scan.sourceStart, scan.sourceEnd)) return undefined;
    if (hasColon(text, scan.destinationStart, scan.destinationEnd)) return undefined;
    const chain = chains.intern(chainStart, chainEnd);
    if (chain >= declared.length) {
      declared = growU8(declared);
      firstRule = growI32(firstRule, -1);
      ruleCount = growI32(ruleCount, 0);
    }
    if (chain !== runChain) {
      // A chain's rules in two places: an excerpt, not iptables-save's layout.
      if (ruleCount[chain] !== 0) return undefined;
      runChain = chain;
      firstRule[chain] = rows;
    }
    let target = T_NONE;
    if (scan.targetToken >= 0) {
      const ts = tokens.starts[scan.targetToken]!;
      const te = tokens.ends[scan.targetToken]!;
      const goto = (scan.flags & GOTO) !== 0;
      // Built-in target names are short upper-case words; chain names of kube-proxy are not.
      const maybeBuiltin = !goto && te - ts <= 11 && !hasDash(text, ts, te);
      const builtin = maybeBuiltin && isBuiltinTarget(tokenText(text, tokens, scan.targetToken));
      if (builtin) target = te - ts === 4 && text.startsWith('DNAT', ts) ? T_DNAT : T_BUILTIN;
      else if ((scan.flags & TARGET_OPTIONS) !== 0) return undefined;
      else {
        target = chains.intern(ts, te);
        if (target >= declared.length) {
          declared = growU8(declared);
          firstRule = growI32(firstRule, -1);
          ruleCount = growI32(ruleCount, 0);
        }
      }
    }
    ruleCount[chain]!++;
    if ((rows + 1) * RULE_COLUMNS > rules.length) {
      const bigger = new Int32Array(rules.length * 2);
      bigger.set(rules);
      rules = bigger;
    }
    const r = rows * RULE_COLUMNS;
    rules[r + R_LINE] = lineNo;
    rules[r + R_CHAIN] = chain;
    rules[r + R_TARGET] = target;
    rules[r + R_FLAGS] = scan.flags;
    rules[r + R_PROTOCOL] = scan.protocol;
    rules[r + R_DPORT] = scan.dport;
    rules[r + R_COMMENT_START] = scan.commentStart;
    rules[r + R_COMMENT_END] = scan.commentEnd;
    rules[r + R_PROBABILITY_START] = scan.probabilityStart;
    rules[r + R_PROBABILITY_END] = scan.probabilityEnd;
    rules[r + R_DNAT_START] = scan.dnatStart;
    rules[r + R_DNAT_END] = scan.dnatEnd;
    rules[r + R_START] = start;
    rules[r + R_END] = end;
    rows++;
  }
  if (state !== 2) return undefined;
  return {
    text,
    backend: backend ?? 'unknown',
    chains,
    firstRule,
    ruleCount,
    rules,
    ruleTotal: rows,
  };
}

/** `[digits:digits]`, each 1 to 20 digits: what the parser's counter check accepts. */
function isCounters(text: string, start: number, end: number): boolean {
  if (end - start < 5 || text.charCodeAt(start) !== BRACKET || text.charCodeAt(end - 1) !== 93) return false;
  let digits = 0;
  let colons = 0;
  for (let i = start + 1; i < end - 1; i++) {
    const ch = text.charCodeAt(i);
    if (ch === COLON) {
      if (colons++ > 0 || digits === 0 || digits > 20) return false;
      digits = 0;
    } else if (ch >= ZERO && ch <= NINE) digits++;
    else return false;
  }
  return colons === 1 && digits > 0 && digits <= 20;
}

/** Whether `text[start, end)` holds a `:` (an IPv6 address); false for an absent value (-1). */
function hasColon(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (text.charCodeAt(i) === COLON) return true;
  return false;
}

function hasDash(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (text.charCodeAt(i) === DASH) return true;
  return false;
}

function isNatBuiltin(chains: ChainTable, id: number): boolean {
  for (const name of NAT_BUILTINS) if (chains.is(id, name)) return true;
  return false;
}

function isOtherBuiltin(chains: ChainTable, id: number): boolean {
  return chains.is(id, 'FORWARD');
}

function growI32(a: Int32Array, fill: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2).fill(fill);
  b.set(a);
  return b;
}

function growU8(a: Uint8Array): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(a.length * 2);
  b.set(a);
  return b;
}
