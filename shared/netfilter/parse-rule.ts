// Turns the arguments of one rule (everything after `-A CHAIN`) into a Rule.
//
// iptables accepts options in any order and with `!` before an option (`! -s X`, `! --dport 80`)
// or, in the old syntax, after it (`-s ! X`, `--dport ! 80`); both are read. Options starting with
// `--` belong to the most recent `-m MODULE` or `-j TARGET`; their values are every following
// argument up to the next option or `!` (quoted arguments are always values). Unknown modules and
// targets keep their options verbatim; the modules in known-names.ts reject options they do not
// have, so a typo is an error rather than a rule that silently means something else. `-p tcp
// --dport 80` without `-m tcp` loads the tcp match implicitly, as iptables does.
//
// This runs once per rule of a 100,000-rule dump, so it works in reused scratch arrays and builds
// the readonly parts through the Interner (see intern.ts) instead of allocating per rule.

import type { Interner } from './intern.js';
import {
  GLOBAL_OPTIONS,
  IMPLICIT_PROTOCOL_MATCHES,
  knownMatchOptions,
  knownTargetOptions,
  STRING_OPTIONS,
} from './known-names.js';
import {
  assertNever,
  type Counters,
  type Match,
  type MatchOption,
  type Negatable,
  type Rule,
  type Target,
} from './model.js';
import { fail } from './syntax-error.js';
import type { TokenBuffer } from './tokenize.js';

const DASH = 45;
const ZERO = 48;
const NINE = 57;

/** An unquoted `-x` / `--xyz` (but not a negative number such as `-1`, which is a value). */
export function isOptionToken(token: string, quoted: boolean): boolean {
  if (quoted || token.length < 2 || token.charCodeAt(0) !== DASH) return false;
  const c = token.charCodeAt(1);
  return c < ZERO || c > NINE;
}

/** A decimal counter value; iptables prints u64, which we keep as a (possibly rounded) number. */
export function parseCounter(text: string | undefined, what: string): number {
  if (text === undefined || text.length === 0 || text.length > 20) fail(`${what}: expected a number`);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < ZERO || c > NINE) fail(`${what}: "${text}" is not a number`);
  }
  return Number(text);
}

/** The module iptables loads for `-p PROTO --dport ...` written without `-m PROTO`. */
function implicitModule(protocol: Negatable<string> | undefined): string | undefined {
  if (!protocol || protocol.negated) return undefined;
  const p = protocol.value.toLowerCase();
  if (p === 'ipv6-icmp' || p === 'icmpv6') return 'icmp6';
  return IMPLICIT_PROTOCOL_MATCHES.has(p) ? p : undefined;
}

const IMPLICIT_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  icmp: ['icmp-type'],
  icmp6: ['icmpv6-type'],
  udplite: ['sport', 'dport'],
  dccp: ['sport', 'dport', 'dccp-types', 'dccp-option'],
};

function implicitAccepts(module: string, option: string): boolean {
  const known = knownMatchOptions(module);
  if (known) return known.has(option);
  return IMPLICIT_OPTIONS[module]?.includes(option) ?? false;
}

const NO_OPTIONS: ReadonlySet<string> = new Set();

/** Options whose one value is free text (see STRING_OPTIONS), with their dashes. */
const TEXT_OPTIONS: ReadonlySet<string> = new Set([...STRING_OPTIONS].map((o) => `--${o}`));

/**
 * The table's side of reading a rule. Chain names and option-less targets are the table's own
 * shared values (one string per chain name, one Target per chain and kind), so a rule names its
 * chains with the same string objects as the chains themselves. Called only once the rule has
 * been read without error.
 */
export interface RuleContext {
  /** `-A NAME`: the table's string for chain `name`. */
  chainName(name: string): string;
  /** `-j NAME` / `-g NAME` without options: a user chain's shared Target, or a built-in target's. */
  plainTarget(kind: Target['kind'], name: string): Target;
}

/** What the option being read belongs to (plain numbers: cheaper than an enum object). */
const CTX_NONE = 0;
const CTX_MATCH = 1;
const CTX_TARGET = 2;

/** Reads rules; one instance per parse, holding the scratch arrays and the interner. */
export class RuleReader {
  // Scratch state of the rule being read, reset by read(). Fields rather than closures: this is
  // the hottest code of the parser, and per-call closures cost measurable time here.
  private readonly opts: MatchOption[] = [];
  private readonly implicitOpts: MatchOption[] = [];
  private readonly matches: Match[] = [];
  private nOpts = 0;
  private nMatches = 0;
  private nImplicit = 0;
  private implicitAt = -1;
  private implicitName = '';
  private reserveAfterMatch = false;
  /** The rule's -j/-g once read: its kind and name, and the Target itself when it has options. */
  private targetKind: Target['kind'] = 'jump';
  private targetName: string | undefined;
  private targetWithOptions: Target | undefined;
  /** The open -m/-j whose options are being read: opts[ctxStart, nOpts). */
  private ctx = CTX_NONE;
  private ctxName = '';
  private ctxGoto = false;
  private ctxAllowed: ReadonlySet<string> | undefined;
  private ctxStart = 0;

