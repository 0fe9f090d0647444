// Quoting of argument values in printed rules, compatible with iptables-restore's tokenizer and
// with how iptables-save prints (xtables_save_string): string options such as --comment are quoted
// unless they are plain `[A-Za-z0-9_-]+`, inside quotes `"`, `\` and `'` get a backslash. Other
// values are quoted only when they would otherwise not read back as one value.

import { STRING_OPTIONS } from './known-names.js';
import { isOptionToken } from './parse-rule.js';
import { isBinaryChar } from './tokenize.js';

const PLAIN = /^[A-Za-z0-9_-]+$/;
const NEEDS_QUOTES = /[\s"\\']/;

export function quoteValue(value: string, optionName?: string): string {
  for (let i = 0; i < value.length; i++) {
    if (isBinaryChar(value.charCodeAt(i))) {
      // No iptables text can carry these; printing them would corrupt the line structure.
      throw new Error(`cannot print a value with control characters: ${JSON.stringify(value)}`);
    }
  }
  const quote =
    value.length === 0 ||
    (optionName !== undefined && STRING_OPTIONS.has(optionName) && !PLAIN.test(value)) ||
    NEEDS_QUOTES.test(value) ||
    value === '!' ||
    // A bare `-x` would read back as an option (iptables-save itself gets this wrong).
    isOptionToken(value, false);
  if (!quote) return value;
  return `"${value.replace(/["\\']/g, '\\$&')}"`;
}
