// Chain names of one dump as ids, keyed by their text offsets: a kube-proxy table names ~25,000
// chains in ~95,000 places (declarations, `-A`, jumps), and making a string and asking a Map for
// each of them was a third of reading it. Here a mention costs a hash over the last few
// characters of the name (where kube-proxy's hashed names differ) and, usually, one comparison
// with the chain's name.
//
// The lookups are bound by memory latency: a chain's name is first mentioned anywhere in an 8 MB
// dump, and a string sliced from the dump is read there. So the table copies each name once into
// a compact pool of characters, in id order, and each slot holds the id and the hash side by
// side: a probe reads one slot and, on a hash match, the name in the pool. Names as strings are
// made only when asked for (slices of the dump: no characters are copied).

const EMPTY = -1;
const ASCII = 127;
/** Characters hashed from the end of a name: kube-proxy's names end in 16 hashed characters. */
const HASHED = 8;

export class ChainTable {
  /** Open addressing, linear probing: pairs of (chain id + 1, hash); id 0 marks an empty slot. */
  private slots: Int32Array;
  /**
   * Every name's characters, one after the other; chain `id`'s start at `poolStart[id]`. One
   * byte each: iptables chain names are ASCII, and a name that is not is refused (`intern`).
   */
  private pool: Uint8Array;
  private poolUsed = 0;
  private poolStart: Int32Array;
  private lengths: Int32Array;
  /** Where each name was first mentioned in `text`, for its string. */
  private textStart: Int32Array;
  private readonly names: (string | undefined)[] = [];
  size = 0;

  constructor(
    readonly text: string,
    expected = 64,
  ) {
    let cap = 16;
    while (cap < expected * 2) cap <<= 1;
    this.slots = new Int32Array(cap * 2);
    const rows = Math.max(16, expected);
    this.pool = new Uint8Array(rows * 32);
    this.poolStart = new Int32Array(rows);
    this.lengths = new Int32Array(rows);
    this.textStart = new Int32Array(rows);
  }

  /** The id of the chain named `text[start, end)`, or -1 when there is none. */
  find(start: number, end: number): number {
    return this.lookup(start, end, false);
  }

  /**
   * The id of the chain named `text[start, end)`, added if new (ids count up from 0); -1 for a
   * new name with a character beyond ASCII.
   */
  intern(start: number, end: number): number {
    return this.lookup(start, end, true);
  }

  /** The id of chain `name` (a string not from the text), or -1. */
  findName(name: string): number {
    const h = hashRange(name, 0, name.length);
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const v = slots[slot * 2]!;
      if (v === 0) return EMPTY;
      if (slots[slot * 2 + 1] === h && this.equals(v - 1, name, 0, name.length)) return v - 1;
    }
  }

  name(id: number): string {
    let n = this.names[id];
    if (n === undefined) {
      const s = this.textStart[id]!;
      n = this.text.slice(s, s + this.lengths[id]!);
      this.names[id] = n;
    }
    return n;
  }

  length(id: number): number {
    return this.lengths[id]!;
  }

  /** Character `i` of chain `id`'s name (read from the pool, not the dump). */
  charCodeAt(id: number, i: number): number {
    return this.pool[this.poolStart[id]! + i]!;
  }

  /** Whether chain `id`'s name starts with `prefix`. */
  startsWith(id: number, prefix: string): boolean {
    if (this.lengths[id]! < prefix.length) return false;
    const p = this.poolStart[id]!;
    for (let i = 0; i < prefix.length; i++) if (this.pool[p + i] !== prefix.charCodeAt(i)) return false;
    return true;
  }

  /** Whether chain `id` is named exactly `name`. */
  is(id: number, name: string): boolean {
    return this.equals(id, name, 0, name.length);
  }

  /** Whether chain `id` is named `text[start, end)`. */
  namedAt(id: number, start: number, end: number): boolean {
    return this.equals(id, this.text, start, end);
  }

  private equals(id: number, s: string, start: number, end: number): boolean {
    const len = end - start;
    if (this.lengths[id] !== len) return false;
    const pool = this.pool;
    const p = this.poolStart[id]!;
    for (let i = 0; i < len; i++) if (pool[p + i] !== s.charCodeAt(start + i)) return false;
    return true;
  }

  private lookup(start: number, end: number, add: boolean): number {
    const text = this.text;
    const h = hashRange(text, start, end);
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    let slot = h & mask;
    for (;;) {
      const v = slots[slot * 2]!;
      if (v === 0) break;
      if (slots[slot * 2 + 1] === h && this.equals(v - 1, text, start, end)) return v - 1;
      slot = (slot + 1) & mask;
    }
    if (!add) return EMPTY;
    const id = this.add(start, end);
    if (id < 0) return EMPTY;
    slots[slot * 2] = id + 1;
    slots[slot * 2 + 1] = h;
    if (this.size * 2 > slots.length >> 1) this.rehash();
    return id;
  }

  private add(start: number, end: number): number {
    const len = end - start;
    const text = this.text;
    for (let i = start; i < end; i++) if (text.charCodeAt(i) > ASCII) return EMPTY;
    const id = this.size++;
    if (id === this.lengths.length) {
      this.poolStart = grow(this.poolStart, id * 2);
      this.lengths = grow(this.lengths, id * 2);
      this.textStart = grow(this.textStart, id * 2);
    }
    if (this.poolUsed + len > this.pool.length) {
      const bigger = new Uint8Array(Math.max(this.pool.length * 2, this.poolUsed + len));
      bigger.set(this.pool);
      this.pool = bigger;
    }
    const pool = this.pool;
    const p = this.poolUsed;
    for (let i = 0; i < len; i++) pool[p + i] = text.charCodeAt(start + i);
    this.poolUsed = p + len;
    this.poolStart[id] = p;
    this.lengths[id] = len;
    this.textStart[id] = start;
    this.names.push(undefined);
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

/** The length and the last HASHED characters of `text[start, end)`. */
function hashRange(text: string, start: number, end: number): number {
  let h = Math.imul(0x811c9dc5 ^ (end - start), 0x01000193);
  for (let i = Math.max(start, end - HASHED); i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}
