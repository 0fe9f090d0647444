// Typed views of rules for the topology and the tracer: decodeMatch/decodeTarget (in their own
// modules) plus small helpers over whole rules. Everything here is derived from the generic model
// on demand, so the model stays lossless and the views can grow without touching the parser.

import { decodeMatch, type KnownMatch } from './decode-match.js';
import { decodeTarget, type KnownTarget } from './decode-target.js';
import { ASK, LazyRule } from './lazy-rule.js';
import type { Match, Rule, Table } from './model.js';

export * from './decode-match.js';
export * from './decode-target.js';
export * from './decode-values.js';

export interface DecodedRule {
  readonly rule: Rule;
  readonly matches: readonly KnownMatch[];
  readonly target?: KnownTarget;
}

export function decodeRule(rule: Rule, table?: Table): DecodedRule {
  const matches = rule.matches.map(decodeMatch);
  return rule.target ? { rule, matches, target: decodeTarget(rule.target, table) } : { rule, matches };
}

/** The text of a comment match, read directly: the topology asks for it on every rule. */
function commentText(m: Match): string {
  const opts = m.options;
  for (let i = opts.length - 1; i >= 0; i--) {
    const o = opts[i]!;
    if (o.name === 'comment') return o.values.join(' ');
  }
  return '';
}

/** Every `-m comment --comment` text of the rule, in order. */
export function ruleComments(rule: Rule): readonly string[] {
  const out: string[] = [];
  for (const m of rule.matches) if (m.module === 'comment') out.push(commentText(m));
  return out;
}

/** The rule's comment (kube-proxy's service name, our `nodeport-guard: ...`), or undefined. */
export function ruleComment(rule: Rule): string | undefined {
  if (rule instanceof LazyRule) {
    const c = rule.comment();
    if (c !== ASK) return c;
  }
  for (const m of rule.matches) if (m.module === 'comment') return commentText(m);
  return undefined;
}
