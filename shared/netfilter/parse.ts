// parseIptablesSave: iptables-save / iptables -S / kube-proxy restore text -> Ruleset.
//
// Reads, line by line:
//   - full dumps of one or all tables (`*nat` ... `COMMIT`), iptables-nft and iptables-legacy,
//     iptables-save and ip6tables-save, with or without `-c` counters;
//   - kube-proxy's restore input: chains only named by `-A` or a jump are kept with
//     `declared: false`, `-X CHAIN` deletions are kept in `Table.deletedChains`;
//   - headerless excerpts: `iptables -t nat -S` listings (`-P`, `-N`, `-A`, `-c p b`) and grep'd
//     lines of iptables-save; their table comes from `opts.table` or, when the content leaves no
//     doubt, from the content (infer-table.ts), and is reported in a warning.
//
// Decisions:
//   - A dump that ends inside a table (no COMMIT: a truncated paste) is read, marked
//     `complete: false`, and warned about; a new `*table` before COMMIT is an error.
//   - A dump must not mix tables and headerless rules, nor repeat a table (two pasted dumps).
//   - Lines longer than MAX_LINE_LENGTH, control characters and invalid UTF-8 are errors: no
//     iptables output contains them.
//   - Never throws: every failure is `{ok: false, error}` with a 1-based line (0 when the problem
//     is not on one line, such as a bad `opts.table`) and the offending text.

import { visibleText } from '../text/visible.js';
import type { Family } from '../vocabulary';
import { readHeaderComment } from './header.js';
import { inferExcerptTable } from './infer-table.js';
import { Interner } from './intern.js';
import { isBuiltinTable, isBuiltinTarget } from './known-names.js';
import { LazyRuleReader } from './lazy-read.js';
import type { Backend, Counters, Ruleset, Table } from './model.js';
import { displayText, explainUnknownLine, TEXT_LIMIT, UNSUPPORTED_COMMANDS } from './parse-messages.js';
import { isOptionToken, parseCounter, type RuleContext, RuleReader } from './parse-rule.js';
import { fail, NetfilterSyntaxError } from './syntax-error.js';
import { TableBuilder } from './table-builder.js';
import {
  createTokenBuffer,
  describeBinaryChar,
  isBinaryChar,
  type TokenBuffer,
  tokenizeLine,
} from './tokenize.js';

export interface ParseOptions {
  /** Table to read headerless excerpts as; for full dumps, the one table to return. */
  readonly table?: string;
  /** Family to assume when neither a header nor an address says; a contradiction is an error. */
  readonly family?: Family;
  /**
   * Tests only: read every line with the full rule reader (parse-rule.ts), the oracle that the
   * fast reading of plain lines (rule-check.ts, LazyRule) is compared with. Same result, slower.
   */
  readonly fullRead?: boolean;
}

export interface ParseError {
  /** 1-based line; 0 when the problem is not on one line. */
  readonly line: number;
  /** The offending line, control characters escaped, cut to about 80 characters. */
  readonly text: string;
  readonly message: string;
}

export type ParseResult =
  | { readonly ok: true; readonly ruleset: Ruleset; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly error: ParseError };

/** Real rules are a few hundred characters; a longer line is not iptables output. */
export const MAX_LINE_LENGTH = 65_536;

/**
 * The serializer writes this comment into tables that are not whole (`complete: false`), and the
 * parser reads it back, so that printing an excerpt never turns it into a "whole table" that
 * iptables-restore without --noflush would use to replace the node's table.
 */
export const PARTIAL_TABLE_MARKER = '# npg: partial table, not the whole table: restore only with --noflush';
const PARTIAL_TABLE_PREFIX = '# npg: partial table';
const DASH = 45;

