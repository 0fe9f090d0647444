// The one error the readers' inner steps throw. The public entry points (read.ts) catch it and
// return the project's ParseError (shared/netfilter) as data: `{ok: false, error}` with the line,
// the offending text and one clear message. Nothing else ever leaves a reader.
import type { ParseError } from '../netfilter/parse';

/** Bounds for untrusted input: far above any real ruleset, far below what would hurt us. */
export const NFT_LIMITS = {
  /** Whole input (text or JSON), in characters. */
  maxInput: 64 * 1024 * 1024,
  /** One line of text (a numgen vmap of a big service is one long line). */
  maxLine: 4 * 1024 * 1024,
  /** Nested braces in text; nested expressions in JSON. */
  maxDepth: 32,
  /** Tables, chains, sets, rules and elements together. */
  maxObjects: 4_000_000,
  /** Rules and elements moved by `insert`, `delete` and `replace` commands, in total. */
  maxWork: 50_000_000,
} as const;

/**
 * What was wrong with the input as a whole: too big to be one node's ruleset, not JSON at all, or
 * (everything else) a wrong shape or syntax somewhere. Callers that answer these differently (the
 * guard's read of its own table) tell them apart by this, never by the message.
 */
export type NftSyntaxKind = 'syntax' | 'too-large' | 'not-json';

export class NftSyntaxError extends Error {
  readonly line: number;
  readonly text: string;
  readonly kind: NftSyntaxKind;

  constructor(message: string, line = 0, text = '', kind: NftSyntaxKind = 'syntax') {
    super(message);
    this.name = 'NftSyntaxError';
    this.line = line;
    this.text = text;
    this.kind = kind;
  }
}

export function nftFail(message: string, line = 0, text = ''): never {
  throw new NftSyntaxError(message, line, text);
}

/** Control characters shown, cut to about 80 characters: safe in a one-line message. */
export function excerpt(text: string): string {
  let shown = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    shown += code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : ch;
    if (shown.length > 80) return `${shown.slice(0, 80)}...`;
  }
  return shown;
}

export function toParseError(e: unknown): ParseError {
  if (e instanceof NftSyntaxError) return { line: e.line, text: excerpt(e.text), message: e.message };
  // A RangeError (stack) or anything unforeseen still ends as one line of data, never a throw.
  const message = e instanceof Error ? e.message : String(e);
  return { line: 0, text: '', message: `cannot read this ruleset: ${excerpt(message)}` };
}
