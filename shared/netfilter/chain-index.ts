// A table's chains by name, built once per table object. The topology, the tracer and
// decodeTarget(t, table) look chains up by name for every rule they follow; a linear search over
// 25,000 chains per lookup made a large node's dump quadratic. Tables are readonly, so the index of
// a table object never goes stale. The parser already keeps such a map while it reads a table and
// hands it over here, so a freshly parsed table costs nothing to index.

import type { Chain, Table } from './model.js';

const indexes = new WeakMap<Table, ReadonlyMap<string, Chain>>();

/** The chains of `table` by name; when a name occurs twice (a pasted excerpt), the first wins. */
export function chainsByName(table: Table): ReadonlyMap<string, Chain> {
  let index = indexes.get(table);
  if (!index) {
    const built = new Map<string, Chain>();
    for (const chain of table.chains) if (!built.has(chain.name)) built.set(chain.name, chain);
    index = built;
    indexes.set(table, index);
  }
  return index;
}

/** For the parser: `index` must hold exactly `table.chains`, each under its name. */
export function adoptChainIndex(table: Table, index: ReadonlyMap<string, Chain>): void {
  indexes.set(table, index);
}

export function findChain(table: Table, name: string): Chain | undefined {
  return chainsByName(table).get(name);
}
