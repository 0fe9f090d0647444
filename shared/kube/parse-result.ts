// Errors of the text parsers in shared/kube, in the iptables-save parser's one ParseError shape:
// a line number and the offending text, so the CLI can say where a pasted dump went wrong.

import type { ParseError } from '../netfilter/parse';

const MAX_ERROR_TEXT = 200;

export function parseError(line: number, text: string, message: string): ParseError {
  const shown = text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}...` : text;
  return { line, text: shown, message };
}

/** Text with NUL or other C0 control bytes (except tab/CR) is a binary file, not command output. */
export function findBinaryLine(lines: readonly string[]): number | undefined {
  for (let i = 0; i < lines.length; i++) {
    if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(lines[i] ?? '')) return i;
  }
  return undefined;
}

/** Split text into lines without the trailing CR of CRLF files pasted from Windows tickets. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] ?? '';
    if (l.endsWith('\r')) lines[i] = l.slice(0, -1);
  }
  return lines;
}
