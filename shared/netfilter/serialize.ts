// Prints the model as iptables-restore input, in iptables-save's layout: per table `*name`,
// `:CHAIN POLICY [p:b]` for declared chains, `-A` rules chain by chain, `-X` deletions, COMMIT.
// Rule fields come in iptables-save's order (-s -d -i -o -p -f, matches, target), so printing a
// parsed dump gives back the same lines. Chains that were never declared (kube-proxy restore
// input, excerpts) are not declared here either: the output means what the input meant.

import type { Counters, MatchOption, Negatable, Rule, Ruleset, Table } from './model.js';
import { PARTIAL_TABLE_MARKER } from './parse.js';
import { quoteValue } from './quote.js';

export interface SerializeOptions {
  /** Print `[p:b]` counters where the model has them. Default: true for rulesets, false for rules. */
  readonly counters?: boolean;
  /** Print the ruleset's `#` comments (at the top). Default true. */
  readonly comments?: boolean;
}

function counters(c: Counters): string {
  return `[${c.packets}:${c.bytes}]`;
}

function negatable(out: string[], flag: string, field: Negatable<string> | undefined): void {
  if (!field) return;
  if (field.negated) out.push('!');
  out.push(flag, quoteValue(field.value));
}

function options(out: string[], opts: readonly MatchOption[]): void {
  for (const o of opts) {
    if (o.negated) out.push('!');
    out.push(`--${o.name}`);
    for (const v of o.values) out.push(quoteValue(v, o.name));
  }
}

/**
 * The rule's arguments after `-A CHAIN` (what `-I CHAIN 1`, `-D CHAIN` or `-C CHAIN` also take).
 * Throws only for values no iptables text can hold (control characters).
 */
export function serializeRuleSpec(rule: Rule): string {
  const out: string[] = [];
  negatable(out, '-s', rule.source);
  negatable(out, '-d', rule.destination);
  negatable(out, '-i', rule.inInterface);
  negatable(out, '-o', rule.outInterface);
  negatable(out, '-p', rule.protocol);
  if (rule.fragment) {
    if (rule.fragment.negated) out.push('!');
    out.push('-f');
  }
  for (const m of rule.matches) {
    out.push('-m', m.module);
    options(out, m.options);
  }
  const t = rule.target;
  if (t) {
    out.push(t.kind === 'goto' ? '-g' : '-j', t.name);
    options(out, t.options);
  }
  return out.join(' ');
}

/**
 * The `-A CHAIN ...` line of a rule, for diffs and previews. Counters are left out unless asked
 * for, because they change all the time and are not part of what the rule does.
 */
export function serializeRule(rule: Rule, opts: SerializeOptions = {}): string {
  const spec = serializeRuleSpec(rule);
  const prefix = opts.counters === true && rule.counters ? `${counters(rule.counters)} ` : '';
  return `${prefix}-A ${rule.chain}${spec.length > 0 ? ` ${spec}` : ''}`;
}

export function serializeTable(table: Table, opts: SerializeOptions = {}): string {
  const withCounters = opts.counters !== false;
  const lines: string[] = [`*${table.name}`];
  if (!table.complete) lines.push(PARTIAL_TABLE_MARKER);
  for (const c of table.chains) {
    if (!c.declared) continue;
    lines.push(`:${c.name} ${c.policy}${withCounters && c.counters ? ` ${counters(c.counters)}` : ''}`);
  }
  for (const c of table.chains) {
    for (const r of c.rules) lines.push(serializeRule(r, { counters: withCounters }));
  }
  for (const name of table.deletedChains ?? []) lines.push(`-X ${name}`);
  lines.push('COMMIT');
  return `${lines.join('\n')}\n`;
}

/** iptables-restore input for the whole ruleset. */
export function serializeRuleset(ruleset: Ruleset, opts: SerializeOptions = {}): string {
  const head =
    opts.comments === false || ruleset.comments.length === 0 ? '' : `${ruleset.comments.join('\n')}\n`;
  return head + ruleset.tables.map((t) => serializeTable(t, opts)).join('');
}
