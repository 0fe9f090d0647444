// The compact reading of a plain `iptables-save` dump for `npg inspect`: no Rule, Chain or Table
// objects, only typed arrays of what the topology asks (per chain, where its rules are; per rule,
// its target, protocol, single --dport, and its comment, probability and DNAT destination as
// offsets into the text) and a ChainTable of names, per table. The dump is `iptables-save -t nat`
// or a whole `iptables-save [-c]` (raw, mangle, filter, nat, security in any order): every table
// is read by the same code into its own chain table and rows, so a chain name means the chain of
// its own table. The nat table's rows are what the walk reads; the filter table's are kept for
// the few facts the topology takes from it (compact-topology.ts); the others are checked and
// dropped.
//
// Every rule line of every table is still checked: with the lazy parse's own checks
// (line-tokens.ts, rule-check.ts), which accept a strict subset of what the full parser accepts,
// and every declaration against its own table's built-in chains (TableBuilder.declare). Whatever
// this reader is not sure of (no nat table, a table twice, an IPv6 address, a line the checks
// leave to the full reader, a comment or declaration of an unusual form, a chain whose rules are
// not together, a truncated dump) makes it return undefined without a word: the caller then
// parses the dump the full way (parse.ts), which reads it or reports the error with its line and
// text. So this never accepts a dump the parser rejects, and never words an error itself.

import { ChainTable } from './chain-table.js';
import { readHeaderComment } from './header.js';
import { BUILTIN_CHAINS, BUILTIN_TABLES, isBuiltinTarget } from './known-names.js';
import { createLineTokens, scanLineTokens, tokenIs, tokenText } from './line-tokens.js';
import type { Backend, BuiltinTable } from './model.js';
import { MAX_LINE_LENGTH } from './parse.js';
import { checkRule, createRuleScan, GOTO, TARGET_OPTIONS } from './rule-check.js';
import { primeRuleChecks } from './rule-check-priming.js';

// Columns of TableScan.rules, one row per rule in dump order. Few on purpose: on the machines this
// runs on, every fresh page of memory costs as much as reading a hundred rules.
/** A chain id (>= 0), or one of the T_* codes. */
export const R_TARGET = 0;
/** RuleScan.flags, .protocol and .dport in one word: read them with ruleFlags & co. */
export const R_FACTS = 1;
export const R_COMMENT_START = 2;
export const R_COMMENT_END = 3;
export const R_PROBABILITY_START = 4;
export const R_PROBABILITY_END = 5;
export const R_DNAT_START = 6;
export const R_DNAT_END = 7;
/** Where the rule's line starts in the text. */
export const R_START = 8;
export const RULE_COLUMNS = 9;

// R_FACTS: flags in bits 0-11, the protocol in 12-14, dport + 1 (0: none) in 15-31.
const PROTOCOL_SHIFT = 12;
const DPORT_SHIFT = 15;
/** The highest RuleScan.flags bit and protocol code the word has room for (nat-scan.test.ts). */
export const MAX_FLAG = 1 << (PROTOCOL_SHIFT - 1);
export const MAX_PROTOCOL = (1 << (DPORT_SHIFT - PROTOCOL_SHIFT)) - 1;

export function ruleFlags(rules: Int32Array, row: number): number {
  return rules[row * RULE_COLUMNS + R_FACTS]! & ((1 << PROTOCOL_SHIFT) - 1);
}

export function ruleProtocol(rules: Int32Array, row: number): number {
  return (rules[row * RULE_COLUMNS + R_FACTS]! >>> PROTOCOL_SHIFT) & MAX_PROTOCOL;
}

/** The single positive --dport, or -1. */
export function ruleDport(rules: Int32Array, row: number): number {
  return (rules[row * RULE_COLUMNS + R_FACTS]! >>> DPORT_SHIFT) - 1;
}

/** R_TARGET codes: no `-j`/`-g`; `-j DNAT`; any other built-in target. */
export const T_NONE = -1;
export const T_DNAT = -2;
export const T_BUILTIN = -3;

