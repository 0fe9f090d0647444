// A short fingerprint of a text, for "is this still the state the plan was made from?" and for naming a
// plan in logs and history. FNV-1a 64-bit: tiny, synchronous and the same in the renderer, main and
// CLI (shared/ may not use node:crypto, and WebCrypto is async). It detects accidental change, not an
// adversary: anyone who can rewrite the node's rules can do worse than forge a collision.
const OFFSET = 0xcbf29ce484222325n;
const PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;

export function fingerprint(text: string): string {
  let h = OFFSET;
  // UTF-16 code units are fine: both sides hash the same JS string.
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * PRIME) & MASK;
  }
  return h.toString(16).padStart(16, '0');
}
