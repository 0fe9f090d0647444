// Chain names of one dump as ids, keyed by their text offsets: a kube-proxy table names ~25,000
// chains in ~95,000 places (declarations, `-A`, jumps), and making a string and asking a Map for
// each of them was a third of reading it. Here a name costs one hash over its characters and,
// usually, one comparison of two ranges of the same text; the string of a name is made only when
// someone asks for it (the chains a report prints).

const EMPTY = -1;

export class ChainTable {
  /** Offsets of each chain's name (its first mention) in `text`. */
  private starts: Int32Array;
  private ends: Int32Array;
  private hashes: Int32Array;
  /** Open addressing, linear probing: chain id + 1 per slot, 0 for an empty slot. */
  private slots: Int32Array;
  private readonly names: (string | undefined)[] = [];
  size = 0;

  constructor(
    readonly text: string,
    expected = 64,
  ) {
    let cap = 16;
    while (cap < expected * 2) cap <<= 1;
    this.slots = new Int32Array(cap);
    this.starts = new Int32Array(Math.max(8, expected));
    this.ends = new Int32Array(Math.max(8, expected));
    this.hashes = new Int32Array(Math.max(8, expected));
  }

  /** The id of the chain named `text[start, end)`, or -1 when there is none. */
  find(start: number, end: number): number {
    return this.lookup(start, end, false);
  }

  /** The id of the chain named `text[start, end)`, added if new (ids count up from 0). */
  intern(start: number, end: number): number {
    return this.lookup(start, end, true);
  }

  /** The id of chain `name` (a string not from the text), or -1. */
  findName(name: string): number {
    const h = hashString(name);
    const mask = this.slots.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const v = this.slots[slot]!;
      if (v === 0) return EMPTY;
      if (this.hashes[v - 1] === h && this.is(v - 1, name)) return v - 1;
    }
  }

  name(id: number): string {
    let n = this.names[id];
    if (n === undefined) {
      n = this.text.slice(this.starts[id]!, this.ends[id]!);
      this.names[id] = n;
    }
    return n;
  }

  /** Whether chain `id`'s name starts with `prefix` (no string made). */
  startsWith(id: number, prefix: string): boolean {
    const s = this.starts[id]!;
    return this.ends[id]! - s >= prefix.length && this.text.startsWith(prefix, s);
  }

  /** Whether chain `id` is named exactly `name`. */
  is(id: number, name: string): boolean {
    const s = this.starts[id]!;
    return this.ends[id]! - s === name.length && this.text.startsWith(name, s);
  }

  private lookup(start: number, end: number, add: boolean): number {
    const text = this.text;
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    const len = end - start;
    const slots = this.slots;
    const mask = slots.length - 1;
    let slot = h & mask;
    for (;;) {
      const v = slots[slot]!;
      if (v === 0) break;
      const id = v - 1;
      if (this.hashes[id] === h && this.ends[id]! - this.starts[id]! === len) {
        const s = this.starts[id]!;
        let k = 0;
        while (k < len && text.charCodeAt(s + k) === text.charCodeAt(start + k)) k++;
        if (k === len) return id;
      }
      slot = (slot + 1) & mask;
    }
    if (!add) return EMPTY;
    const id = this.size++;
    if (id === this.starts.length) this.growRows();
    this.starts[id] = start;
    this.ends[id] = end;
    this.hashes[id] = h;
    slots[slot] = id + 1;
    if (this.size * 2 > slots.length) this.rehash();
    return id;
  }

  private growRows(): void {
    const grow = (a: Int32Array): Int32Array => {
      const b = new Int32Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.starts = grow(this.starts);
    this.ends = grow(this.ends);
    this.hashes = grow(this.hashes);
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let id = 0; id < this.size; id++) {
      let slot = this.hashes[id]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = id + 1;
    }
    this.slots = slots;
  }
}

/** The hash `lookup` computes over text characters, for a string. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}
