// One Map from chain name to chain per table, built once: the topology and the tracer look chains
// up by name for every rule they follow, and a linear find over 20,000 chains per lookup would make
// a large cluster's dump quadratic.
import type { Chain, Table } from '../netfilter/model';

export type ChainIndex = ReadonlyMap<string, Chain>;

export function indexChains(table: Table): ChainIndex {
  const index = new Map<string, Chain>();
  for (const chain of table.chains) {
    // A dump never declares a chain twice; if an excerpt does, the first declaration wins, as the
    // first `-A` lines a reader sees belong to it.
    if (!index.has(chain.name)) index.set(chain.name, chain);
  }
  return index;
}
