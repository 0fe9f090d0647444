// The parser's reading of one plain `[pkts:bytes] -A CHAIN ...` line inside a table: split it into
// argument offsets (line-tokens.ts), check it (rule-check.ts), and append a LazyRule whose facts
// stay in the table's RuleStore. It does to the table exactly what reading the rule fully does
// (the rule's chain and, for an option-less jump, the target chain are created if new, in the same
// order), so a line read this way or by the full rule reader gives the same tables. When it is not sure of a line it
// returns false before changing anything, and the parser reads the line the full way.

import { isBuiltinTarget } from './known-names.js';
import { LazyRule, MAX_STORED_LINE, RuleStore } from './lazy-rule.js';
import { createLineTokens, type LineTokens, scanLineTokens, tokenIs, tokenText } from './line-tokens.js';
import type { Counters, Table } from './model.js';
import { checkRule, createRuleScan, GOTO, type RuleScan, TARGET_OPTIONS } from './rule-check.js';
import { primeRuleChecks } from './rule-check-priming.js';
import type { TableBuilder } from './table-builder.js';

/** What the parser lends the lazy reader for one line. */
export interface LazyLineContext {
  /** The table being read (the parser's own checks on where a rule may stand included). */
  table(): TableBuilder;
  line(): number;
  /** `[pkts:bytes]` at `text[start, end)`, checked the parser's way (its errors are the parser's). */
  counters(start: number, end: number): Counters;
  /** An -s/-d value at `text[start, end)`, for the address-family check. */
  address(start: number, end: number): void;
}

const OPEN_BRACKET = 91;
const DASH = 45;
const ZERO = 48;
const NINE = 57;
/** A kube-proxy rule line is ~90 characters; the store grows if the guess is short. */
const CHARS_PER_RULE = 90;
/** A dump this large (~10,000 rules) is worth teaching the JIT every rule shape first. */
const PRIME_ABOVE_CHARS = 1_000_000;

export class LazyRuleReader {
  private readonly tokens: LineTokens = createLineTokens();
  private readonly scan: RuleScan = createRuleScan();
  /** One store per table: a rule's chain names resolve against its own table. */
  private store: RuleStore | undefined;

  constructor(private readonly text: string) {
    if (text.length > PRIME_ABOVE_CHARS) primeRuleChecks();
  }

  /** Reads the rule line `text[start, end)`; false (nothing changed) when not sure of it. */
  read(start: number, end: number, ctx: LazyLineContext): boolean {
    const text = this.text;
    const t = this.tokens;
    if (end - start > MAX_STORED_LINE || !scanLineTokens(text, start, end, t)) return false;
    let at = 0;
    const bracket = text.charCodeAt(start) === OPEN_BRACKET;
    if (bracket) at = 1;
    if (t.count < at + 2 || !tokenIs(text, t, at, '-A') || !isChainName(text, t, at + 1)) return false;
    if (!checkRule(text, t, at + 2, this.scan)) return false;
    // Sure now. From here on, what the parser does for a fully read rule, in its order.
    const counters = bracket ? ctx.counters(t.starts[0]!, t.ends[0]!) : undefined;
    const builder = ctx.table();
    const line = ctx.line();
    const scan = this.scan;
    const chain = builder.ruleChainAt(text, t.starts[at + 1]!, t.ends[at + 1]!, line);
    let targetName: string | undefined;
    let targetId = -1;
    const target = scan.targetToken;
    if (target >= 0) {
      const ts = t.starts[target]!;
      const te = t.ends[target]!;
      // An option-less jump to a user chain (or any goto) names, and if need be creates, a chain:
      // found by its offsets, so no string is made for it. Built-in targets have no dash.
      if ((scan.flags & TARGET_OPTIONS) === 0 && ((scan.flags & GOTO) !== 0 || hasDash(text, ts, te))) {
        targetId = builder.chainIdAt(text, ts, te, line);
      } else {
        targetName = tokenText(text, t, target);
        if ((scan.flags & TARGET_OPTIONS) === 0 && !isBuiltinTarget(targetName)) {
          targetId = builder.chainIdAt(text, ts, te, line);
        }
      }
    }
    this.store ??= new RuleStore(text, builder.chainNames(), Math.ceil(text.length / CHARS_PER_RULE));
    const rule = new LazyRule(
      this.store,
      this.store.add(start, end, scan, chain, line, counters, targetId, targetName),
    );
    builder.addToRun(rule);
    if (scan.sourceStart >= 0) ctx.address(scan.sourceStart, scan.sourceEnd);
    if (scan.destinationStart >= 0) ctx.address(scan.destinationStart, scan.destinationEnd);
    return true;
  }

  /** The table is complete: its lazy rules may now be decoded against its chains. */
  tableDone(table: Table): void {
    this.store?.adoptTable(table);
    this.store = undefined;
  }
}

function hasDash(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (text.charCodeAt(i) === DASH) return true;
  return false;
}

/** A bare argument that is neither an option nor `!`: what `-A` needs (parse.ts hasChain). */
function isChainName(text: string, t: LineTokens, i: number): boolean {
  if (t.quoted[i]) return false;
  const s = t.starts[i]!;
  const len = t.ends[i]! - s;
  const c0 = text.charCodeAt(s);
  if (len === 1 && c0 === 33) return false;
  if (len >= 2 && c0 === DASH) {
    const c1 = text.charCodeAt(s + 1);
    if (c1 < ZERO || c1 > NINE) return false;
  }
  return true;
}