/** Never throws; see the module comment for what is accepted. */
export function parseIptablesSave(text: string, opts: ParseOptions = {}): ParseResult {
  if (opts.table !== undefined && !isBuiltinTable(opts.table)) {
    return failure(0, '', `unknown table "${opts.table}" (use nat, filter, mangle, raw or security)`);
  }
  if (typeof text !== 'string') return failure(0, '', 'input is not text');
  const parser = new DumpParser(text, opts);
  try {
    return parser.run();
  } catch (e) {
    if (e instanceof NetfilterSyntaxError) {
      const line = e.line ?? parser.lineNo;
      return failure(line, parser.lineText(line), e.message);
    }
    // A bug of ours, not the input's fault; still a result, never an exception.
    const message = e instanceof Error ? e.message : String(e);
    return failure(parser.lineNo, parser.lineText(parser.lineNo), `internal parser error: ${message}`);
  }
}

/** Messages quote tokens of the dump, which may come from a hostile node: one visible line. */
const MESSAGE_LIMIT = 400;

function failure(line: number, text: string, message: string): ParseResult {
  return { ok: false, error: { line, text, message: visibleText(message, MESSAGE_LIMIT) } };
}

class DumpParser {
  lineNo = 0;
  private readonly buf: TokenBuffer;
  private readonly interner = new Interner();
  private readonly rules = new RuleReader(this.interner);
  /** Chain names and option-less targets of rules come from the table being read. */
  private readonly ruleContext: RuleContext = {
    chainName: (name) => this.target().ruleChain(name, this.lineNo),
    plainTarget: (kind, name) =>
      kind === 'jump' && isBuiltinTarget(name)
        ? this.interner.builtinTarget(name)
        : this.target().chainTarget(kind, name, this.lineNo),
  };
  private readonly tables: Table[] = [];
  private readonly seen = new Set<string>();
  private readonly comments: string[] = [];
  private readonly warnings: string[] = [];
  private current: TableBuilder | undefined;
  private excerpt: TableBuilder | undefined;
  private backend: Backend | undefined;
  private headerFamily: { family: Family; line: number } | undefined;
  private addressFamily: { family: Family; line: number } | undefined;
  /** Reads plain rule lines of a `*table` without building them; undefined with opts.fullRead. */
  private readonly lazy: LazyRuleReader | undefined;

  constructor(
    private readonly text: string,
    private readonly opts: ParseOptions,
  ) {
    this.buf = createTokenBuffer(text.length);
    this.lazy = opts.fullRead ? undefined : new LazyRuleReader(text);
  }

  lineText(line: number): string {
    if (line < 1) return '';
    let pos = 0;
    for (let n = 1; n < line; n++) {
      const nl = this.text.indexOf('\n', pos);
      if (nl < 0) return '';
      pos = nl + 1;
    }
    const nl = this.text.indexOf('\n', pos);
    const end = Math.min(nl < 0 ? this.text.length : nl, pos + TEXT_LIMIT + 1);
    return displayText(this.text.slice(pos, end).replace(/\r$/, ''));
  }

