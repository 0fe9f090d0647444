// `npg inspect --json` on the quick path: the JSON text of compactInspect's objects, written as
// UTF-8 bytes while the walk goes (compact-topology.ts), key for key in the objects' order. No
// object per NodePort, no JSON.stringify pass and no encoding of a 3 MB string for stdout; text
// concatenation was tried first and was slower than objects + stringify (ropes, then a flatten).
// compact-topology.test.ts checks that the bytes are JSON.stringify's text.
import type { ChainTable } from '../netfilter/chain-table';
import type { InspectJsonEndpoint } from './inspect-json';

const QUOTE = 34;
const BACKSLASH = 92;
const SPACE = 32;
const ASCII_END = 128;

export class JsonBytes {
  private bytes: Uint8Array<ArrayBuffer>;
  length = 0;

  constructor(expected: number) {
    this.bytes = new Uint8Array(Math.max(256, expected));
  }

  /** The bytes written so far (a view, not a copy). */
  result(): Uint8Array<ArrayBuffer> {
    return this.bytes.subarray(0, this.length);
  }

  private room(n: number): Uint8Array<ArrayBuffer> {
    if (this.length + n > this.bytes.length) {
      const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
      bigger.set(this.bytes.subarray(0, this.length));
      this.bytes = bigger;
    }
    return this.bytes;
  }

  /** Text known to be ASCII and JSON already (punctuation, keys, literals). */
  raw(s: string): void {
    const b = this.room(s.length);
    let at = this.length;
    for (let i = 0; i < s.length; i++) b[at++] = s.charCodeAt(i);
    this.length = at;
  }

  byte(c: number): void {
    this.room(1)[this.length++] = c;
  }

  /** A non-negative integer or any other number, as JSON.stringify prints it. */
  number(x: number): void {
    this.raw(JSON.stringify(x));
  }

  /** A JSON string: as is in quotes when nothing needs escaping, else JSON.stringify's text. */
  string(s: string): void {
    const b = this.room(s.length + 2);
    const start = this.length;
    let at = start;
    b[at++] = QUOTE;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < SPACE || c === QUOTE || c === BACKSLASH || c >= ASCII_END) {
        this.length = start;
        this.utf8(JSON.stringify(s));
        return;
      }
      b[at++] = c;
    }
    b[at++] = QUOTE;
    this.length = at;
  }

  /** Chain `id`'s name as a JSON string, copied from the table's pool of names. */
  chainName(chains: ChainTable, id: number): void {
    const n = chains.length(id);
    const b = this.room(n + 2);
    const start = this.length;
    let at = start;
    b[at++] = QUOTE;
    for (let i = 0; i < n; i++) {
      const c = chains.charCodeAt(id, i);
      if (c < SPACE || c === QUOTE || c === BACKSLASH) {
        this.length = start;
        this.string(chains.name(id));
        return;
      }
      b[at++] = c;
    }
    b[at++] = QUOTE;
    this.length = at;
  }

  /** Any string as UTF-8 (JSON.stringify leaves no lone surrogate: it escapes them). */
  private utf8(s: string): void {
    const b = this.room(s.length * 3);
    let at = this.length;
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) b[at++] = c;
      else if (c < 0x800) {
        b[at++] = 0xc0 | (c >> 6);
        b[at++] = 0x80 | (c & 63);
      } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
        c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
        b[at++] = 0xf0 | (c >> 18);
        b[at++] = 0x80 | ((c >> 12) & 63);
        b[at++] = 0x80 | ((c >> 6) & 63);
        b[at++] = 0x80 | (c & 63);
      } else {
        b[at++] = 0xe0 | (c >> 12);
        b[at++] = 0x80 | ((c >> 6) & 63);
        b[at++] = 0x80 | (c & 63);
      }
    }
    this.length = at;
  }

  /** `[{"endpoint":..,"probability":..,"chain":..}, ...]`, and the endpoints alone before it. */
  endpoints(details: readonly InspectJsonEndpoint[]): void {
    this.byte(91);
    for (let i = 0; i < details.length; i++) {
      if (i > 0) this.byte(44);
      this.string(details[i]!.endpoint);
    }
    this.raw('],"externalTrafficPolicy":');
  }

  endpointDetails(details: readonly InspectJsonEndpoint[]): void {
    this.byte(91);
    for (let i = 0; i < details.length; i++) {
      const d = details[i]!;
      this.raw(i === 0 ? '{"endpoint":' : ',{"endpoint":');
      this.string(d.endpoint);
      this.raw(',"probability":');
      this.number(d.probability);
      if (d.chain !== undefined) {
        this.raw(',"chain":');
        this.string(d.chain);
      }
      this.byte(125);
    }
    this.byte(93);
  }

  strings(list: readonly string[]): void {
    this.byte(91);
    for (let i = 0; i < list.length; i++) {
      if (i > 0) this.byte(44);
      this.string(list[i]!);
    }
    this.byte(93);
  }
}
