// One Map from chain name to chain per table: the topology and the tracer look chains up by name
// for every rule they follow, and a linear find over 20,000 chains per lookup would make a large
// cluster's dump quadratic. The map itself is the netfilter core's (built once per table object,
// by the parser while it reads the table), so analysing a freshly parsed table indexes nothing.
import { chainsByName } from '../netfilter/chain-index';
import type { Chain, Table } from '../netfilter/model';

export type ChainIndex = ReadonlyMap<string, Chain>;

/** A dump never declares a chain twice; if an excerpt does, the first declaration wins. */
export function indexChains(table: Table): ChainIndex {
  return chainsByName(table);
}
