// Rules read from plain lines (lazy-read.ts): each rule is checked when the
// dump is read (rule-check.ts, or the full rule reader when that is not sure), but its matches and
// target are built only when something reads them. What the topology asks of every rule (its
// target, protocol, single --dport, first comment, statistic probability, DNAT destination,
// whether it tests more than protocol and port) is kept as offsets into the dump and answered
// from the text, so analysing a 5,000-service node builds no match objects at all.
//
// A LazyRule is a Rule: reading any field gives what the full rule reader gives (lazy-rule.test.ts).
// Fields are getters on the class, so a LazyRule is not a plain object: compare rules by their
// fields or printed form (serializeRule), not with structural equality of the objects.

import type { Protocol } from '../vocabulary';
import { chainsByName } from './chain-index.js';
import { Interner } from './intern.js';
import { isBuiltinTarget } from './known-names.js';
import type { Chain, Counters, Match, Negatable, Rule, Table, Target } from './model.js';
import { type RuleContext, RuleReader } from './parse-rule.js';
import {
  ASK_COMMENT,
  ASK_DNAT,
  ASK_DPORT,
  ASK_PROBABILITY,
  DESTINATION_NEGATED,
  HAS_CONDITIONS,
  MOD_ADDRTYPE,
  MOD_RECENT,
  MOD_SET,
  MOD_STATISTIC,
  PROTO_ASK,
  PROTO_NONE,
  PROTO_SCTP,
  PROTO_TCP,
  type RuleScan,
} from './rule-check.js';
import { createTokenBuffer, type TokenBuffer, tokenizeLine } from './tokenize.js';

// Columns of the fact table, one row per rule: the line's start in the dump (`lineStarts`), then
// 16-bit columns, the offsets relative to the line's start (a checked line is at most 65,535
// characters; longer ones are read the full way). 0 marks an absent value: no value starts a line.
const LINE_LENGTH = 0;
/** The RuleScan flags (12 bits), HAS_DPORT, and the protocol above them. */
const FLAGS = 1;
const DPORT = 2;
const COMMENT_START = 3;
const PROBABILITY_START = 5;
const DNAT_START = 7;
const DESTINATION_START = 9;
const COLUMNS = 11;
const FLAG_BITS = 0xfff;
const HAS_DPORT = 0x1000;
const PROTOCOL_SHIFT = 13;
/** The longest line whose offsets fit the 16-bit columns. */
export const MAX_STORED_LINE = 0xffff;

const NONE: readonly never[] = [];

/** "Decode the rule to know": a fact the scan did not record in its simple form. */
export const ASK: unique symbol = Symbol('ask');

/** Target column codes below the chain ids: no target; else -(2 + k) for `targetNames[k]`. */
const NO_TARGET = -1;
const NAMED_TARGET = -2;
/** Counters column: none, the shared `[0:0]`, or others (kept by row). */
const NO_COUNTERS = 0;
const ZERO_COUNTERS = 1;
const OTHER_COUNTERS = 2;

/**
 * The facts of one table's rules in typed arrays (no object per fact for the garbage collector to
 * trace, 39 bytes a rule: its chain, line, counters and target included, so a LazyRule is only
 * the store and its row), and the decoder that builds a rule's matches and target when asked.
 */
export class RuleStore {
  private lineStarts: Int32Array;
  private facts: Uint16Array;
  /** The rule's chain id, its 1-based line, its target (a chain id or a code above). */
  private chainIds: Int32Array;
  private lineNumbers: Int32Array;
  private targets: Int32Array;
  private counterKinds: Uint8Array;
  private readonly otherCounters = new Map<number, Counters>();
  private zeroCounters: Counters | undefined;
  /** Targets that are no chain of the table (DNAT, MARK, ...), each name once. */
  private readonly targetNames: string[] = [];
  private readonly targetCodes = new Map<string, number>();
  private rows = 0;
  /** Set once the table is read: chain names and jump targets resolve against its chains. */
  private chains: ReadonlyMap<string, Chain> | undefined;
  private decoder: RuleDecoder | undefined;

