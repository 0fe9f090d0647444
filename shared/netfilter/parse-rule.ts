// Turns the arguments of one rule (everything after `-A CHAIN`) into a Rule.
//
// iptables accepts options in any order and with `!` before an option (`! -s X`, `! --dport 80`)
// or, in the old syntax, after it (`-s ! X`, `--dport ! 80`); both are read. Options starting with
// `--` belong to the most recent `-m MODULE` or `-j TARGET`; their values are every following
// argument up to the next option or `!` (quoted arguments are always values). Unknown modules and
// targets keep their options verbatim; the modules in known-names.ts reject options they do not
// have, so a typo is an error rather than a rule that silently means something else.

import {
  GLOBAL_OPTIONS,
  IMPLICIT_PROTOCOL_MATCHES,
  knownMatchOptions,
  knownTargetOptions,
} from './known-names.js';
import type { Counters, Match, MatchOption, Negatable, Rule, Target } from './model.js';
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

function isBang(buf: TokenBuffer, i: number): boolean {
  return i < buf.count && buf.tokens[i] === '!' && !buf.quoted[i];
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

interface OptionContext {
  readonly describe: string;
  readonly options: MatchOption[];
  /** Undefined: any option is kept verbatim. */
  readonly allowed: ReadonlySet<string> | undefined;
}

const NO_OPTIONS: ReadonlySet<string> = new Set();

interface RuleState {
  protocol?: Negatable<string>;
  source?: Negatable<string>;
  destination?: Negatable<string>;
  inInterface?: Negatable<string>;
  outInterface?: Negatable<string>;
  fragment?: Negatable<true>;
  counters?: Counters;
  readonly matches: Match[];
  target?: Target;
}

const VALUE_FIELDS = {
  p: ['protocol', '-p'],
  s: ['source', '-s'],
  d: ['destination', '-d'],
  i: ['inInterface', '-i'],
  o: ['outInterface', '-o'],
} as const;

/**
 * Parses `buf.tokens[start..count)` as the body of a rule appended to `chain`. Throws
 * NetfilterSyntaxError with a message naming the offending argument.
 */
export function parseRuleArgs(
  buf: TokenBuffer,
  start: number,
  chain: string,
  line: number,
  counters: Counters | undefined,
): Rule {
  const { tokens, quoted, count } = buf;
  const state: RuleState = { matches: [] };
  if (counters) state.counters = counters;
  let ctx: OptionContext | undefined;
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
      fail(`unexpected argument "${tok}"${ctx ? ` after ${ctx.describe}` : ''}`);
    }
    const global = GLOBAL_OPTIONS.get(tok);
    if (global === undefined) {
      if (tok.charCodeAt(1) !== DASH) {
        if (tok === '-A' || tok === '-I' || tok === '-N' || tok === '-P') {
          fail(`unexpected ${tok} inside a rule (two rules on one line?)`);
        }
        fail(`unknown option ${tok}`);
      }
      // A module/target option: --name [!] [values...]
      const name = tok.slice(2);
      if (name.length === 0) fail('empty option "--"');
      const sink = optionSink(state, ctx, name, tok);
      let negated = negate;
      negate = false;
      i++;
      if (isBang(buf, i)) {
        if (negated) fail(`"!" given twice for ${tok}`);
        negated = true; // old syntax: --dport ! 80
        i++;
      }
      const valueStart = i;
      while (i < count && !(isBang(buf, i) || isOptionToken(tokens[i]!, quoted[i]!))) i++;
      sink.push({ name, negated, values: tokens.slice(valueStart, i) });
      continue;
    }
    i++;
    switch (global) {
      case 'p':
      case 's':
      case 'd':
      case 'i':
      case 'o': {
        const [field, flag] = VALUE_FIELDS[global];
        if (state[field]) fail(`${flag} given twice`);
        let negated = negate;
        negate = false;
        if (isBang(buf, i)) {
          if (negated) fail(`"!" given twice for ${flag}`);
          negated = true; // old syntax: -s ! 10.0.0.0/8
          i++;
        }
        const value = tokens[i];
        if (i >= count || value === undefined || isOptionToken(value, quoted[i]!) || isBang(buf, i)) {
          fail(`${flag} needs a value`);
        }
        state[field] = { value, negated };
        i++;
        break;
      }
      case 'f':
        if (state.fragment) fail('-f given twice');
        state.fragment = { value: true, negated: negate };
        negate = false;
        break;
      case 'm': {
        if (negate) fail('"!" cannot negate -m (negate the module\'s option instead)');
        const module = tokens[i];
        if (i >= count || module === undefined || isOptionToken(module, quoted[i]!) || isBang(buf, i)) {
          fail('-m needs a module name');
        }
        i++;
        const match: Match = { module, options: [] };
        state.matches.push(match);
        ctx = {
          describe: `-m ${module}`,
          options: match.options as MatchOption[],
          allowed: knownMatchOptions(module),
        };
        break;
      }
      case 'j':
      case 'g': {
        if (negate) fail(`"!" cannot negate -${global}`);
        if (state.target)
          fail(`more than one target (-${global} after -${state.target.kind === 'goto' ? 'g' : 'j'})`);
        const name = tokens[i];
        if (i >= count || name === undefined || isOptionToken(name, quoted[i]!) || isBang(buf, i)) {
          fail(`-${global} needs a target`);
        }
        i++;
        const options: MatchOption[] = [];
        state.target = { kind: global === 'g' ? 'goto' : 'jump', name, options };
        // A goto names a chain and takes no options; a jump may be a target extension.
        const allowed = global === 'g' ? NO_OPTIONS : knownTargetOptions(name);
        ctx = { describe: `-${global} ${name}`, options, allowed };
        break;
      }
      case 'c': {
        if (negate) fail('"!" cannot negate -c');
        if (state.counters) fail('counters given twice');
        const packets = parseCounter(quoted[i] ? undefined : tokens[i], '-c packets');
        const bytes = parseCounter(quoted[i + 1] ? undefined : tokens[i + 1], '-c bytes');
        state.counters = { packets, bytes };
        i += 2;
        break;
      }
    }
  }
  if (negate) fail('"!" at the end of the rule negates nothing');
  return buildRule(state, chain, line);
}

