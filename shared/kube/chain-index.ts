// One Map from chain name to chain per table: the topology and the tracer look chains up by name
// for every rule they follow, and a linear find over 20,000 chains per lookup would make a large
// cluster's dump quadratic. The map itself is the netfilter core's (built once per table object,
// by the parser while it reads the table), so analysing a freshly parsed table indexes nothing.
//
// The NodePort walk follows tens of thousands of jumps: it goes by chain id instead (ChainView),
// with every chain's kind worked out once, in id order. By name, each jump was a hash of a name
// that is a slice of the dump and a prefix test of it, each a cache miss into the dump.
import { type ChainIdIndex, chainIdIndex, chainsByName } from '../netfilter/chain-index';
import type { Chain, Rule, Table } from '../netfilter/model';
import { ruleTargetId, ruleTargetName } from '../netfilter/rule-view';
import { chainKind, type StepKind } from './chain-kind';

export type ChainIndex = ReadonlyMap<string, Chain>;

/** A dump never declares a chain twice; if an excerpt does, the first declaration wins. */
export function indexChains(table: Table): ChainIndex {
  return chainsByName(table);
}

/** A table's chains by id (chainIdIndex), with each chain's kind. */
export interface ChainView {
  readonly ids: ChainIdIndex;
  /** chainKind of each chain's name, by id. */
  readonly kinds: readonly StepKind[];
}

const views = new WeakMap<Table, ChainView>();

export function chainView(table: Table): ChainView {
  let view = views.get(table);
  if (!view) {
    const ids = chainIdIndex(table);
    const chains = ids.chains;
    const kinds: StepKind[] = new Array(chains.length);
    for (let id = 0; id < chains.length; id++) kinds[id] = chainKind(chains[id]!.name);
    view = { ids, kinds };
    views.set(table, view);
  }
  return view;
}

/**
 * The kind of the chain `rule` jumps or goes to, given its id in `view` (ruleTargetId); by its
 * name when no chain of the table has it (a built-in target); undefined without a target.
 */
export function targetKind(view: ChainView, rule: Rule, id: number): StepKind | undefined {
  if (id >= 0) return view.kinds[id];
  const name = ruleTargetName(rule);
  return name === undefined ? undefined : chainKind(name);
}

export { ruleTargetId };