  constructor(
    readonly text: string,
    /** The table's chain names by id (the table builder's array, which grows as it reads). */
    private readonly names: readonly string[],
    expectedRules: number,
  ) {
    const rows = Math.max(16, expectedRules);
    this.lineStarts = new Int32Array(rows);
    this.facts = new Uint16Array(rows * COLUMNS);
    this.chainIds = new Int32Array(rows);
    this.lineNumbers = new Int32Array(rows);
    this.targets = new Int32Array(rows);
    this.counterKinds = new Uint8Array(rows);
  }

  /**
   * Stores one checked rule (a line of at most MAX_STORED_LINE characters) of chain `chainId`;
   * its target is a chain id, or `targetName` when it is none (undefined: no target). Returns its row.
   */
  add(
    lineStart: number,
    lineEnd: number,
    scan: RuleScan,
    chainId: number,
    line: number,
    counters: Counters | undefined,
    targetId: number,
    targetName: string | undefined,
  ): number {
    const row = this.rows;
    if (row === this.lineStarts.length) this.grow(row * 2);
    this.lineStarts[row] = lineStart;
    this.chainIds[row] = chainId;
    this.lineNumbers[row] = line;
    this.targets[row] =
      targetId >= 0 ? targetId : targetName === undefined ? NO_TARGET : this.targetCode(targetName);
    if (counters === undefined) this.counterKinds[row] = NO_COUNTERS;
    else if (counters === this.zeroCounters) this.counterKinds[row] = ZERO_COUNTERS;
    else if (this.zeroCounters === undefined && counters.packets === 0 && counters.bytes === 0) {
      // The parse shares one `[0:0]` object: the first met is it.
      this.zeroCounters = counters;
      this.counterKinds[row] = ZERO_COUNTERS;
    } else {
      this.counterKinds[row] = OTHER_COUNTERS;
      this.otherCounters.set(row, counters);
    }
    const f = this.facts;
    const at = row * COLUMNS;
    f[at + LINE_LENGTH] = lineEnd - lineStart;
    f[at + FLAGS] =
      (scan.flags & FLAG_BITS) | (scan.dport >= 0 ? HAS_DPORT : 0) | (scan.protocol << PROTOCOL_SHIFT);
    f[at + DPORT] = Math.max(scan.dport, 0);
    relative(f, at + COMMENT_START, lineStart, scan.commentStart, scan.commentEnd);
    relative(f, at + PROBABILITY_START, lineStart, scan.probabilityStart, scan.probabilityEnd);
    relative(f, at + DNAT_START, lineStart, scan.dnatStart, scan.dnatEnd);
    relative(f, at + DESTINATION_START, lineStart, scan.destinationStart, scan.destinationEnd);
    this.rows = row + 1;
    return row;
  }

  private grow(rows: number): void {
    const starts = new Int32Array(rows);
    starts.set(this.lineStarts);
    this.lineStarts = starts;
    const facts = new Uint16Array(rows * COLUMNS);
    facts.set(this.facts);
    this.facts = facts;
    this.chainIds = grown(this.chainIds, rows);
    this.lineNumbers = grown(this.lineNumbers, rows);
    this.targets = grown(this.targets, rows);
    const kinds = new Uint8Array(rows);
    kinds.set(this.counterKinds);
    this.counterKinds = kinds;
  }

  private targetCode(name: string): number {
    let k = this.targetCodes.get(name);
    if (k === undefined) {
      k = this.targetNames.length;
      this.targetNames.push(name);
      this.targetCodes.set(name, k);
    }
    return NAMED_TARGET - k;
  }

  chain(row: number): string {
    return this.names[this.chainIds[row]!]!;
  }

  line(row: number): number {
    return this.lineNumbers[row]!;
  }

