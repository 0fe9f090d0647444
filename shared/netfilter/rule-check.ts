// The parser's quick look at one plain rule line: is it certainly valid, and where are the few facts the
// topology asks of every rule (target, protocol, single --dport, first comment, statistic
// probability, DNAT destination, whether it tests more than protocol and port)?
//
// It accepts a strict subset of what parse-rule.ts accepts: new-syntax negation, -p/-s/-d/-i/-o
// at most once each, `-m MODULE` with that module's known options, one `-j TARGET` with its known
// options or `-g CHAIN`. Anything else (old `--dport ! 80` negation, implicit `-p tcp --dport`,
// long option spellings, -c, -f, an unknown option) answers "not sure", and the caller reads the
// line with the full rule reader, which decides and words the error. So accepting here never
// lets through a rule the parser rejects (lazy-rule.test.ts compares the two on every fixture and on generated rules). A fact that is not
// in the simple shape (two comments, a negated port, a DNAT with flags) is marked ASK_*: its
// reader decodes the whole rule instead of guessing.

import {
  GLOBAL_OPTIONS,
  type GlobalOption,
  knownMatchOptions,
  knownTargetOptions,
  LONGEST_KNOWN_OPTION_TARGET,
  STRING_OPTIONS,
} from './known-names.js';
import { type LineTokens, tokenIs, tokenText } from './line-tokens.js';

/** Bits of RuleScan.flags. */
export const HAS_CONDITIONS = 1;
export const GOTO = 2;
export const TARGET_OPTIONS = 4;
export const MOD_RECENT = 8;
export const MOD_STATISTIC = 16;
export const MOD_ADDRTYPE = 32;
export const MOD_SET = 64;
export const ASK_COMMENT = 128;
export const ASK_PROBABILITY = 256;
export const ASK_DNAT = 512;
export const ASK_DPORT = 1024;
export const DESTINATION_NEGATED = 2048;

/** RuleScan.protocol: `-p` absent, the three kube-proxy protocols (positive, lower case), or other. */
export const PROTO_NONE = 0;
export const PROTO_TCP = 1;
export const PROTO_UDP = 2;
export const PROTO_SCTP = 3;
export const PROTO_ASK = 4;

/** What checkRule found; offsets are into the dump text, -1 when absent. */
export interface RuleScan {
  flags: number;
  protocol: number;
  /** The single positive `--dport N`, -1 when none. */
  dport: number;
  /** Argument index of the -j/-g name, -1 when the rule has no target. */
  targetToken: number;
  commentStart: number;
  commentEnd: number;
  probabilityStart: number;
  probabilityEnd: number;
  dnatStart: number;
  dnatEnd: number;
  sourceStart: number;
  sourceEnd: number;
  destinationStart: number;
  destinationEnd: number;
}

export function createRuleScan(): RuleScan {
  return {
    flags: 0,
    protocol: PROTO_NONE,
    dport: -1,
    targetToken: -1,
    commentStart: -1,
    commentEnd: -1,
    probabilityStart: -1,
    probabilityEnd: -1,
    dnatStart: -1,
    dnatEnd: -1,
    sourceStart: -1,
    sourceEnd: -1,
    destinationStart: -1,
    destinationEnd: -1,
  };
}

const DASH = 45;
const BANG = 33;
const ZERO = 48;
const NINE = 57;

const TEXT_OPTIONS: ReadonlySet<string> = new Set([...STRING_OPTIONS].map((o) => `--${o}`));

// Modules whose facts the scan keeps; any other module is a condition (see hasConditions).
const M_OTHER = 0;
const M_COMMENT = 1;
const M_PORTS = 2;
const M_STATISTIC = 3;

function moduleKind(module: string): number {
  if (module === 'comment') return M_COMMENT;
  if (module === 'tcp' || module === 'udp' || module === 'sctp') return M_PORTS;
  return module === 'statistic' ? M_STATISTIC : M_OTHER;
}

/** The per-match facts while its options are read. */
class MatchState {
  kind = M_OTHER;
  options = 0;
  /** tcp/udp/sctp: every option so far is a positive --dport/--destination-port. */
  onlyDport = true;
  /** The one-value positive --dport of a one-option match, else -1 (or -2: not simple). */
  dport = -1;
  /** comment / statistic: the value offsets of the simple shape. */
  valueStart = -1;
  valueEnd = -1;
  simple = true;
  sawMode = false;

