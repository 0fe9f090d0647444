// Chain names of one dump as ids, keyed by their text offsets: a kube-proxy table names ~25,000
// chains in ~95,000 places (declarations, `-A`, jumps), and making a string and asking a Map for
// each of them was a third of reading it. Here a mention costs a hash over the last few
// characters of the name (where kube-proxy's hashed names differ) and, usually, one native
// comparison of the chain's string with the text. Each chain's string is made once, when it is
// first mentioned: a report prints nearly every chain of a kube-proxy table anyway.
//
// The lookups are bound by memory latency (the names are spread over a 25,000-entry table), so
// each slot holds the id and the hash side by side: a probe reads one slot and, on a hash match,
// the one string.

const EMPTY = -1;
/** Characters hashed from the end of a name: kube-proxy's names end in 16 hashed characters. */
const HASHED = 8;

export class ChainTable {
  /** Open addressing, linear probing: pairs of (chain id + 1, hash); id 0 marks an empty slot. */
  private slots: Int32Array;
  private readonly names: string[] = [];
  size = 0;

  constructor(
    readonly text: string,
    expected = 64,
  ) {
    let cap = 16;
    while (cap < expected * 2) cap <<= 1;
    this.slots = new Int32Array(cap * 2);
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
    const h = hashRange(name, 0, name.length);
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const v = slots[slot * 2]!;
      if (v === 0) return EMPTY;
      if (slots[slot * 2 + 1] === h && this.names[v - 1] === name) return v - 1;
    }
  }

  name(id: number): string {
    return this.names[id]!;
  }

  /** Whether chain `id`'s name starts with `prefix`. */
  startsWith(id: number, prefix: string): boolean {
    return this.names[id]!.startsWith(prefix);
  }

  /** Whether chain `id` is named `text[start, end)`. */
  namedAt(id: number, start: number, end: number): boolean {
    const name = this.names[id]!;
    return name.length === end - start && this.text.startsWith(name, start);
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
    const mask = (slots.length >> 1) - 1;
    let slot = h & mask;
    for (;;) {
      const v = slots[slot * 2]!;
      if (v === 0) break;
      if (slots[slot * 2 + 1] === h) {
        const name = this.names[v - 1]!;
        if (name.length === len && text.startsWith(name, start)) return v - 1;
      }
      slot = (slot + 1) & mask;
    }
    if (!add) return EMPTY;
    const id = this.size++;
    this.names.push(text.slice(start, end));
    slots[slot * 2] = id + 1;
    slots[slot * 2 + 1] = h;
    if (this.size * 2 > slots.length >> 1) this.rehash();
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

/** The length and the last HASHED characters of `text[start, end)`. */
function hashRange(text: string, start: number, end: number): number {
  let h = Math.imul(0x811c9dc5 ^ (end - start), 0x01000193);
  for (let i = Math.max(start, end - HASHED); i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}