  counters(row: number): Counters | undefined {
    const kind = this.counterKinds[row];
    return kind === ZERO_COUNTERS
      ? this.zeroCounters
      : kind === NO_COUNTERS
        ? undefined
        : this.otherCounters.get(row);
  }

  /** The chain id of the target, or -1 (none, or a target that is no chain). */
  targetId(row: number): number {
    const t = this.targets[row]!;
    return t >= 0 ? t : -1;
  }

  targetName(row: number): string | undefined {
    const t = this.targets[row]!;
    if (t >= 0) return this.names[t];
    return t === NO_TARGET ? undefined : this.targetNames[NAMED_TARGET - t];
  }

  flags(row: number): number {
    return this.facts[row * COLUMNS + FLAGS]! & FLAG_BITS;
  }

  protocol(row: number): number {
    return this.facts[row * COLUMNS + FLAGS]! >>> PROTOCOL_SHIFT;
  }

  /** The single --dport, or -1. */
  dport(row: number): number {
    const at = row * COLUMNS;
    return this.facts[at + FLAGS]! & HAS_DPORT ? this.facts[at + DPORT]! : -1;
  }

  /** Where the value of `column` (a *_START) starts in the text, or -1 when absent. */
  start(row: number, column: number): number {
    const rel = this.facts[row * COLUMNS + column]!;
    return rel === 0 ? -1 : this.lineStarts[row]! + rel;
  }

  /** Where the value of `column` (a *_START) ends in the text. */
  end(row: number, column: number): number {
    return this.lineStarts[row]! + this.facts[row * COLUMNS + column + 1]!;
  }

  slice(row: number, startColumn: number): string {
    const lineStart = this.lineStarts[row]!;
    const at = row * COLUMNS + startColumn;
    return this.text.slice(lineStart + this.facts[at]!, lineStart + this.facts[at + 1]!);
  }

  /** Called by the parser when the table is complete. */
  adoptTable(table: Table): void {
    this.chains = chainsByName(table);
  }

  decode(rule: LazyRule, row: number): Rule {
    this.decoder ??= new RuleDecoder(this.text, this.chains ?? new Map());
    const start = this.lineStarts[row]!;
    return this.decoder.decode(rule, start, start + this.facts[row * COLUMNS + LINE_LENGTH]!);
  }
}

/** Reads one rule line with the full rule reader, the same way the parser reads any other line. */
class RuleDecoder {
  private readonly buf: TokenBuffer = createTokenBuffer(1 << 12);
  private readonly interner = new Interner();
  private readonly reader = new RuleReader(this.interner);
  private readonly jumps = new Map<string, Target>();
  private readonly gotos = new Map<string, Target>();
  private readonly context: RuleContext;

  constructor(
    private readonly text: string,
    chains: ReadonlyMap<string, Chain>,
  ) {
    this.context = {
      chainName: (name) => chains.get(name)?.name ?? name,
      plainTarget: (kind, name) => {
        if (kind === 'jump' && isBuiltinTarget(name)) return this.interner.builtinTarget(name);
        const cache = kind === 'goto' ? this.gotos : this.jumps;
        let t = cache.get(name);
        if (!t) {
          t = { kind, name: chains.get(name)?.name ?? name, options: NONE };
          cache.set(name, t);
        }
        return t;
      },
    };
  }

  decode(rule: LazyRule, start: number, end: number): Rule {
    const buf = this.buf;
    // The line was checked when the dump was read: it tokenizes and reads without error.
    tokenizeLine(this.text, start, end, buf);
    const at = buf.tokens[0]!.charCodeAt(0) === 91 && !buf.quoted[0] ? 1 : 0; // `[pkts:bytes]`
    return this.reader.read(buf, at + 2, buf.tokens[at + 1]!, rule.line, rule.counters, this.context);
  }
}

/** A rule whose matches and target are decoded on first use; see the module comment. */
export class LazyRule implements Rule {
  private decoded: Rule | undefined;