/** One table's chains and rule rows. */
export interface TableScan {
  readonly chains: ChainTable;
  /** Per chain id: the row of its first rule, and how many rules follow it (0: none). */
  readonly firstRule: Int32Array;
  readonly ruleCount: Int32Array;
  readonly rules: Int32Array;
  readonly ruleTotal: number;
}

/** The nat table's scan (what the walk reads), with what the topology needs of the dump. */
export interface NatScan extends TableScan {
  readonly text: string;
  readonly backend: Backend;
  /** The filter table of a whole dump; undefined when the dump has none (`-t nat`). */
  readonly filter: TableScan | undefined;
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

/** How many declared chains a new run of rules may skip (chains without rules) before a lookup. */
const LOOKAHEAD = 4;

/** Every built-in chain name: in a table without that chain, its declaration is an error. */
export const BUILTIN_CHAIN_NAMES = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];

/** See the module comment; undefined: parse the dump the full way. */
export function scanNatDump(text: string): NatScan | undefined {
  primeRuleChecks();
  const scanner = new DumpScanner(text);
  const len = text.length;
  let pos = 0;
  // The loop only splits lines: each kind of line is read by its own method, so that the JIT
  // optimises each with the feedback of its own lines (the first 25,000 lines of a kube-proxy
  // table are declarations; code optimised on them alone was thrown away at the first rule).
  while (pos < len) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = len;
    if (end > pos) {
      if (end - pos > MAX_LINE_LENGTH || text.charCodeAt(end - 1) === CR) return undefined;
      const c = text.charCodeAt(pos);
      const ok =
        c === BRACKET || c === DASH
          ? scanner.rule(pos, end)
          : c === COLON
            ? scanner.declaration(pos, end)
            : c === HASH
              ? scanner.comment(pos, end)
              : scanner.other(pos, end, c);
      if (!ok) return undefined;
    }
    pos = end + 1;
  }
  return scanner.finish();
}

/** The dump's structure: `*table` ... COMMIT sections, header comments; each table's lines go to its TableScanner. */
class DumpScanner {
  /** The table being read, between `*table` and COMMIT. */
  private table: TableScanner | undefined;
  /** The tables read so far, as bits of BUILTIN_TABLES indexes (a table twice is an error). */
  private seen = 0;
  private nat: TableScan | undefined;
  private filter: TableScan | undefined;
  private backend: Backend | undefined;

  constructor(private readonly text: string) {}

  finish(): NatScan | undefined {
    const nat = this.nat;
    if (this.table !== undefined || nat === undefined) return undefined;
    return {
      text: this.text,
      backend: this.backend ?? 'unknown',
      chains: nat.chains,
      firstRule: nat.firstRule,
      ruleCount: nat.ruleCount,
      rules: nat.rules,
      ruleTotal: nat.ruleTotal,
      filter: this.filter,
    };
  }

  rule(start: number, end: number): boolean {
    return this.table?.rule(start, end) === true;
  }

  declaration(start: number, end: number): boolean {
    return this.table?.declaration(start, end) === true;
  }

  comment(start: number, end: number): boolean {
    const text = this.text;
    for (let i = start; i < end; i++) {
      const ch = text.charCodeAt(i);
      if (ch < SPACE || ch >= DEL) return false;
    }
    const comment = text.slice(start, end);
    const facts = readHeaderComment(comment);
    if (facts.family === 'ipv6' || /npg: partial table|iptables-legacy tables present/i.test(comment))
      return false;
    if (facts.backend !== undefined) {
      if (this.backend !== undefined && this.backend !== facts.backend) return false;
      this.backend = facts.backend;
    }
    return true;
  }

