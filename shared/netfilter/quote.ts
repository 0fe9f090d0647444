// Quoting of argument values in printed rules, compatible with iptables-restore's tokenizer and
// with how iptables-save prints (xtables_save_string): string options such as --comment are quoted
// unless they are plain `[A-Za-z0-9_-]+`, inside quotes `"`, `\` and `'` get a backslash. Other
// values are quoted only when they would otherwise not read back as one value.

import { STRING_OPTIONS } from './known-names.js';
import { isOptionToken } from './parse-rule.js';
import { isBinaryChar } from './tokenize.js';

function isPlain(c: number): boolean {
  return (
    (c >= 48 && c <= 57) ||
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    c === 95 /* _ */ ||
    c === 45 /* - */
  );
}

/** Blank, `"`, `\` or `'`: the characters that force quotes (and the last three an escape). */
function isSpecial(c: number): boolean {
  return c === 32 || c === 9 || c === 34 || c === 92 || c === 39;
}

/** Throws only for values no iptables line can hold (control characters). */
export function quoteValue(value: string, optionName?: string): string {
  let plain = true;
  let special = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (isPlain(c)) continue;
    plain = false;
    if (isSpecial(c)) special = true;
    else if (isBinaryChar(c)) {
      // Printing these would corrupt the line structure of the output.
      throw new Error(`cannot print a value with control characters: ${JSON.stringify(value)}`);
    }
  }
  const quote =
    value.length === 0 ||
    special ||
    (!plain && optionName !== undefined && STRING_OPTIONS.has(optionName)) ||
    value === '!' ||
    // A bare `-x` would read back as an option (iptables-save itself gets this wrong).
    isOptionToken(value, false);
  if (!quote) return value;
  return `"${special ? value.replace(/["\\']/g, '\\$&') : value}"`;
}