  constructor(
    private readonly store: RuleStore,
    private readonly row: number,
  ) {}

  /** The chain's own string. */
  get chain(): string {
    return this.store.chain(this.row);
  }
  get line(): number {
    return this.store.line(this.row);
  }
  get counters(): Counters | undefined {
    return this.store.counters(this.row);
  }
  /** `-j`/`-g` name (the table's own string for a chain), known without decoding. */
  get targetName(): string | undefined {
    return this.store.targetName(this.row);
  }
  /** The id of the chain it jumps or goes to in its table's chainIdIndex; -1 for none or a target that is no chain. */
  get targetId(): number {
    return this.store.targetId(this.row);
  }

  private full(): Rule {
    this.decoded ??= this.store.decode(this, this.row);
    return this.decoded;
  }

  get protocol(): Negatable<string> | undefined {
    return this.full().protocol;
  }
  get source(): Negatable<string> | undefined {
    return this.full().source;
  }
  get destination(): Negatable<string> | undefined {
    return this.full().destination;
  }
  get inInterface(): Negatable<string> | undefined {
    return this.full().inInterface;
  }
  get outInterface(): Negatable<string> | undefined {
    return this.full().outInterface;
  }
  get fragment(): Negatable<true> | undefined {
    return this.full().fragment;
  }
  get matches(): readonly Match[] {
    return this.full().matches;
  }
  get target(): Target | undefined {
    return this.full().target;
  }

  /** JSON of the decoded rule, as the full rule reader's object gives: never the store (the whole dump). */
  toJSON(): Rule {
    return this.full();
  }

  // Facts read from the text. Each returns `ASK` when the rule is not in the simple shape the
  // scan records; the caller then decodes the rule the ordinary way.

  private flags(): number {
    return this.store.flags(this.row);
  }

  /** Tests more than protocol, destination port and comment (kube's hasConditions). */
  hasConditions(): boolean {
    return (this.flags() & HAS_CONDITIONS) !== 0;
  }

  /** Whether some `-m MODULE` is one of recent, statistic, addrtype, set; ASK for other modules. */
  hasModule(module: string): boolean | typeof ASK {
    const f = this.flags();
    switch (module) {
      case 'recent':
        return (f & MOD_RECENT) !== 0;
      case 'statistic':
        return (f & MOD_STATISTIC) !== 0;
      case 'addrtype':
        return (f & MOD_ADDRTYPE) !== 0;
      case 'set':
        return (f & MOD_SET) !== 0;
      default:
        return ASK;
    }
  }

  /** `-p` when it is positive tcp/udp/sctp as written; undefined when absent. */
  protocolName(): Protocol | undefined | typeof ASK {
    const p = this.store.protocol(this.row);
    if (p === PROTO_NONE) return undefined;
    if (p === PROTO_ASK) return ASK;
    return p === PROTO_TCP ? 'tcp' : p === PROTO_SCTP ? 'sctp' : 'udp';
  }

  /** The single positive --dport of the rule's one tcp/udp/sctp match. */
  singleDport(): number | undefined | typeof ASK {
    if (this.flags() & ASK_DPORT) return ASK;
    const p = this.store.dport(this.row);
    return p < 0 ? undefined : p;
  }

  /** The text of the first comment match. */
  comment(): string | undefined | typeof ASK {
    if (this.flags() & ASK_COMMENT) return ASK;
    return this.store.start(this.row, COMMENT_START) < 0
      ? undefined
      : this.store.slice(this.row, COMMENT_START);
  }

  /** `--probability` of the first statistic match, as written (`--mode random`, not negated). */
  probabilityText(): string | undefined | typeof ASK {
    if (this.flags() & ASK_PROBABILITY) return ASK;
    return this.store.start(this.row, PROBABILITY_START) < 0
      ? undefined
      : this.store.slice(this.row, PROBABILITY_START);
  }

