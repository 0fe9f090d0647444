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

// Columns of the fact table, one row per rule.
const LINE_START = 0;
const LINE_END = 1;
const FLAGS = 2;
const PROTOCOL = 3;
const DPORT = 4;
const COMMENT_START = 5;
const COMMENT_END = 6;
const PROBABILITY_START = 7;
const PROBABILITY_END = 8;
const DNAT_START = 9;
const DNAT_END = 10;
const DESTINATION_START = 11;
const DESTINATION_END = 12;
const COLUMNS = 13;

const NONE: readonly never[] = [];

/** "Decode the rule to know": a fact the scan did not record in its simple form. */
export const ASK: unique symbol = Symbol('ask');

/**
 * The facts of one dump's rules in one typed array (no object per fact for the garbage
 * collector to trace), and the decoder that builds a rule's matches and target when asked.
 */
export class RuleStore {
  private facts: Int32Array;
  private rows = 0;
  /** Set once the table is read: chain names and jump targets resolve against its chains. */
  private chains: ReadonlyMap<string, Chain> | undefined;
  private decoder: RuleDecoder | undefined;

  constructor(
    readonly text: string,
    expectedRules: number,
  ) {
    this.facts = new Int32Array(Math.max(16, expectedRules) * COLUMNS);
  }

  /** Stores one checked rule's facts; returns its row. */
  add(lineStart: number, lineEnd: number, scan: RuleScan): number {
    if ((this.rows + 1) * COLUMNS > this.facts.length) {
      const bigger = new Int32Array(this.facts.length * 2);
      bigger.set(this.facts);
      this.facts = bigger;
    }
    const f = this.facts;
    const at = this.rows * COLUMNS;
    f[at + LINE_START] = lineStart;
    f[at + LINE_END] = lineEnd;
    f[at + FLAGS] = scan.flags;
    f[at + PROTOCOL] = scan.protocol;
    f[at + DPORT] = scan.dport;
    f[at + COMMENT_START] = scan.commentStart;
    f[at + COMMENT_END] = scan.commentEnd;
    f[at + PROBABILITY_START] = scan.probabilityStart;
    f[at + PROBABILITY_END] = scan.probabilityEnd;
    f[at + DNAT_START] = scan.dnatStart;
    f[at + DNAT_END] = scan.dnatEnd;
    f[at + DESTINATION_START] = scan.destinationStart;
    f[at + DESTINATION_END] = scan.destinationEnd;
    return this.rows++;
  }

  fact(row: number, column: number): number {
    return this.facts[row * COLUMNS + column]!;
  }

  slice(row: number, startColumn: number): string {
    const at = row * COLUMNS + startColumn;
    return this.text.slice(this.facts[at]!, this.facts[at + 1]!);
  }

  /** Called by the parser when the table is complete. */
  adoptTable(table: Table): void {
    this.chains = chainsByName(table);
  }

  decode(rule: LazyRule, row: number): Rule {
    this.decoder ??= new RuleDecoder(this.text, this.chains ?? new Map());
    return this.decoder.decode(rule, this.fact(row, LINE_START), this.fact(row, LINE_END));
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
    readonly chain: string,
    readonly line: number,
    readonly counters: Counters | undefined,
    /** `-j`/`-g` name (the table's own string for a chain), known without decoding. */
    readonly targetName: string | undefined,
    private readonly store: RuleStore,
    private readonly row: number,
  ) {}

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
    return this.store.fact(this.row, FLAGS);
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
    const p = this.store.fact(this.row, PROTOCOL);
    if (p === PROTO_NONE) return undefined;
    if (p === PROTO_ASK) return ASK;
    return p === PROTO_TCP ? 'tcp' : p === PROTO_SCTP ? 'sctp' : 'udp';
  }

  /** The single positive --dport of the rule's one tcp/udp/sctp match. */
  singleDport(): number | undefined | typeof ASK {
    if (this.flags() & ASK_DPORT) return ASK;
    const p = this.store.fact(this.row, DPORT);
    return p < 0 ? undefined : p;
  }

  /** The text of the first comment match. */
  comment(): string | undefined | typeof ASK {
    if (this.flags() & ASK_COMMENT) return ASK;
    return this.store.fact(this.row, COMMENT_START) < 0
      ? undefined
      : this.store.slice(this.row, COMMENT_START);
  }

  /** `--probability` of the first statistic match, as written (`--mode random`, not negated). */
  probabilityText(): string | undefined | typeof ASK {
    if (this.flags() & ASK_PROBABILITY) return ASK;
    return this.store.fact(this.row, PROBABILITY_START) < 0
      ? undefined
      : this.store.slice(this.row, PROBABILITY_START);
  }

  /** DNAT's one `--to-destination` value as written. */
  dnatText(): string | undefined | typeof ASK {
    if (this.flags() & ASK_DNAT) return ASK;
    return this.store.fact(this.row, DNAT_START) < 0 ? undefined : this.store.slice(this.row, DNAT_START);
  }

  /**
   * DNAT to `a.b.c.d:port`, kube-proxy's one form, read from the text with the checks of
   * parseNatRange's fast path (decode-values.ts); undefined when the value has another form (ask
   * dnatText and parseNatRange then). One string and one object, no range objects: this runs
   * once per endpoint chain of the table.
   */
  dnatIpv4Port(): { readonly address: string; readonly port: number } | undefined {
    if (this.flags() & ASK_DNAT) return undefined;
    const start = this.store.fact(this.row, DNAT_START);
    return start < 0
      ? undefined
      : dnatIpv4PortAt(this.store.text, start, this.store.fact(this.row, DNAT_END));
  }

  /** `-d` as written, or undefined. */
  destinationValue(): Negatable<string> | undefined {
    if (this.store.fact(this.row, DESTINATION_START) < 0) return undefined;
    return {
      value: this.store.slice(this.row, DESTINATION_START),
      negated: (this.flags() & DESTINATION_NEGATED) !== 0,
    };
  }
}

/**
 * `text[start, end)` as kube-proxy's DNAT value `a.b.c.d:port`, with the checks of
 * parseNatRange's fast path (decode-values.ts); undefined for any other form.
 */
export function dnatIpv4PortAt(
  text: string,
  start: number,
  end: number,
): { readonly address: string; readonly port: number } | undefined {
  const colon = dnatIpv4PortColon(text, start, end);
  if (colon < 0) return undefined;
  let port = 0;
  for (let i = colon + 1; i < end; i++) port = port * 10 + (text.charCodeAt(i) - 48);
  return { address: text.slice(start, colon), port };
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