  reset(kind: number): void {
    this.kind = kind;
    this.options = 0;
    this.onlyDport = true;
    this.dport = -1;
    this.valueStart = -1;
    this.valueEnd = -1;
    this.simple = true;
    this.sawMode = false;
  }
}

const CTX_NONE = 0;
const CTX_MATCH = 1;
const CTX_TARGET = 2;

/** Bare `-x` / `--xyz` that is not a negative number: the rule reader's isOptionToken. */
function isOption(text: string, t: LineTokens, i: number): boolean {
  if (t.quoted[i]) return false;
  const s = t.starts[i]!;
  if (t.ends[i]! - s < 2 || text.charCodeAt(s) !== DASH) return false;
  const c = text.charCodeAt(s + 1);
  return c < ZERO || c > NINE;
}

function isBang(text: string, t: LineTokens, i: number): boolean {
  return t.quoted[i] === 0 && t.ends[i]! - t.starts[i]! === 1 && text.charCodeAt(t.starts[i]!) === BANG;
}

function isValue(text: string, t: LineTokens, i: number): boolean {
  return i < t.count && !isBang(text, t, i) && !isOption(text, t, i);
}

/** A port as parsePort reads it, from 1 to 5 digits; -1 otherwise. */
function portAt(text: string, start: number, end: number): number {
  if (end <= start || end - start > 5) return -1;
  let n = 0;
  for (let k = start; k < end; k++) {
    const c = text.charCodeAt(k);
    if (c < ZERO || c > NINE) return -1;
    n = n * 10 + (c - ZERO);
  }
  return n <= 65535 ? n : -1;
}

/** What checkRule asks of an option token, found with one lookup per token. */
interface OptionInfo {
  readonly global: GlobalOption | undefined;
  /** Without the dashes (`dport` for `--dport`): no string per rule. */
  readonly name: string;
  /** Takes one (quoted) value, whatever it looks like: --comment and the like. */
  readonly text: boolean;
}

/** What checkRule asks of a `-m` module name. */
interface ModuleInfo {
  readonly allowed: ReadonlySet<string> | undefined;
  readonly kind: number;
  /** The MOD_* bit of the module, or 0. */
  readonly flag: number;
}

/** GLOBAL_OPTIONS's one-letter options by the character after the dash. */
const SHORT_OPTIONS: (GlobalOption | undefined)[] = (() => {
  const table: (GlobalOption | undefined)[] = new Array(128).fill(undefined);
  for (const [option, letter] of GLOBAL_OPTIONS) {
    if (option.length === 2) table[option.charCodeAt(1)] = letter;
  }
  return table;
})();

/** Made-up option or module names in a dump must not grow the caches without bound. */
const MAX_CACHED = 4096;
const optionInfos = new Map<string, OptionInfo>();
const moduleInfos = new Map<string, ModuleInfo>();

function optionInfo(tok: string): OptionInfo {
  let info = optionInfos.get(tok);
  if (info === undefined) {
    info = { global: GLOBAL_OPTIONS.get(tok), name: tok.slice(2), text: TEXT_OPTIONS.has(tok) };
    if (optionInfos.size >= MAX_CACHED) optionInfos.clear();
    optionInfos.set(tok, info);
  }
  return info;
}

function moduleInfo(module: string): ModuleInfo {
  let info = moduleInfos.get(module);
  if (info === undefined) {
    const flag =
      module === 'recent'
        ? MOD_RECENT
        : module === 'statistic'
          ? MOD_STATISTIC
          : module === 'addrtype'
            ? MOD_ADDRTYPE
            : module === 'set'
              ? MOD_SET
              : 0;
    info = { allowed: knownMatchOptions(module), kind: moduleKind(module), flag };
    if (moduleInfos.size >= MAX_CACHED) moduleInfos.clear();
    moduleInfos.set(module, info);
  }
  return info;
}

/** Per-rule tallies that closing a match updates; a reused object, not closure variables. */
class Tally {
  flags = 0;
  portMatches = 0;
  dport = -1;
  comments = 0;
  statistics = 0;

  reset(): void {
    this.flags = 0;
    this.portMatches = 0;
    this.dport = -1;
    this.comments = 0;
    this.statistics = 0;
  }