  /** `*table` and COMMIT; anything else is not the plain case. */
  other(start: number, end: number, c: number): boolean {
    const text = this.text;
    if (c === STAR) {
      if (this.table !== undefined) return false;
      const name = text.slice(start + 1, end);
      const index = BUILTIN_TABLES.indexOf(name as BuiltinTable);
      if (index < 0 || (this.seen & (1 << index)) !== 0) return false;
      this.seen |= 1 << index;
      // Arrays sized for this table's lines: the nat table of a large node is nearly the whole
      // dump (the rest of it is a fair guess, and looking for its COMMIT would cost 1% of reading
      // it), the others a few hundred bytes.
      const table = BUILTIN_TABLES[index]!;
      const commit = table === 'nat' ? -1 : text.indexOf('\nCOMMIT', end);
      this.table = new TableScanner(text, table, (commit < 0 ? text.length : commit) - end);
      return true;
    }
    const table = this.table;
    if (table === undefined || end - start !== 6 || !text.startsWith('COMMIT', start)) return false;
    if (table.name === 'nat') this.nat = table.result();
    else if (table.name === 'filter') this.filter = table.result();
    this.table = undefined;
    return true;
  }
}

/** The chains and rules of one table. */
class TableScanner {
  private readonly chains: ChainTable;
  private rules: Int32Array<ArrayBuffer>;
  private firstRule = new Int32Array(1024).fill(-1);
  private ruleCount = new Int32Array(1024);
  private declared = new Uint8Array(1024);
  private readonly tokens = createLineTokens();
  private readonly scan = createRuleScan();
  private readonly builtins: readonly string[];
  private rows = 0;
  private runChain = -1;

  constructor(
    private readonly text: string,
    readonly name: BuiltinTable,
    /** About how many characters the table's lines take. */
    size: number,
  ) {
    this.builtins = BUILTIN_CHAINS[name];
    this.chains = new ChainTable(text, Math.ceil(size / CHARS_PER_CHAIN));
    this.rules = new Int32Array(Math.max(64, Math.ceil(size / CHARS_PER_RULE)) * RULE_COLUMNS);
  }

  result(): TableScan {
    return {
      chains: this.chains,
      firstRule: this.firstRule,
      ruleCount: this.ruleCount,
      rules: this.rules,
      ruleTotal: this.rows,
    };
  }

  /** `:NAME POLICY [p:b]`, split by single blanks, plain characters only. */
  declaration(start: number, end: number): boolean {
    const text = this.text;
    const space1 = text.indexOf(' ', start);
    const space2 = space1 < 0 ? -1 : text.indexOf(' ', space1 + 1);
    if (space1 <= start + 1 || space2 < 0 || space2 <= space1 + 1 || space2 >= end - 1) return false;
    for (let i = start; i < end; i++) {
      const ch = text.charCodeAt(i);
      if (ch <= SPACE ? ch !== SPACE : ch === QUOTE || ch >= DEL) return false;
    }
    const n1 = text.charCodeAt(start + 1);
    if (n1 === DASH || n1 === 33 /* ! */) return false;
    if (!isCounters(text, space2 + 1, end)) return false;
    const id = this.chain(start + 1, space1);
    if (id < 0 || this.declared[id] === 1 || this.ruleCount[id] !== 0) return false;
    this.declared[id] = 1;
    const policyLength = space2 - space1 - 1;
    const chains = this.chains;
    for (const builtin of BUILTIN_CHAIN_NAMES) {
      if (!chains.is(id, builtin)) continue;
      // A built-in name of another table (FORWARD in nat) is an error the full parser words.
      if (!this.builtins.includes(builtin)) return false;
      return (
        (policyLength === 1 && text.charCodeAt(space1 + 1) === DASH) ||
        (policyLength === 6 && text.startsWith('ACCEPT', space1 + 1)) ||
        (policyLength === 4 && text.startsWith('DROP', space1 + 1))
      );
    }
    return policyLength === 1 && text.charCodeAt(space1 + 1) === DASH;
  }

