// For tests: the one fixture folder of real dumps, and parse-or-fail. A parse that fails in a test
// names the line, the message and the text, so the failure says which input broke.
import { readdirSync, readFileSync } from 'node:fs';
import type { Ruleset } from '../netfilter/model';
import type { ParseOptions } from '../netfilter/parse';
import { parseIptablesSave } from '../netfilter/parse';

/** Real iptables, ip6tables, ipset and ipvsadm output (see its README for how each was made). */
export const FIXTURE_DIR = new URL('../../e2e/lab/fixtures/', import.meta.url);

export function fixture(name: string): string {
  return readFileSync(new URL(name, FIXTURE_DIR), 'utf8');
}

/** Fixture file names matching `pattern`, sorted. */
export function fixtureNames(pattern: RegExp): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => pattern.test(f))
    .sort();
}

export function parseOk(
  text: string,
  opts: ParseOptions = {},
): { ruleset: Ruleset; warnings: readonly string[] } {
  const r = parseIptablesSave(text, opts);
  if (!r.ok) throw new Error(`parse failed: line ${r.error.line}: ${r.error.message}: ${r.error.text}`);
  return r;
}
