// The readers' public faces: text or JSON in, the one model or a ParseError out. Nothing thrown.
import type { ParseError } from '../netfilter/parse';
import { toParseError } from './errors';
import type { NftRuleset } from './model';
import { readNftJson } from './read-json';
import { readNftText } from './read-text';

export type NftReadResult =
  | { readonly ok: true; readonly ruleset: NftRuleset }
  | { readonly ok: false; readonly error: ParseError };

function guarded(read: (text: string) => NftRuleset, text: string): NftReadResult {
  try {
    return { ok: true, ruleset: read(text) };
  } catch (e) {
    return { ok: false, error: toParseError(e) };
  }
}

/** `nft list ruleset` / `nft list table ...` text, or `nft -f` input (`add ...` lines). */
export function parseNftText(text: string): NftReadResult {
  return guarded(readNftText, text);
}

/** `nft -j list ruleset` JSON. */
export function parseNftJson(text: string): NftReadResult {
  return guarded(readNftJson, text);
}

/** Either form, told apart by the first character that is not blank (`{` is JSON). */
export function parseNftRuleset(text: string): NftReadResult {
  return /^\s*\{/.test(text) ? parseNftJson(text) : parseNftText(text);
}
