// Questions the topology asks of every rule, answered without decoding a lazily parsed rule
// (lazy-rule.ts) when its facts were recorded, and from the decoded model otherwise. The answers
// are the same either way (lazy-rule.test.ts); only the cost differs.

import type { ChainIdIndex } from './chain-index.js';
import { ASK, LazyRule } from './lazy-rule.js';
import type { Negatable, Rule } from './model.js';

/** The `-j`/`-g` name, or undefined for a rule without a target. */
export function ruleTargetName(rule: Rule): string | undefined {
  return rule instanceof LazyRule ? rule.targetName : rule.target?.name;
}

/**
 * The id in `index` (its table's chainIdIndex) of the chain the rule jumps or goes to; -1 when it
 * has no target or a built-in one. A lazily read rule knows it without a lookup by name.
 */
export function ruleTargetId(rule: Rule, index: ChainIdIndex): number {
  if (rule instanceof LazyRule) return rule.targetId;
  const name = rule.target?.name;
  return name === undefined ? -1 : index.id(name);
}

/** Whether some `-m MODULE` of the rule is `module`. */
export function ruleHasModule(rule: Rule, module: string): boolean {
  if (rule instanceof LazyRule) {
    const known = rule.hasModule(module);
    if (known !== ASK) return known;
  }
  for (const m of rule.matches) if (m.module === module) return true;
  return false;
}

/** `-d` as written. */
export function ruleDestination(rule: Rule): Negatable<string> | undefined {
  return rule instanceof LazyRule ? rule.destinationValue() : rule.destination;
}

/**
 * The rule as a plain object, as the full rule reader makes it: a lazily parsed rule keeps its fields
 * behind getters, which an object spread or Object.keys does not see.
 */
export function plainRule(rule: Rule): Rule {
  return rule instanceof LazyRule ? rule.toJSON() : rule;
}

/** The lazily parsed rule, when `rule` is one: its text facts answer the questions above. */
export function lazyFacts(rule: Rule): LazyRule | undefined {
  return rule instanceof LazyRule ? rule : undefined;
}

export { ASK };
