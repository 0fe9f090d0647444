// The netfilter core's public API: parse iptables-save text into the model, decode typed views
// of matches and targets, print the model back as iptables-restore input.

export { type ChainIdIndex, chainIdIndex, chainsByName, findChain } from './chain-index.js';
export * from './decode.js';
export { BUILTIN_CHAINS, BUILTIN_TABLES, isBuiltinTarget } from './known-names.js';
export { LazyRule } from './lazy-rule.js';
export * from './model.js';
export {
  MAX_LINE_LENGTH,
  PARTIAL_TABLE_MARKER,
  type ParseError,
  type ParseOptions,
  type ParseResult,
  parseIptablesSave,
} from './parse.js';
export { quoteValue } from './quote.js';
export {
  lazyFacts,
  plainRule,
  ruleDestination,
  ruleHasModule,
  ruleTargetId,
  ruleTargetName,
} from './rule-view.js';
export {
  type SerializeOptions,
  serializeRule,
  serializeRuleSpec,
  serializeRuleset,
  serializeTable,
} from './serialize.js';
