// nft's text syntax cut into tokens, with the line and offsets of each, in one pass. Words run to
// whitespace or one of `{ } ; , "`; `{ } ; ,` are tokens of their own; a newline is a token (it
// ends a statement); `"..."` is one quoted token; `# ...` is a comment, except `# handle N` (what
// `nft -a` prints after an object), which becomes a handle token for the object it follows.
import { NFT_LIMITS, nftFail } from './errors';

export interface Token {
  readonly t: string;
  readonly line: number;
  readonly start: number;
  readonly end: number;
  readonly quoted?: boolean;
  /** `# handle N`. */
  readonly handle?: number;
}

export interface Tokens {
  readonly tokens: readonly Token[];
  /** Whole-line `#` comments before the first statement (nft's `# Warning: ...` header). */
  readonly headerComments: readonly string[];
  /** Offset of each line's first character; `lineStarts[0]` is line 1. */
  readonly lineStarts: readonly number[];
}

const SINGLE = new Set(['{', '}', ';', ',']);

/** Line `line` of `text` (1-based), without its end of line. */
export function lineText(text: string, lineStarts: readonly number[], line: number): string {
  const start = lineStarts[line - 1];
  if (start === undefined) return '';
  const nl = text.indexOf('\n', start);
  return text.slice(start, nl < 0 ? text.length : nl).replace(/\r$/, '');
}

export function tokenize(text: string): Tokens {
  const tokens: Token[] = [];
  const headerComments: string[] = [];
  const lineStarts: number[] = [0];
  const n = text.length;
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let sawStatement = false;
  const newline = (at: number): void => {
    if (at - lineStart > NFT_LIMITS.maxLine)
      nftFail(`line longer than ${NFT_LIMITS.maxLine} characters: not an nft ruleset`, line);
    tokens.push({ t: '\n', line, start: at, end: at + 1 });
    line++;
    lineStart = at + 1;
    lineStarts.push(lineStart);
  };
  while (i < n) {
    const c = text[i]!;
    if (i - lineStart > NFT_LIMITS.maxLine)
      nftFail(`line longer than ${NFT_LIMITS.maxLine} characters: not an nft ruleset`, line);
    if (c === '\n') {
      newline(i);
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    if (c === '\\' && (text[i + 1] === '\n' || (text[i + 1] === '\r' && text[i + 2] === '\n'))) {
      // Line continuation: the statement goes on.
      i += text[i + 1] === '\r' ? 3 : 2;
      line++;
      lineStart = i;
      lineStarts.push(lineStart);
      continue;
    }
    if (c === '#') {
      let e = text.indexOf('\n', i);
      if (e < 0) e = n;
      const comment = text.slice(i, e).replace(/\r$/, '');
      const h = /^#\s*handle\s+(\d{1,10})\s*$/.exec(comment);
      if (h) tokens.push({ t: '#handle', line, start: i, end: e, handle: Number(h[1]) });
      else if (!sawStatement) headerComments.push(comment);
      i = e;
      continue;
    }
    sawStatement = true;
    if (SINGLE.has(c)) {
      tokens.push({ t: c, line, start: i, end: i + 1 });
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let value = '';
      while (j < n && text[j] !== '"') {
        if (text[j] === '\n')
          nftFail('a quoted string is not closed on its line', line, text.slice(lineStart, j));
        if (text[j] === '\\' && j + 1 < n && text[j + 1] !== '\n') j++;
        value += text[j];
        j++;
      }
      if (j >= n) nftFail('a quoted string is not closed on its line', line, text.slice(lineStart, j));
      tokens.push({ t: value, line, start: i, end: j + 1, quoted: true });
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < n) {
      const d = text[j]!;
      if (d === ' ' || d === '\t' || d === '\n' || d === '\r' || d === '"' || SINGLE.has(d)) break;
      j++;
    }
    tokens.push({ t: text.slice(i, j), line, start: i, end: j });
    i = j;
  }
  if (n - lineStart > NFT_LIMITS.maxLine)
    nftFail(`line longer than ${NFT_LIMITS.maxLine} characters: not an nft ruleset`, line);
  return { tokens, headerComments, lineStarts };
}