  run(): ParseResult {
    const text = this.text;
    const len = text.length;
    let pos = 0;
    while (pos <= len) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0) nl = len;
      this.lineNo++;
      let end = nl;
      if (end > pos && text.charCodeAt(end - 1) === 13) end--;
      if (end - pos > MAX_LINE_LENGTH) {
        fail(`line is ${end - pos} characters long (limit ${MAX_LINE_LENGTH}): not iptables-save output`);
      }
      this.readLine(pos, end);
      pos = nl + 1;
    }
    return this.finish();
  }

  private readLine(start: number, end: number): void {
    const text = this.text;
    let s = start;
    while (s < end && (text.charCodeAt(s) === 32 || text.charCodeAt(s) === 9)) s++;
    if (s === end) return;
    const c = text[s];
    if (c === '#') {
      this.readComment(s, end);
      return;
    }
    // Inside a table, a plain rule line is checked and indexed without tokenizing it; lines it is
    // not sure of go the full way below, which decides and words any error.
    if ((c === '-' || c === '[') && this.current && this.lazy?.read(s, end, this.lazyLine)) return;
    if (c === ':' && this.lazy && this.readPlainDeclaration(s, end)) return;
    const err = tokenizeLine(text, s, end, this.buf);
    if (err) fail(`${err.message} at column ${err.column + (s - start)}`);
    const first = this.buf.tokens[0]!;
    const bare = !this.buf.quoted[0];
    if (c === '*' && bare) this.readTableHeader(first.slice(1));
    else if (first === 'COMMIT' && this.buf.count === 1) this.readCommit();
    else if (c === ':' && bare) this.readDeclaration(first.slice(1));
    else if (c === '[' && bare) this.readCommand(1, this.bracketCounters(first));
    else if (c === '-' && bare) this.readCommand(0, undefined);
    else fail(explainUnknownLine(text.slice(s, Math.min(end, s + 200))));
  }

  private readComment(start: number, end: number): void {
    for (let i = start; i < end; i++) {
      const c = this.text.charCodeAt(i);
      if (isBinaryChar(c)) fail(`${describeBinaryChar(c)} at column ${i - start + 1}`);
    }
    const comment = this.text.slice(start, end);
    if (comment.startsWith(PARTIAL_TABLE_PREFIX) && this.current) {
      this.current.partial = true;
      return;
    }
    const facts = readHeaderComment(comment);
    if (facts.family && !this.headerFamily) this.headerFamily = { family: facts.family, line: this.lineNo };
    if (facts.family && this.headerFamily && facts.family !== this.headerFamily.family) {
      fail('an IPv4 and an IPv6 dump pasted together: parse them one at a time');
    }
    if (facts.backend) {
      if (this.backend && this.backend !== facts.backend) {
        this.warnings.push(`line ${this.lineNo}: headers of both the nft and the legacy iptables flavours`);
      }
      this.backend ??= facts.backend;
    }
    this.comments.push(comment);
  }

  private readTableHeader(name: string): void {
    if (this.buf.count !== 1) fail('unexpected text after the table name');
    if (this.current) fail(`*${name} before the COMMIT of table ${this.current.name}`);
    if (!isBuiltinTable(name))
      fail(`unknown table "${name}" (expected nat, filter, mangle, raw or security)`);
    if (this.excerpt) {
      fail(
        `*${name} after rules with no table header (line ${this.excerpt.line}): paste a whole dump or only rules`,
      );
    }
    if (this.seen.has(name))
      fail(`table ${name} appears twice (two dumps pasted together? parse them one at a time)`);
    this.seen.add(name);
    this.current = new TableBuilder(name, this.lineNo);
  }

  private readCommit(): void {
    if (!this.current) fail('COMMIT outside a table (no *table line before it)');
    this.tables.push(this.finishTable(this.current, true));
    this.current = undefined;
  }

  private finishTable(builder: TableBuilder, complete: boolean): Table {
    const table = builder.finish(builder.name!, complete);
    this.lazy?.tableDone(table);
    return table;
  }

  /** The parser's side of a lazily read rule line. */
  private readonly lazyLine = {
    table: (): TableBuilder => this.target(),
    line: (): number => this.lineNo,
    counters: (start: number, end: number): Counters => this.bracketCountersAt(start, end),
    address: (start: number, end: number): void => this.noteAddressAt(start, end),
  };

  private target(): TableBuilder {
    if (this.current) return this.current;
    if (this.tables.length > 0) fail('rule outside a table (after COMMIT, before the next *table)');
    this.excerpt ??= new TableBuilder(undefined, this.lineNo);
    return this.excerpt;
  }

  /** Argument `i` of the current line; entries past `count` are stale ones of earlier lines. */
  private arg(i: number): string | undefined {
    return i < this.buf.count ? this.buf.tokens[i] : undefined;
  }

  /**
   * The plain `:NAME POLICY [p:b]`: a kube-proxy table declares ~25,000 chains, and
   * tokenizing each line made two strings of its name; here the table finds the chain by the
   * name's offsets and makes its string once, when the chain is new. Only the plain form (three bare arguments
   * split by single blanks, a name that is no option); anything else is read by readDeclaration.
   */
  private readPlainDeclaration(start: number, end: number): boolean {
    const text = this.text;
    const space1 = text.indexOf(' ', start);
    if (space1 < 0 || space1 >= end) return false;
    const space2 = text.indexOf(' ', space1 + 1);
    if (space2 < 0 || space2 >= end) return false;
    const space3 = text.indexOf(' ', space2 + 1);
    if (space3 >= 0 && space3 < end) return false;
    if (space1 === start + 1 || space2 === space1 + 1 || space2 === end - 1) return false;
    for (let i = start; i < end; i++) {
      const ch = text.charCodeAt(i);
      // Quotes, tabs, control and non-ASCII characters: the tokenizer's rules apply.
      if (ch < 33 ? ch !== 32 : ch === 34 || ch >= 127) return false;
    }
    if (text.charCodeAt(start + 1) === DASH && isOptionToken(text.slice(start + 1, space1), false))
      return false;
    const counters = this.bracketCountersAt(space2 + 1, end);
    const policy =
      space2 - space1 === 2 && text.charCodeAt(space1 + 1) === DASH ? '-' : text.slice(space1 + 1, space2);
    this.target().declareAt(':', text, start + 1, space1, policy, counters, this.lineNo);
    return true;
  }

  private readDeclaration(name: string): void {
    const { tokens, quoted, count } = this.buf;
    if (name.length === 0 || isOptionToken(name, false)) fail('expected a chain name after ":"');
    if (count < 2 || quoted[1]) fail(`declaration of ${name} has no policy (expected ":${name} - [0:0]")`);
    const counters = count >= 3 ? this.bracketCounters(tokens[2]!) : undefined;
    if (count > 3) fail(`unexpected "${tokens[3]}" after the declaration of ${name}`);
    this.target().declare(':', name, tokens[1]!, counters, this.lineNo);
  }

  private readCommand(at: number, counters: Counters | undefined): void {
    const { quoted, count } = this.buf;
    const cmd = this.arg(at);
    if (cmd === undefined) fail('counters without a rule');
    const chain = this.arg(at + 1);
    const hasChain = chain !== undefined && !quoted[at + 1] && !isOptionToken(chain, false) && chain !== '!';
    if (cmd === '-A' || cmd === '--append') {
      if (!hasChain) fail('-A needs a chain name');
      const rule = this.rules.read(this.buf, at + 2, chain, this.lineNo, counters, this.ruleContext);
      this.target().addRule(rule, this.lineNo);
      this.noteAddress(rule.source?.value);
      this.noteAddress(rule.destination?.value);
      return;
    }
    if (counters) fail(`counters before ${cmd}: only -A rules have counters`);
    if (cmd === '-N' || cmd === '--new-chain') {
      if (!hasChain || count !== at + 2) fail('-N needs exactly one chain name');
      this.target().declare('-N', chain, '-', undefined, this.lineNo);
      return;
    }
    if (cmd === '-P' || cmd === '--policy') {
      const policy = this.arg(at + 2);
      if (!hasChain || policy === undefined) fail('-P needs a chain and a policy');
      let policyCounters: Counters | undefined;
      if (count > at + 3) {
        if (this.arg(at + 3) !== '-c' || count !== at + 6)
          fail(`unexpected "${this.arg(at + 3)}" after -P ${chain}`);
        policyCounters = this.interner.counters(
          parseCounter(this.arg(at + 4), '-c packets'),
          parseCounter(this.arg(at + 5), '-c bytes'),
        );
      }
      this.target().declare('-P', chain, policy, policyCounters, this.lineNo);
      return;
    }
    if (cmd === '-X' || cmd === '--delete-chain') {
      if (!hasChain || count !== at + 2)
        fail('-X needs exactly one chain name (deleting all chains is not supported)');
      this.target().deleteChain(chain);
      return;
    }
    const what = UNSUPPORTED_COMMANDS[cmd];
    if (what) fail(`${cmd} (${what}) is not supported: paste iptables-save or iptables -S output`);
    fail(`unknown command "${cmd}" (expected -A, -N, -P or -X)`);
  }

  /** noteAddress for `text[start, end)`, without making the string when the family is as before. */
  private noteAddressAt(start: number, end: number): void {
    let family: Family | undefined;
    for (let k = start; k < end; k++) {
      const ch = this.text.charCodeAt(k);
      if (ch === 58) {
        family = 'ipv6';
        break;
      }
      if (ch === 46) family = 'ipv4';
    }
    if (family !== undefined && family === this.addressFamily?.family) return;
    this.noteAddress(this.text.slice(start, end));
  }

  /** Families from addresses: `:` only in IPv6, `.` only in IPv4 (ignores interface-like text). */
  private noteAddress(addr: string | undefined): void {
    if (addr === undefined) return;
    const family: Family | undefined = addr.includes(':') ? 'ipv6' : addr.includes('.') ? 'ipv4' : undefined;
    if (!family) return;
    if (!this.addressFamily) {
      this.addressFamily = { family, line: this.lineNo };
      return;
    }
    if (this.addressFamily.family !== family) {
      fail(
        `${family === 'ipv6' ? 'IPv6' : 'IPv4'} address ${addr} after ${this.addressFamily.family === 'ipv6' ? 'IPv6' : 'IPv4'} addresses (line ${this.addressFamily.line}): parse IPv4 and IPv6 dumps one at a time`,
      );
    }
  }

  /** bracketCounters of `text[start, end)`; no string for the common `[0:0]`. */
  private bracketCountersAt(start: number, end: number): Counters {
    if (end - start === 5 && this.text.startsWith('[0:0]', start)) return this.interner.counters(0, 0);
    return this.bracketCounters(this.text.slice(start, end));
  }

  /** `[pkts:bytes]`, as iptables-save -c prints before rules and after chain policies. */
  private bracketCounters(token: string): Counters {
    if (token === '[0:0]') return this.interner.counters(0, 0);
    const colon = token.indexOf(':');
    if (token.length < 5 || token[0] !== '[' || token[token.length - 1] !== ']' || colon < 0) {
      fail(`expected counters like [0:0], got "${token}"`);
    }
    return this.interner.counters(
      parseCounter(token.slice(1, colon), 'packet counter'),
      parseCounter(token.slice(colon + 1, -1), 'byte counter'),
    );
  }

  private finish(): ParseResult {
    this.lineNo = 0;
    if (this.current) {
      const name = this.current.name!;
      this.warnings.push(
        `table ${name} (line ${this.current.line}) has no COMMIT: the dump looks truncated; read as incomplete`,
      );
      this.tables.push(this.finishTable(this.current, false));
      this.current = undefined;
    }
    if (this.excerpt) this.tables.push(this.finishExcerpt(this.excerpt));
    const family = this.resolveFamily();
    let tables = this.tables;
    if (this.opts.table !== undefined && tables.length > 0) {
      tables = tables.filter((t) => t.name === this.opts.table);
      if (tables.length === 0) {
        fail(
          `the input has no ${this.opts.table} table (it has ${this.tables.map((t) => t.name).join(', ')}); was it saved with -t ${this.opts.table}?`,
          0,
        );
      }
    }
    if (this.tables.length === 0) this.warnings.push('the input has no tables and no rules');
    const ruleset: Ruleset = {
      family,
      backend: this.backend ?? 'unknown',
      comments: this.comments,
      tables,
    };
    return { ok: true, ruleset, warnings: this.warnings };
  }

  private finishExcerpt(excerpt: TableBuilder): Table {
    let name = this.opts.table;
    if (name === undefined || !isBuiltinTable(name)) {
      const inferred = inferExcerptTable(excerpt.chainsForInference(), excerpt.policyChains);
      if (!inferred.ok) fail(inferred.message, inferred.line);
      name = inferred.table;
      this.warnings.push(`no *table header: read as table ${name} (from ${inferred.reason})`);
    }
    if (!isBuiltinTable(name)) fail(`unknown table ${name}`, 0);
    excerpt.name = name;
    excerpt.checkBuiltins(name);
    // An `iptables -S` listing with a policy line for every built-in chain is a whole table.
    return excerpt.finish(name, excerpt.listsAllPolicies(name));
  }

  private resolveFamily(): Family | 'unknown' {
    const header = this.headerFamily;
    const addr = this.addressFamily;
    const wanted = this.opts.family;
    if (header && addr && header.family !== addr.family) {
      fail(`${addr.family} address in a dump whose header says ${header.family}`, addr.line);
    }
    const detected = header ?? addr;
    if (wanted && detected && wanted !== detected.family) {
      fail(`the input is ${detected.family} but ${wanted} was asked for`, detected.line);
    }
    return detected?.family ?? wanted ?? 'unknown';
  }
}