  /** Files the facts of the match whose options were just read. */
  closeMatch(m: MatchState, out: RuleScan): void {
    if (m.kind === M_COMMENT) {
      this.comments++;
      if (this.comments === 1) {
        if (m.options === 1 && m.simple && m.valueStart >= 0) {
          out.commentStart = m.valueStart;
          out.commentEnd = m.valueEnd;
        } else this.flags |= ASK_COMMENT;
      }
      return;
    }
    if (m.kind === M_PORTS) {
      this.portMatches++;
      if (!m.onlyDport) this.flags |= HAS_CONDITIONS;
      this.dport = this.portMatches === 1 && m.options === 1 ? m.dport : -2;
      return;
    }
    this.flags |= HAS_CONDITIONS;
    if (m.kind === M_STATISTIC) {
      this.statistics++;
      if (this.statistics === 1) {
        if (m.options === 2 && m.simple && m.sawMode && m.valueStart >= 0) {
          out.probabilityStart = m.valueStart;
          out.probabilityEnd = m.valueEnd;
        } else this.flags |= ASK_PROBABILITY;
      }
    }
  }
}

/** Reused by every call (one rule at a time). */
const match = new MatchState();
const tally = new Tally();

/**
 * Checks the arguments `from..count` of `t` (the rule after `-A CHAIN`). True: the rule reader
 * accepts them too, and `out` holds the facts. False: not sure; read the rule the full way.
 */