  constructor(private readonly interner: Interner) {}

  private describe(): string {
    return this.ctx === CTX_MATCH ? `-m ${this.ctxName}` : `-${this.ctxGoto ? 'g' : 'j'} ${this.ctxName}`;
  }

  private close(): void {
    if (this.ctx === CTX_MATCH) {
      this.matches[this.nMatches++] = this.interner.match(this.ctxName, this.opts, this.ctxStart, this.nOpts);
      if (this.reserveAfterMatch) {
        this.implicitAt = this.nMatches++;
        this.reserveAfterMatch = false;
      }
    } else if (this.ctx === CTX_TARGET) {
      const kind = this.ctxGoto ? 'goto' : 'jump';
      this.targetKind = kind;
      this.targetName = this.ctxName;
      // Option-less targets are the table's shared ones, asked for when the rule is complete.
      this.targetWithOptions =
        this.nOpts === this.ctxStart
          ? undefined
          : this.interner.target(kind, this.ctxName, this.opts, this.ctxStart, this.nOpts);
    }
    this.ctx = CTX_NONE;
  }

  private open(ctx: number, name: string, goto: boolean, allowed: ReadonlySet<string> | undefined): void {
    this.close();
    this.ctx = ctx;
    this.ctxName = name;
    this.ctxGoto = goto;
    this.ctxAllowed = allowed;
    this.ctxStart = this.nOpts;
  }

  /** Files an option under the open -m/-j, or under the implicit -p module; else an error. */
  private addOption(option: MatchOption, tok: string, protocol: Negatable<string> | undefined): void {
    const name = option.name;
    if (this.ctx !== CTX_NONE && (this.ctxAllowed === undefined || this.ctxAllowed.has(name))) {
      this.opts[this.nOpts++] = option;
      return;
    }
    const implicit = implicitModule(protocol);
    if (implicit && implicitAccepts(implicit, name)) {
      if (this.implicitAt < 0 && !this.reserveAfterMatch) {
        this.implicitName = implicit;
        // The implicit match goes where its first option stood: after the open -m, if any.
        if (this.ctx === CTX_MATCH) this.reserveAfterMatch = true;
        else this.implicitAt = this.nMatches++;
      }
      this.implicitOpts[this.nImplicit++] = option;
      return;
    }
    if (this.ctx !== CTX_NONE) fail(`unknown option ${tok} for ${this.describe()}`);
    fail(`unknown option ${tok} (not a rule option, and no -m module or -j target before it)`);
  }

