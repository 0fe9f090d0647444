// A table's chains by name, built once per table object. The topology, the tracer and
// decodeTarget(t, table) look chains up by name for every rule they follow; a linear search over
// 25,000 chains per lookup made a large node's dump quadratic. Tables are readonly, so the index of
// a table object never goes stale. The parser hands over the chain ids it read the table with
// (ParsedChainIndex), so a freshly parsed table costs nothing to index.

import type { ChainIds } from './chain-ids.js';
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

export function findChain(table: Table, name: string): Chain | undefined {
  return chainsByName(table).get(name);
}

/**
 * A table's chains as dense ids: what a walk that follows tens of thousands of jumps reads instead
 * of names (a name is a slice of the dump, and hashing or comparing it is a cache miss into it).
 */
export interface ChainIdIndex {
  /** Every chain by id, once (the first of a name that occurs twice). */
  readonly chains: readonly Chain[];
  /** The id of the chain named `name`, or -1. */
  id(name: string): number;
}

const idIndexes = new WeakMap<Table, ChainIdIndex>();

/** The chains of `table` by id; a LazyRule's `targetId` is an id of its own table's index. */
export function chainIdIndex(table: Table): ChainIdIndex {
  let index = idIndexes.get(table);
  if (!index) {
    const byName = new Map<string, number>();
    const chains: Chain[] = [];
    for (const chain of table.chains) {
      if (byName.has(chain.name)) continue;
      byName.set(chain.name, chains.length);
      chains.push(chain);
    }
    index = { chains, id: (name) => byName.get(name) ?? -1 };
    idIndexes.set(table, index);
  }
  return index;
}

/**
 * The parser's index of a table, both by name and by id, over the chain ids it read the table
 * with: no Map of every name is built, and a name looked up hashes its characters once.
 */
export class ParsedChainIndex implements ReadonlyMap<string, Chain>, ChainIdIndex {
  constructor(
    private readonly ids: ChainIds,
    /** Every chain of the table by id. */
    readonly chains: readonly Chain[],
  ) {}

  id(name: string): number {
    return this.ids.find(name, 0, name.length);
  }

  get size(): number {
    return this.chains.length;
  }

  get(name: string): Chain | undefined {
    const id = this.id(name);
    return id < 0 ? undefined : this.chains[id];
  }

  has(name: string): boolean {
    return this.id(name) >= 0;
  }

  keys() {
    return this.chains.map((c) => c.name).values();
  }

  values() {
    return this.chains.values();
  }

  entries() {
    return this.chains.map((c): [string, Chain] => [c.name, c]).values();
  }

  [Symbol.iterator]() {
    return this.entries();
  }

  forEach(
    fn: (chain: Chain, name: string, map: ReadonlyMap<string, Chain>) => void,
    thisArg?: unknown,
  ): void {
    for (const c of this.chains) fn.call(thisArg, c, c.name, this);
  }
}

/** For the parser: `index` holds exactly the chains of `table`, with the ids its rules name. */
export function adoptParsedIndex(table: Table, index: ParsedChainIndex): void {
  indexes.set(table, index);
  idIndexes.set(table, index);
}