  /**
   * probabilityText read by `read` from the value's place in the text, without making its string;
   * undefined when absent, ASK as probabilityText.
   */
  probabilityFrom<T>(read: (text: string, start: number, end: number) => T): T | undefined | typeof ASK {
    if (this.flags() & ASK_PROBABILITY) return ASK;
    const start = this.store.start(this.row, PROBABILITY_START);
    return start < 0 ? undefined : read(this.store.text, start, this.store.end(this.row, PROBABILITY_START));
  }

  /** DNAT's one `--to-destination` value as written. */
  dnatText(): string | undefined | typeof ASK {
    if (this.flags() & ASK_DNAT) return ASK;
    return this.store.start(this.row, DNAT_START) < 0 ? undefined : this.store.slice(this.row, DNAT_START);
  }

  /**
   * DNAT to `a.b.c.d:port`, kube-proxy's one form, read from the text with the checks of
   * parseNatRange's fast path (decode-values.ts); undefined when the value has another form (ask
   * dnatText and parseNatRange then). Two strings and one object, no range objects: this runs
   * once per endpoint chain of the table.
   */
  dnatIpv4Port(): DnatIpv4Port | undefined {
    if (this.flags() & ASK_DNAT) return undefined;
    const start = this.store.start(this.row, DNAT_START);
    return start < 0
      ? undefined
      : dnatIpv4PortAt(this.store.text, start, this.store.end(this.row, DNAT_START));
  }

  /** `-d` as written, or undefined. */
  destinationValue(): Negatable<string> | undefined {
    if (this.store.start(this.row, DESTINATION_START) < 0) return undefined;
    return {
      value: this.store.slice(this.row, DESTINATION_START),
      negated: (this.flags() & DESTINATION_NEGATED) !== 0,
    };
  }
}

function grown(a: Int32Array, size: number): Int32Array {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

/** A value's offsets relative to its line; both 0 when absent (`start` -1). */
function relative(f: Uint16Array, at: number, lineStart: number, start: number, end: number): void {
  if (start < 0) {
    f[at] = 0;
    f[at + 1] = 0;
  } else {
    f[at] = start - lineStart;
    f[at + 1] = end - lineStart;
  }
}

export interface DnatIpv4Port {
  readonly address: string;
  readonly port: number;
  /**
   * The value as written when it reads `address:port` with the port in its shortest digits (what
   * kube's joinHostPort makes of the two), else undefined: a slice of the dump, not a new string.
   */
  readonly hostPort: string | undefined;
}

/**
 * `text[start, end)` as kube-proxy's DNAT value `a.b.c.d:port`, with the checks of
 * parseNatRange's fast path (decode-values.ts); undefined for any other form.
 */
export function dnatIpv4PortAt(text: string, start: number, end: number): DnatIpv4Port | undefined {
  const colon = dnatIpv4PortColon(text, start, end);
  if (colon < 0) return undefined;
  let port = 0;
  for (let i = colon + 1; i < end; i++) port = port * 10 + (text.charCodeAt(i) - 48);
  const canonical = end - colon === 2 || text.charCodeAt(colon + 1) !== 48;
  return {
    address: text.slice(start, colon),
    port,
    hostPort: canonical ? text.slice(start, end) : undefined,
  };
}

/** Where the `:` of dnatIpv4PortAt's form is, or -1 when the value has another form (no objects made). */
export function dnatIpv4PortColon(text: string, start: number, end: number): number {
  const colon = text.indexOf(':', start);
  if (colon <= start || colon >= end - 1 || colon - start > 15) return -1;
  let port = 0;
  for (let i = colon + 1; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57 || i - colon > 5) return -1;
    port = port * 10 + (c - 48);
  }
  if (port > 65535) return -1;
  let dots = 0;
  for (let i = start; i < colon; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) dots++;
    else if (c < 48 || c > 57) return -1;
  }
  return dots === 3 ? colon : -1;
}