  /**
   * Parses `buf.tokens[start..count)` as the body of a rule appended to `chain`. Throws
   * NetfilterSyntaxError with a message naming the offending argument.
   */
  read(
    buf: TokenBuffer,
    start: number,
    chain: string,
    line: number,
    prefixCounters: Counters | undefined,
    context: RuleContext,
  ): Rule {
    const { tokens, quoted, count } = buf;
    const interner = this.interner;
    this.nOpts = 0;
    this.nMatches = 0;
    this.nImplicit = 0;
    this.implicitAt = -1;
    this.reserveAfterMatch = false;
    this.targetName = undefined;
    this.targetWithOptions = undefined;
    this.ctx = CTX_NONE;

    let protocol: Negatable<string> | undefined;
    let source: Negatable<string> | undefined;
    let destination: Negatable<string> | undefined;
    let inInterface: Negatable<string> | undefined;
    let outInterface: Negatable<string> | undefined;
    let fragment: Negatable<true> | undefined;
    let counters = prefixCounters;

    let negate = false;
    let i = start;
    while (i < count) {
      const tok = tokens[i]!;
      const isQuoted = quoted[i]!;
      if (!isQuoted && tok === '!') {
        if (negate) fail('"!" given twice');
        negate = true;
        i++;
        continue;
      }
      if (!isOptionToken(tok, isQuoted)) {
        fail(`unexpected argument "${tok}"${this.ctx !== CTX_NONE ? ` after ${this.describe()}` : ''}`);
      }
      const global = GLOBAL_OPTIONS.get(tok);
      if (global === undefined) {
        if (tok.charCodeAt(1) !== DASH) {
          if (tok === '-A' || tok === '-I' || tok === '-N' || tok === '-P') {
            fail(`unexpected ${tok} inside a rule (two rules on one line?)`);
          }
          fail(`unknown option ${tok}`);
        }
        if (tok.length === 2) fail('empty option "--"');
        // A module/target option: --name [!] [values...]
        let negated = negate;
        negate = false;
        i++;
        // Old syntax `--dport ! 80`: a `!` after the name negates it only when a value follows;
        // in `--physdev-is-in ! --physdev-out veth1` the `!` belongs to the next option.
        if (isBang(buf, i) && i + 1 < count && !isOptionToken(tokens[i + 1]!, quoted[i + 1]!)) {
          if (negated) fail(`"!" given twice for ${tok}`);
          negated = true;
          i++;
        }
        const valueStart = i;
        if (TEXT_OPTIONS.has(tok) && i < count) {
          // Free text: iptables-save prints `--comment -x` unquoted (it quotes only text with
          // characters outside [A-Za-z0-9_-]), so the next argument is the value whatever it is.
          i++;
        } else {
          while (i < count && !(isBang(buf, i) || isOptionToken(tokens[i]!, quoted[i]!))) i++;
        }
        // Target options (DNAT's --to-destination) are nearly all distinct: not shared either.
        const option =
          this.ctx === CTX_TARGET
            ? interner.unsharedOption(tok, negated, tokens, valueStart, i)
            : interner.option(tok, negated, tokens, valueStart, i);
        this.addOption(option, tok, protocol);
        continue;
      }
      i++;
      switch (global) {
        case 'p':
        case 's':
        case 'd':
        case 'i':
        case 'o': {
          const flag = FLAGS[global];
          const already =
            global === 'p'
              ? protocol
              : global === 's'
                ? source
                : global === 'd'
                  ? destination
                  : global === 'i'
                    ? inInterface
                    : outInterface;
          if (already) fail(`${flag} given twice`);
          let negated = negate;
          negate = false;
          if (isBang(buf, i)) {
            if (negated) fail(`"!" given twice for ${flag}`);
            negated = true; // old syntax: -s ! 10.0.0.0/8
            i++;
          }
          const text = valueAt(buf, i, flag, 'a value');
          // Addresses are mostly distinct (one per endpoint): sharing them would only grow the
          // interner's maps. Protocols and interfaces come from a handful of values.
          const value =
            global === 's' || global === 'd' ? { value: text, negated } : interner.negatable(text, negated);
          i++;
          if (global === 'p') protocol = value;
          else if (global === 's') source = value;
          else if (global === 'd') destination = value;
          else if (global === 'i') inInterface = value;
          else outInterface = value;
          break;
        }
        case 'f':
          if (fragment) fail('-f given twice');
          fragment = negate ? NEGATED_FRAGMENT : FRAGMENT;
          negate = false;
          break;
        case 'm': {
          if (negate) fail('"!" cannot negate -m (negate the module\'s option instead)');
          const module = valueAt(buf, i, '-m', 'a module name');
          i++;
          this.open(CTX_MATCH, module, false, knownMatchOptions(module));
          break;
        }
        case 'j':
        case 'g': {
          if (negate) fail(`"!" cannot negate -${global}`);
          if (this.targetName !== undefined || this.ctx === CTX_TARGET)
            fail(`more than one target (-${global} after -j or -g)`);
          const name = valueAt(buf, i, FLAGS[global], 'a target');
          i++;
          // A goto names a chain and takes no options; a jump may be a target extension.
          const goto = global === 'g';
          this.open(CTX_TARGET, name, goto, goto ? NO_OPTIONS : knownTargetOptions(name));
          break;
        }
        case 'c': {
          if (negate) fail('"!" cannot negate -c');
          if (counters) fail('counters given twice');
          const packets = parseCounter(i < count && !quoted[i] ? tokens[i] : undefined, '-c packets');
          const bytes = parseCounter(i + 1 < count && !quoted[i + 1] ? tokens[i + 1] : undefined, '-c bytes');
          counters = interner.counters(packets, bytes);
          i += 2;
          break;
        }
        default:
          assertNever(global, 'rule option');
      }
    }
    if (negate) fail('"!" at the end of the rule negates nothing');
    this.close();
    if (this.implicitAt >= 0) {
      this.matches[this.implicitAt] = interner.match(this.implicitName, this.implicitOpts, 0, this.nImplicit);
    }
    // The rule's own chain first, then its target's: chains are created in order of first mention.
    const chainName = context.chainName(chain);
    const targetName = this.targetName;
    const target =
      targetName === undefined
        ? undefined
        : (this.targetWithOptions ?? context.plainTarget(this.targetKind, targetName));

    // Every field in one literal, absent ones as undefined: one hidden class for all rules and no
    // out-of-object property store per rule (adding fields one by one cost 100,000 extra objects
    // on a large dump). `toEqual` and JSON treat an undefined field as absent.
    const rule: Rule = {
      chain: chainName,
      counters,
      protocol,
      source,
      destination,
      inInterface,
      outInterface,
      fragment,
      matches: interner.matchList(this.matches, this.nMatches),
      target,
      line,
    };
    return rule;
  }
}

function isBang(buf: TokenBuffer, i: number): boolean {
  return i < buf.count && buf.tokens[i] === '!' && !buf.quoted[i];
}

/** The value after `flag`; the message is built only on failure (this runs for every option). */
function valueAt(buf: TokenBuffer, i: number, flag: string, noun: string): string {
  const v = buf.tokens[i];
  if (i >= buf.count || v === undefined || isOptionToken(v, buf.quoted[i]!) || isBang(buf, i)) {
    fail(`${flag} needs ${noun}`);
  }
  return v;
}

const FLAGS = { p: '-p', s: '-s', d: '-d', i: '-i', o: '-o', j: '-j', g: '-g' } as const;

const FRAGMENT: Negatable<true> = { value: true, negated: false };
const NEGATED_FRAGMENT: Negatable<true> = { value: true, negated: true };
