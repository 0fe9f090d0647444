// Text that came from somewhere we do not trust (a node's stderr, a disconnect message, a pasted
// dump), made safe to put inside a one-line message for a terminal or the UI: every character that
// a terminal acts on or that changes how the rest of the line reads (controls, ESC, bidi overrides,
// zero-width and other format characters, line separators) is shown as an escape instead, and the
// result is cut to a readable length. The escapes are plain ASCII, so applying this twice changes
// nothing more than the first time did.

/** Where a one-line message stops quoting its source by default. */
export const VISIBLE_LIMIT = 200;

/**
 * C0/C1 controls and DEL (Cc), format characters (Cf: bidi embeddings, overrides and isolates,
 * zero-width characters, soft hyphen, BOM, tags), line and paragraph separators, lone surrogates,
 * and U+FFFD, which a UTF-8 decoder leaves where the bytes were not text.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\uFFFD]/u;
const INVISIBLE_ALL = new RegExp(INVISIBLE.source, 'gu');

/** Whether `c` (one code point) would be shown escaped. */
export function isInvisibleChar(c: string): boolean {
  return INVISIBLE.test(c);
}

function escapeCodePoint(cp: number): string {
  if (cp <= 0xff) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (cp <= 0xffff) return `\\u${cp.toString(16).padStart(4, '0')}`;
  return `\\u{${cp.toString(16)}}`;
}

/**
 * `raw` with invisible characters escaped (`\x1b`, `\u202e`, `\u{e0041}`) and cut to at most `max`
 * characters, the last of them `…` when something was cut. An escape is never cut in half.
 */
export function visibleText(raw: string, max = VISIBLE_LIMIT): string {
  let out = '';
  /** Length of `out` at the last boundary where an ellipsis still fits within max. */
  let fits = 0;
  for (const ch of raw) {
    const piece = INVISIBLE.test(ch) ? escapeCodePoint(ch.codePointAt(0)!) : ch;
    if (out.length + piece.length > max) return `${out.slice(0, fits)}…`;
    out += piece;
    if (out.length <= max - 1) fits = out.length;
  }
  return out;
}

/**
 * The first non-blank line of a multi-line text (typically a tool's stderr), trimmed and made
 * visible: the one line of it that a message quotes.
 */
export function firstVisibleLine(text: string, max = VISIBLE_LIMIT): string {
  // Line by line: stderr may be megabytes, and only its first non-blank line is wanted.
  let start = 0;
  while (start <= text.length) {
    const nl = text.indexOf('\n', start);
    const line = text.slice(start, nl < 0 ? text.length : nl).trim();
    if (line !== '') return visibleText(line, max);
    if (nl < 0) break;
    start = nl + 1;
  }
  return '';
}

/**
 * Text from a node or a dump for the window (a chain name, a rule, a comment): every invisible
 * character escaped, nothing cut (the layout bounds what is shown). React already keeps it from
 * being markup; this keeps it from reordering or hiding the text around it.
 */
export function inertText(text: string): string {
  return text.replace(INVISIBLE_ALL, (ch) => escapeCodePoint(ch.codePointAt(0)!));
}

/**
 * A whole report for a terminal (several lines, unbounded): every invisible character escaped as
 * in visibleText except the line breaks that make it a report. A chain name or comment from a node
 * cannot then move the cursor, recolour the screen or reorder the line around it.
 */
export function terminalText(text: string): string {
  return text.replace(INVISIBLE_ALL, (ch) => (ch === '\n' ? ch : escapeCodePoint(ch.codePointAt(0)!)));
}
