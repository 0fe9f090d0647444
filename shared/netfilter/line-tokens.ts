// Argument boundaries of one rule line, as offsets into the dump: the parser's plain-line reading (lazy-read.ts)
// checks and indexes a rule without making a string per argument. Only the plain case is handled:
// blank-separated arguments, each either bare or one whole `"..."` without escapes. Anything else
// (a backslash inside quotes, a quote inside an argument, a control character) makes the scan
// give up, and the caller reads the line with the full tokenizer (tokenize.ts), which applies
// iptables-restore's quoting rules and reports errors. Where both accept a line they agree on
// every argument (lazy-rule.test.ts).

export interface LineTokens {
  /** Offsets of each argument's value (inside the quotes for a quoted one); past `count`: stale. */
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly quoted: Uint8Array;
  count: number;
  /** Direct-mapped cache of short argument strings (options, module and target names). */
  readonly cache: (string | undefined)[];
}

/** More arguments than any real rule has; such a line is left to the full tokenizer. */
const MAX_TOKENS = 256;
const CACHE_BITS = 12;
/** Longer arguments are sliced every time they are asked for (they rarely are: see `tokenText`). */
const CACHE_MAX_LENGTH = 40;

const SPACE = 32;
const QUOTE = 34;
const BACKSLASH = 92;
const DEL = 127;

export function createLineTokens(): LineTokens {
  return {
    starts: new Int32Array(MAX_TOKENS),
    ends: new Int32Array(MAX_TOKENS),
    quoted: new Uint8Array(MAX_TOKENS),
    count: 0,
    cache: new Array(1 << CACHE_BITS).fill(undefined),
  };
}

/**
 * Splits `text[start, end)` into `out`. False when the line is not the plain case above (the
 * caller then uses the full tokenizer); tabs count as not plain too, so that one rule is enough.
 */
export function scanLineTokens(text: string, start: number, end: number, out: LineTokens): boolean {
  const { starts, ends, quoted } = out;
  let n = 0;
  let i = start;
  while (i < end) {
    let c = text.charCodeAt(i);
    if (c === SPACE) {
      i++;
      continue;
    }
    if (n === MAX_TOKENS) return false;
    if (c === QUOTE) {
      const from = i + 1;
      i = from;
      while (i < end) {
        c = text.charCodeAt(i);
        if (c === QUOTE) break;
        // A backslash escapes in quotes; control characters are errors: the full tokenizer's job.
        if (c === BACKSLASH || c < SPACE || c >= DEL) return false;
        i++;
      }
      if (i >= end) return false;
      starts[n] = from;
      ends[n] = i;
      quoted[n] = 1;
      n++;
      i++;
      // `"a"b` is two arguments for iptables-restore: not the plain case.
      if (i < end && text.charCodeAt(i) !== SPACE) return false;
      continue;
    }
    const from = i;
    while (i < end) {
      c = text.charCodeAt(i);
      if (c <= QUOTE || c >= DEL) {
        if (c === SPACE) break;
        if (c === QUOTE || c < SPACE || c >= DEL) return false;
      }
      i++;
    }
    starts[n] = from;
    ends[n] = i;
    quoted[n] = 0;
    n++;
  }
  out.count = n;
  return true;
}

/** Argument `i` as a string; short ones come from the cache, so asking costs no allocation. */
export function tokenText(text: string, t: LineTokens, i: number): string {
  const start = t.starts[i]!;
  const end = t.ends[i]!;
  const len = end - start;
  if (len > CACHE_MAX_LENGTH) return text.slice(start, end);
  let hash = len;
  for (let k = start; k < end; k++) hash = (Math.imul(hash, 31) + text.charCodeAt(k)) | 0;
  const slot = (hash ^ (hash >>> CACHE_BITS)) & (t.cache.length - 1);
  const cached = t.cache[slot];
  if (cached !== undefined && cached.length === len && text.startsWith(cached, start)) return cached;
  const fresh = text.slice(start, end);
  t.cache[slot] = fresh;
  return fresh;
}

/** Whether argument `i` is exactly `word` (no string made). */
export function tokenIs(text: string, t: LineTokens, i: number, word: string): boolean {
  const start = t.starts[i]!;
  return t.ends[i]! - start === word.length && text.startsWith(word, start);
}
