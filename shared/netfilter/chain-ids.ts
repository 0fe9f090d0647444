// Chain names of one table as ids, found by their offsets in the dump: a kube-proxy table names
// ~25,000 chains in ~95,000 places (declarations, `-A`, jumps), and making a string and asking a
// Map for each of them was the largest single cost of reading the table. Here a mention costs a
// hash over the name's characters in the dump and, usually, one comparison with the chain's name.
//
// The lookups are bound by memory latency: a chain is first mentioned anywhere in an 8 MB dump.
// So each name is copied once into a compact pool of characters, in id order, and each slot holds
// the id and the hash side by side: a probe reads one slot and, on a hash match, the name in the
// pool. Names given as strings (lines read by the full rule reader) hash and compare the same way.

const NOT_FOUND = -1;

export class ChainIds {
  /** Open addressing, linear probing: pairs of (id + 1, hash); 0 marks an empty slot. */
  private slots: Int32Array = new Int32Array(1 << 11);
  /** Every name's characters, one after the other. */
  private pool: Uint16Array = new Uint16Array(1 << 14);
  private poolUsed = 0;
  /** Per id, side by side (one read): where its name starts in the pool, and its length. */
  private spans: Int32Array = new Int32Array(1 << 10);
  /** Once the table is read (seal): the names by id, compared instead of the pool. */
  private names: readonly string[] | undefined;
  size = 0;

  /** The id of the name `s[start, end)` (a slice of the dump, or a whole name), or -1. */
  find(s: string, start: number, end: number): number {
    const h = hashRange(s, start, end);
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const v = slots[slot * 2]!;
      if (v === 0) return NOT_FOUND;
      if (slots[slot * 2 + 1] === h && this.equals(v - 1, s, start, end)) return v - 1;
    }
  }

  /** `find`, adding the name (the next id) when it is new. */
  intern(s: string, start: number, end: number): number {
    const h = hashRange(s, start, end);
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    let slot = h & mask;
    for (;;) {
      const v = slots[slot * 2]!;
      if (v === 0) break;
      if (slots[slot * 2 + 1] === h && this.equals(v - 1, s, start, end)) return v - 1;
      slot = (slot + 1) & mask;
    }
    const id = this.add(s, start, end);
    slots[slot * 2] = id + 1;
    slots[slot * 2 + 1] = h;
    if (this.size * 4 > slots.length) this.rehash();
    return id;
  }

  /**
   * The table is read and `names` holds every name by id: the pool is let go (it is larger than
   * the table of slots), and the few lookups by name that come later compare with the names.
   */
  seal(names: readonly string[]): void {
    this.names = names;
    this.pool = new Uint16Array(0);
    this.spans = new Int32Array(0);
  }

  private equals(id: number, s: string, start: number, end: number): boolean {
    const len = end - start;
    if (this.names !== undefined) {
      const name = this.names[id]!;
      return name.length === len && s.startsWith(name, start);
    }
    if (this.spans[id * 2 + 1] !== len) return false;
    const pool = this.pool;
    const p = this.spans[id * 2]!;
    for (let i = 0; i < len; i++) if (pool[p + i] !== s.charCodeAt(start + i)) return false;
    return true;
  }

  private add(s: string, start: number, end: number): number {
    if (this.names !== undefined) throw new Error('a chain added to a table already read');
    const len = end - start;
    const id = this.size++;
    if (id * 2 === this.spans.length) this.spans = grow(this.spans, id * 4);
    if (this.poolUsed + len > this.pool.length) {
      const bigger = new Uint16Array(Math.max(this.pool.length * 2, this.poolUsed + len));
      bigger.set(this.pool);
      this.pool = bigger;
    }
    const pool = this.pool;
    const p = this.poolUsed;
    for (let i = 0; i < len; i++) pool[p + i] = s.charCodeAt(start + i);
    this.poolUsed = p + len;
    this.spans[id * 2] = p;
    this.spans[id * 2 + 1] = len;
    return id;
  }

  private rehash(): void {
    const old = this.slots;
    const slots = new Int32Array(old.length * 2);
    const mask = (slots.length >> 1) - 1;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] === 0) continue;
      let slot = old[i + 1]! & mask;
      while (slots[slot * 2] !== 0) slot = (slot + 1) & mask;
      slots[slot * 2] = old[i]!;
      slots[slot * 2 + 1] = old[i + 1]!;
    }
    this.slots = slots;
  }
}

function grow(a: Int32Array, size: number): Int32Array {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

/**
 * FNV-1a over every character of `s[start, end)`. Not only the last few: names alike at the end
 * (a dump's own, or a hostile one's) would all probe one run of slots, which made reading quadratic.
 */
function hashRange(s: string, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h ^ (h >>> 15);
}
