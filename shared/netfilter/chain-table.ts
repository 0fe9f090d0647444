// Chain names of one dump as ids, keyed by their text offsets: a kube-proxy table names ~25,000
// chains in ~95,000 places (declarations, `-A`, jumps), and making a string and asking a Map for
// each of them was a third of reading it. Here a mention costs a hash over the last few
// characters of the name (where kube-proxy's hashed names differ) and, usually, one native
// comparison of the chain's string with the text. Each chain's string is made once, when it is
// first mentioned: a report prints nearly every chain of a kube-proxy table anyway.

const EMPTY = -1;

export class ChainTable {
  /** Offsets of each chain's name (its first mention) in `text`. */
  private starts: Int32Array;
  private ends: Int32Array;
  private hashes: Int32Array;
  /** Open addressing, linear probing: chain id + 1 per slot, 0 for an empty slot. */
  private slots: Int32Array;
  private readonly names: string[] = [];
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
    return this.names[id]!;
  }

  /** Whether chain `id`'s name starts with `prefix`. */
  startsWith(id: number, prefix: string): boolean {
    return this.names[id]!.startsWith(prefix);
  }

  /** Whether chain `id` is named exactly `name`. */
  is(id: number, name: string): boolean {
    return this.names[id] === name;
  }

  private lookup(start: number, end: number, add: boolean): number {
    const text = this.text;
    const h = hashRange(text, start, end);
    const len = end - start;
    const slots = this.slots;
    const mask = slots.length - 1;
    let slot = h & mask;
    for (;;) {
      const v = slots[slot]!;
      if (v === 0) break;
      const id = v - 1;
      if (
        this.hashes[id] === h &&
        this.ends[id]! - this.starts[id]! === len &&
        text.startsWith(this.names[id]!, start)
      )
        return id;
      slot = (slot + 1) & mask;
    }
    if (!add) return EMPTY;
    const id = this.size++;
    if (id === this.starts.length) this.growRows();
    this.starts[id] = start;
    this.ends[id] = end;
    this.hashes[id] = h;
    this.names.push(text.slice(start, end));
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

/** Characters hashed from the end of a name: kube-proxy's names end in 16 hashed characters. */
const HASHED = 8;

/** The hash `lookup` computes: the length and the last HASHED characters. */
function hashRange(text: string, start: number, end: number): number {
  let h = Math.imul(0x811c9dc5 ^ (end - start), 0x01000193);
  for (let i = Math.max(start, end - HASHED); i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}

function hashString(s: string): number {
  return hashRange(s, 0, s.length);
}