  /** `[p:b] -A CHAIN ...` or `-A CHAIN ...`, checked by the lazy parse's checks. */
  rule(start: number, end: number): boolean {
    const text = this.text;
    const tokens = this.tokens;
    const scan = this.scan;
    if (!scanLineTokens(text, start, end, tokens)) return false;
    const at = text.charCodeAt(start) === BRACKET ? 1 : 0;
    if (at === 1 && !isCounters(text, tokens.starts[0]!, tokens.ends[0]!)) return false;
    if (tokens.count < at + 2 || !tokenIs(text, tokens, at, '-A') || tokens.quoted[at + 1]) return false;
    const chainStart = tokens.starts[at + 1]!;
    const chainEnd = tokens.ends[at + 1]!;
    const c0 = text.charCodeAt(chainStart);
    if (c0 === 33 && chainEnd - chainStart === 1) return false;
    if (c0 === DASH && chainEnd - chainStart >= 2) {
      const c1 = text.charCodeAt(chainStart + 1);
      if (c1 < ZERO || c1 > NINE) return false;
    }
    if (!checkRule(text, tokens, at + 2, scan)) return false;
    // The family check: an IPv6 address is read the full way.
    if (hasColon(text, scan.sourceStart, scan.sourceEnd)) return false;
    if (hasColon(text, scan.destinationStart, scan.destinationEnd)) return false;
    // iptables-save prints a chain's rules together, chains in the order it declared them: most
    // rules name the chain of the rule before, and a new run of rules the next declared chain or
    // one a few after it (chains without rules print none). Ids count declarations in order, so
    // those are a few neighbouring names, not a lookup in the table.
    let chain = this.runChain;
    if (chain < 0 || !this.chains.namedAt(chain, chainStart, chainEnd)) {
      const chains = this.chains;
      chain = -1;
      const last = Math.min(this.runChain + LOOKAHEAD, chains.size - 1);
      for (let id = this.runChain + 1; id <= last; id++) {
        if (chains.namedAt(id, chainStart, chainEnd)) {
          chain = id;
          break;
        }
      }
      if (chain < 0) chain = this.chain(chainStart, chainEnd);
      if (chain < 0) return false;
      // A chain's rules in two places: an excerpt, not iptables-save's layout.
      if (this.ruleCount[chain] !== 0) return false;
      this.runChain = chain;
      this.firstRule[chain] = this.rows;
    }
    let target = T_NONE;
    if (scan.targetToken >= 0) {
      const ts = tokens.starts[scan.targetToken]!;
      const te = tokens.ends[scan.targetToken]!;
      const goto = (scan.flags & GOTO) !== 0;
      // Built-in target names are short upper-case words; chain names of kube-proxy are not.
      const builtin =
        !goto &&
        te - ts <= 11 &&
        !hasDash(text, ts, te) &&
        isBuiltinTarget(tokenText(text, tokens, scan.targetToken));
      if (builtin) target = te - ts === 4 && text.startsWith('DNAT', ts) ? T_DNAT : T_BUILTIN;
      else if ((scan.flags & TARGET_OPTIONS) !== 0) return false;
      else {
        target = this.chain(ts, te);
        if (target < 0) return false;
      }
    }
    this.ruleCount[chain]!++;
    const rows = this.rows;
    if ((rows + 1) * RULE_COLUMNS > this.rules.length) {
      const bigger = new Int32Array(this.rules.length * 2);
      bigger.set(this.rules);
      this.rules = bigger;
    }
    const rules = this.rules;
    const r = rows * RULE_COLUMNS;
    rules[r + R_TARGET] = target;
    rules[r + R_FACTS] = scan.flags | (scan.protocol << PROTOCOL_SHIFT) | ((scan.dport + 1) << DPORT_SHIFT);
    rules[r + R_COMMENT_START] = scan.commentStart;
    rules[r + R_COMMENT_END] = scan.commentEnd;
    rules[r + R_PROBABILITY_START] = scan.probabilityStart;
    rules[r + R_PROBABILITY_END] = scan.probabilityEnd;
    rules[r + R_DNAT_START] = scan.dnatStart;
    rules[r + R_DNAT_END] = scan.dnatEnd;
    rules[r + R_START] = start;
    this.rows = rows + 1;
    return true;
  }

  /** The id of the chain named `text[start, end)`, its per-chain arrays grown to hold it; -1: not sure. */
  private chain(start: number, end: number): number {
    const id = this.chains.intern(start, end);
    if (id >= 0 && id >= this.declared.length) {
      this.declared = growU8(this.declared);
      this.firstRule = growI32(this.firstRule, -1);
      this.ruleCount = growI32(this.ruleCount, 0);
    }
    return id;
  }
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