export function checkRule(text: string, t: LineTokens, from: number, out: RuleScan): boolean {
  const count = t.count;
  tally.reset();
  let protocol = PROTO_NONE;
  let seen = 0; // bits of -p -s -d -i -o
  let ctx = CTX_NONE;
  let allowed: ReadonlySet<string> | undefined;
  let dnat = false;
  let negate = false;
  out.targetToken = -1;
  out.commentStart = -1;
  out.commentEnd = -1;
  out.probabilityStart = -1;
  out.probabilityEnd = -1;
  out.dnatStart = -1;
  out.dnatEnd = -1;
  out.sourceStart = -1;
  out.sourceEnd = -1;
  out.destinationStart = -1;
  out.destinationEnd = -1;

  let i = from;
  while (i < count) {
    if (isBang(text, t, i)) {
      if (negate) return false;
      negate = true;
      i++;
      continue;
    }
    if (!isOption(text, t, i)) return false;
    // `-p`, `-m`, `-j` and the other one-letter options are most of a rule's options: they are
    // told by their letter, without their string.
    const short = t.ends[i]! - t.starts[i]! === 2;
    let global: GlobalOption | undefined;
    let tok = '';
    let info: OptionInfo | undefined;
    if (short) {
      global = SHORT_OPTIONS[text.charCodeAt(t.starts[i]! + 1)];
      if (global === undefined) return false;
    } else {
      tok = tokenText(text, t, i);
      info = optionInfo(tok);
      global = info.global;
    }
    if (global === undefined) {
      // --name [values]: an option of the open -m or -j, known to it (`info` is always set here).
      if (info === undefined || tok.charCodeAt(1) !== DASH || ctx === CTX_NONE) return false;
      const name = info.name;
      if (allowed !== undefined && !allowed.has(name)) return false;
      const negated = negate;
      negate = false;
      i++;
      if (i < count && isBang(text, t, i)) return false; // old syntax: the full reader decides
      const valueStart = i;
      if (info.text) {
        if (i < count) i++;
      } else {
        while (isValue(text, t, i)) i++;
      }
      const values = i - valueStart;
      if (ctx === CTX_TARGET) {
        tally.flags |= TARGET_OPTIONS;
        if (dnat) {
          if (name === 'to-destination' && values === 1 && !negated && out.dnatStart === -1) {
            out.dnatStart = t.starts[valueStart]!;
            out.dnatEnd = t.ends[valueStart]!;
          } else tally.flags |= ASK_DNAT;
        }
        continue;
      }
      const m = match;
      m.options++;
      if (m.kind === M_PORTS) {
        const isDport = name === 'dport' || name === 'destination-port';
        if (!isDport || negated) m.onlyDport = false;
        m.dport =
          isDport && !negated && values === 1 ? portAt(text, t.starts[valueStart]!, t.ends[valueStart]!) : -2;
        if (m.dport === -1) m.dport = -2; // a --dport the decoder may read otherwise (a range)
      } else if (m.kind === M_COMMENT) {
        if (values !== 1 || negated) m.simple = false;
        else {
          m.valueStart = t.starts[valueStart]!;
          m.valueEnd = t.ends[valueStart]!;
        }
      } else if (m.kind === M_STATISTIC) {
        if (negated || values !== 1) m.simple = false;
        else if (name === 'mode') {
          if (m.sawMode || !tokenIs(text, t, valueStart, 'random')) m.simple = false;
          m.sawMode = true;
        } else if (name === 'probability' && m.valueStart < 0) {
          m.valueStart = t.starts[valueStart]!;
          m.valueEnd = t.ends[valueStart]!;
        } else m.simple = false;
      }
      continue;
    }
    i++;
    switch (global) {
      case 'p':
      case 's':
      case 'd':
      case 'i':
      case 'o': {
        const bit = global === 'p' ? 1 : global === 's' ? 2 : global === 'd' ? 4 : global === 'i' ? 8 : 16;
        // Long spellings (--source) are rare: the full reader reads them.
        if (seen & bit || !short || !isValue(text, t, i)) return false;
        seen |= bit;
        const negated = negate;
        negate = false;
        if (global === 'p') {
          if (negated) {
            tally.flags |= HAS_CONDITIONS;
            protocol = PROTO_ASK;
          } else
            protocol = tokenIs(text, t, i, 'tcp')
              ? PROTO_TCP
              : tokenIs(text, t, i, 'udp')
                ? PROTO_UDP
                : tokenIs(text, t, i, 'sctp')
                  ? PROTO_SCTP
                  : PROTO_ASK;
        } else {
          tally.flags |= HAS_CONDITIONS;
          if (global === 's') {
            out.sourceStart = t.starts[i]!;
            out.sourceEnd = t.ends[i]!;
          } else if (global === 'd') {
            out.destinationStart = t.starts[i]!;
            out.destinationEnd = t.ends[i]!;
            if (negated) tally.flags |= DESTINATION_NEGATED;
          }
        }
        i++;
        break;
      }
      case 'm': {
        if (negate || !short || !isValue(text, t, i)) return false;
        if (ctx === CTX_MATCH) tally.closeMatch(match, out);
        const module = moduleInfo(tokenText(text, t, i));
        i++;
        ctx = CTX_MATCH;
        allowed = module.allowed;
        match.reset(module.kind);
        tally.flags |= module.flag;
        break;
      }
      case 'j':
      case 'g': {
        if (negate || !short || out.targetToken >= 0 || !isValue(text, t, i)) return false;
        if (ctx === CTX_MATCH) tally.closeMatch(match, out);
        out.targetToken = i;
        const goto = global === 'g';
        if (goto) tally.flags |= GOTO;
        // A goto takes no options: the empty set makes any option "not sure".
        allowed = goto ? NO_OPTIONS : targetOptions(text, t, i);
        dnat = !goto && tokenIs(text, t, i, 'DNAT');
        ctx = CTX_TARGET;
        i++;
        break;
      }
      default:
        // -f, -c: left to the full reader.
        return false;
    }
  }
  if (negate) return false;
  if (ctx === CTX_MATCH) tally.closeMatch(match, out);
  if (dnat && out.dnatStart === -1) tally.flags |= ASK_DNAT;
  if (tally.dport === -2) tally.flags |= ASK_DPORT;
  out.flags = tally.flags;
  out.protocol = protocol;
  out.dport = tally.dport < 0 ? -1 : tally.dport;
  return true;
}

const NO_OPTIONS: ReadonlySet<string> = new Set();

/**
 * knownTargetOptions of argument `i`. Targets with known options are short words without a dash;
 * a jump to a chain (KUBE-SEP-..., tens of thousands of distinct names) is answered without
 * making its string.
 */
function targetOptions(text: string, t: LineTokens, i: number): ReadonlySet<string> | undefined {
  const s = t.starts[i]!;
  const e = t.ends[i]!;
  if (e - s > LONGEST_KNOWN_OPTION_TARGET) return undefined;
  for (let k = s; k < e; k++) if (text.charCodeAt(k) === DASH) return undefined;
  return knownTargetOptions(tokenText(text, t, i));
}
