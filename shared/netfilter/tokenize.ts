// Splits one line of iptables-save / iptables-restore text into arguments, the way
// iptables-restore does (xshared.c add_param_to_argv): blanks separate arguments, a `"` opens a
// quoted run in which blanks are kept and `\` escapes the next character, the closing `"` ends the
// argument. Outside quotes `\` and `'` are ordinary characters.
//
// Hand-written over char codes, one pass, no regular expressions: a 10 MB dump has ~1.5 million
// arguments and this is the hottest loop of the parser. The caller owns a TokenBuffer and reuses it
// for every line, and repeated short arguments (`-A`, `-m`, `tcp`, `--dport`) come from a small
// intern table: most of a dump is repetition, and a string that is not allocated costs no garbage
// collection, which dominated parse time before.

export interface TokenBuffer {
  /** Arguments of the last tokenized line; entries past `count` are stale. */
  readonly tokens: string[];
  /**
   * Whether each argument was (partly) quoted. A quoted `-x` or `!` is a value, never an option or
   * a negation: `--comment "-x"` must not start a new option.
   */
  readonly quoted: boolean[];
  count: number;
  /** Direct-mapped cache of recent argument strings, indexed by a hash of their characters. */
  readonly intern: (string | undefined)[];
}

const MAX_INTERN_BITS = 14;
/**
 * Longer arguments (chain names, addresses, comments) repeat far apart if at all: looking them up
 * missed the table and compared against a cold string most of the time, costing more than the
 * copy. The parser shares the values that matter (chain names through the table's chains,
 * comments through the Interner) after tokenizing.
 */
const INTERN_MAX_LENGTH = 16;

/** `expectedSize`: length of the text to tokenize, to size the intern table (small texts, small table). */
export function createTokenBuffer(expectedSize = 1 << 20): TokenBuffer {
  const bits = Math.max(6, Math.min(MAX_INTERN_BITS, Math.ceil(Math.log2(expectedSize / 32 + 1))));
  return { tokens: [], quoted: [], count: 0, intern: new Array(1 << bits).fill(undefined) };
}

/** `text[start, end)` as a string, reusing an earlier equal string when the table has one. */
function interned(buf: TokenBuffer, text: string, start: number, end: number, hash: number): string {
  const len = end - start;
  if (len > INTERN_MAX_LENGTH) return text.slice(start, end);
  const mask = buf.intern.length - 1;
  const slot = (hash ^ (hash >>> MAX_INTERN_BITS) ^ len) & mask;
  const cached = buf.intern[slot];
  if (cached !== undefined && cached.length === len && text.startsWith(cached, start)) return cached;
  const fresh = text.slice(start, end);
  buf.intern[slot] = fresh;
  return fresh;
}

/** A tokenizer failure; `column` is 1-based within the line. */
export interface TokenizeError {
  readonly message: string;
  readonly column: number;
}

const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const BACKSLASH = 92;
const DEL = 127;
const REPLACEMENT_CHAR = 0xfffd;

/**
 * A control character (other than tab) or U+FFFD (what a UTF-8 decoder makes of invalid bytes)
 * means binary data, never iptables text: report it instead of guessing.
 */
export function isBinaryChar(c: number): boolean {
  return (c < SPACE && c !== TAB) || c === DEL || c === REPLACEMENT_CHAR;
}

export function describeBinaryChar(c: number): string {
  if (c === REPLACEMENT_CHAR) return 'invalid UTF-8 (binary data?)';
  if (c === 0) return 'a NUL byte (binary data?)';
  return `control character 0x${c.toString(16).padStart(2, '0')} (binary data?)`;
}

function push(buf: TokenBuffer, token: string, quoted: boolean): void {
  const i = buf.count;
  if (i < buf.tokens.length) {
    buf.tokens[i] = token;
    buf.quoted[i] = quoted;
  } else {
    buf.tokens.push(token);
    buf.quoted.push(quoted);
  }
  buf.count = i + 1;
}

/**
 * Tokenizes `text[start, end)` into `buf` (resetting it). Returns an error for an unterminated
 * quote or binary data; otherwise undefined.
 */
export function tokenizeLine(
  text: string,
  start: number,
  end: number,
  buf: TokenBuffer,
): TokenizeError | undefined {
  buf.count = 0;
  let i = start;
  while (i < end) {
    let c = text.charCodeAt(i);
    if (c === SPACE || c === TAB) {
      i++;
      continue;
    }
    // Start of an argument. Fast path: a run of plain characters becomes one substring.
    const tokenStart = i;
    let hash = 0;
    while (i < end) {
      c = text.charCodeAt(i);
      // Fast path: printable ASCII after the quote (nearly every character of a dump).
      if (c <= QUOTE || c >= DEL) {
        if (c === SPACE || c === TAB || c === QUOTE) break;
        if (isBinaryChar(c)) return { message: describeBinaryChar(c), column: i - start + 1 };
      }
      hash = (Math.imul(hash, 31) + c) | 0;
      i++;
    }
    if (i >= end || c !== QUOTE) {
      push(buf, interned(buf, text, tokenStart, i, hash), false);
      continue;
    }
    // A quote inside or at the start of the argument: slow path with unescaping.
    const quoteColumn = i - start + 1;
    if (i === tokenStart) {
      // `"plain text"` without escapes (most comments): intern the inside of the quotes.
      let j = i + 1;
      hash = 0;
      while (j < end) {
        c = text.charCodeAt(j);
        if (c === QUOTE || c === BACKSLASH || isBinaryChar(c)) break;
        hash = (Math.imul(hash, 31) + c) | 0;
        j++;
      }
      if (j < end && c === QUOTE) {
        push(buf, interned(buf, text, i + 1, j, hash), true);
        i = j + 1;
        continue;
      }
    }
    let value = text.slice(tokenStart, i);
    i++; // opening quote
    let runStart = i;
    let closed = false;
    while (i < end) {
      c = text.charCodeAt(i);
      if (c === QUOTE) {
        value += text.slice(runStart, i);
        i++;
        closed = true;
        break;
      }
      if (c === BACKSLASH) {
        value += text.slice(runStart, i);
        if (i + 1 >= end) break;
        const next = text.charCodeAt(i + 1);
        if (isBinaryChar(next)) return { message: describeBinaryChar(next), column: i + 1 - start + 1 };
        value += text[i + 1];
        i += 2;
        runStart = i;
        continue;
      }
      if (isBinaryChar(c)) return { message: describeBinaryChar(c), column: i - start + 1 };
      i++;
    }
    if (!closed) return { message: 'unterminated quote', column: quoteColumn };
    // Like iptables-restore, the closing quote ends the argument even without a blank after it.
    push(buf, value, true);
  }
  return undefined;
}