/** Where a `--name` option goes: the current module/target, or an implicitly loaded -p module. */
function optionSink(
  state: RuleState,
  ctx: OptionContext | undefined,
  name: string,
  tok: string,
): MatchOption[] {
  if (ctx && (ctx.allowed === undefined || ctx.allowed.has(name))) return ctx.options;
  const implicit = implicitModule(state.protocol);
  if (implicit && implicitAccepts(implicit, name)) {
    let match = state.matches.findLast((m) => m.module === implicit);
    if (!match) {
      match = { module: implicit, options: [] };
      state.matches.push(match);
    }
    return match.options as MatchOption[];
  }
  if (ctx) fail(`unknown option ${tok} for ${ctx.describe}`);
  fail(`unknown option ${tok} (not a rule option, and no -m module or -j target before it)`);
}

function buildRule(s: RuleState, chain: string, line: number): Rule {
  // Only present fields are set, so rules compare equal however they were produced.
  const rule: {
    -readonly [K in keyof Rule]: Rule[K];
  } = { chain, matches: s.matches };
  if (s.counters) rule.counters = s.counters;
  if (s.protocol) rule.protocol = s.protocol;
  if (s.source) rule.source = s.source;
  if (s.destination) rule.destination = s.destination;
  if (s.inInterface) rule.inInterface = s.inInterface;
  if (s.outInterface) rule.outInterface = s.outInterface;
  if (s.fragment) rule.fragment = s.fragment;
  if (s.target) rule.target = s.target;
  rule.line = line;
  return rule;
}
