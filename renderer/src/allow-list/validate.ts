// Pure checks behind the allow-list editor: a typed entry validated as typed, and which sources the
// edited list would block. Parsing goes through shared/guard/cidr.ts (ipaddr.js behind a strict
// grammar: no octal "010.0.0.1", no "10" meaning 0.0.0.10, no zone ids), so a chip the editor accepts
// is exactly a value the planner accepts; the address maths here is ipaddr.js's `match`.
import ipaddr from 'ipaddr.js';
import { parseCidr } from '../../../shared/guard/cidr';
import type { Chip } from './types';

type Addr = ipaddr.IPv4 | ipaddr.IPv6;

/** An entry of the edited list, parsed once. */
interface ParsedEntry {
  readonly chip: Chip;
  readonly cidr: string;
  readonly addr: Addr;
  readonly prefix: number;
}

interface EntryIndex {
  /** Canonical CIDR -> first entry with it. */
  readonly byCidr: ReadonlyMap<string, Chip>;
  readonly parsed: readonly ParsedEntry[];
}

/** Not errors: what the user should know before adding. 'spelling' is information, the rest caution. */
export interface EntryNote {
  readonly kind: 'spelling' | 'ipv4-mapped' | 'covered' | 'covers' | 'allows-all';
  readonly message: string;
}

export type EntryCheck =
  | { readonly ok: true; readonly cidr: string; readonly notes: readonly EntryNote[] }
  | {
      readonly ok: false;
      readonly reason: 'empty' | 'invalid' | 'host-bits' | 'duplicate';
      readonly message: string;
      /** Values the user probably meant (host bits set: the network, and the single address). */
      readonly suggestions: readonly string[];
    };

/** `198.18.100.0/24 (office)`: how a chip is named in buttons, notes and announcements. */
export function chipName(chip: Chip): string {
  return chip.label ? `${chip.cidr} (${chip.label})` : chip.cidr;
}

/** The canonical CIDR (host bits cleared, /32 or /128 for an address), or undefined if not an address. */
export function canonicalCidr(text: string): string | undefined {
  const r = parseCidr(text.trim());
  return r.ok ? r.value.cidr : undefined;
}

// Chips and lists are immutable props. Each chip object is parsed once (an edit keeps the other chips'
// objects), and each list's index is built once and reused by every keystroke and every observed
// source: a 1,000-entry list costs one parse per new chip, not a thousand per check.
const parsedChips = new WeakMap<Chip, ParsedEntry | null>();
const indexes = new WeakMap<readonly Chip[], EntryIndex>();

function parseChip(chip: Chip): ParsedEntry | null {
  let parsed = parsedChips.get(chip);
  if (parsed === undefined) {
    const r = parseCidr(chip.cidr.trim());
    parsed = r.ok
      ? { chip, cidr: r.value.cidr, addr: ipaddr.parse(r.value.address), prefix: r.value.prefix }
      : null;
    parsedChips.set(chip, parsed);
  }
  return parsed;
}

/** The canonical CIDR of a chip (cached per chip object), or undefined if it is not an address. */
export function chipCidr(chip: Chip): string | undefined {
  return parseChip(chip)?.cidr;
}

function indexOf(entries: readonly Chip[]): EntryIndex {
  const cached = indexes.get(entries);
  if (cached) return cached;
  const byCidr = new Map<string, Chip>();
  const parsed: ParsedEntry[] = [];
  for (const chip of entries) {
    const p = parseChip(chip);
    if (!p) continue;
    if (!byCidr.has(p.cidr)) byCidr.set(p.cidr, chip);
    parsed.push(p);
  }
  const index = { byCidr, parsed };
  indexes.set(entries, index);
  return index;
}

/** True when every address of (addr, prefix) lies inside `outer`; false across families. */
function inside(addr: Addr, prefix: number, outer: ParsedEntry): boolean {
  if (prefix < outer.prefix) return false;
  if (addr.kind() === 'ipv4' && outer.addr.kind() === 'ipv4') {
    return (addr as ipaddr.IPv4).match(outer.addr as ipaddr.IPv4, outer.prefix);
  }
  if (addr.kind() === 'ipv6' && outer.addr.kind() === 'ipv6') {
    return (addr as ipaddr.IPv6).match(outer.addr as ipaddr.IPv6, outer.prefix);
  }
  return false;
}

/** The first entry of `entries` that admits all of `source` (an address or CIDR), if any. */
export function findCovering(entries: readonly Chip[], source: string): Chip | undefined {
  const r = parseCidr(source.trim());
  if (!r.ok) return undefined;
  const addr = ipaddr.parse(r.value.address);
  return indexOf(entries).parsed.find((e) => inside(addr, r.value.prefix, e))?.chip;
}

/**
 * True when the edited list would block `source` (an address or CIDR seen on the nodes): no entry
 * admits all of it. An empty list blocks everything. A source that is not an address cannot be
 * judged and gives false; the caller shows it as unreadable.
 */
export function wouldBlock(entries: readonly Chip[], source: string): boolean {
  if (canonicalCidr(source) === undefined) return false;
  return findCovering(entries, source) === undefined;
}

const familyName = (cidr: string): string => (cidr.includes(':') ? 'IPv6' : 'IPv4');

/**
 * Validate what the user typed in "Add address or CIDR", against the list it would join. Surrounding
 * blanks are ignored; anything else must be an IPv4/IPv6 address or CIDR as written. Host bits set is
 * an error with suggestions (the user meant the network or the single address; we do not guess).
 * Redundancy is not an error but a note: the planner drops covered entries and says so.
 */
export function validateEntry(text: string, entries: readonly Chip[]): EntryCheck {
  const typed = text.trim();
  if (typed === '') {
    return { ok: false, reason: 'empty', message: 'type an IPv4 or IPv6 address or CIDR', suggestions: [] };
  }
  const r = parseCidr(typed);
  if (!r.ok) return { ok: false, reason: 'invalid', message: r.error.reason, suggestions: [] };
  const { cidr, prefix, address } = r.value;

  const notes: EntryNote[] = [];
  for (const n of r.notes) {
    if (n.kind === 'host-bits-cleared') {
      const host = canonicalCidr(typed.slice(0, typed.indexOf('/')));
      return {
        ok: false,
        reason: 'host-bits',
        message: `host bits set: did you mean ${cidr}?`,
        suggestions: host && host !== cidr ? [cidr, host] : [cidr],
      };
    }
    notes.push({
      kind: 'ipv4-mapped',
      message: `an IPv4-mapped IPv6 address: adds ${n.to}, the IPv4 source it means`,
    });
  }

  const index = indexOf(entries);
  const same = index.byCidr.get(cidr);
  if (same) {
    const as = same.cidr === cidr ? '' : ` as ${same.cidr}`;
    return {
      ok: false,
      reason: 'duplicate',
      message: `already in the list${as}${same.label ? ` (${same.label})` : ''}`,
      suggestions: [],
    };
  }
  if (notes.length === 0 && cidr !== typed) notes.push({ kind: 'spelling', message: `adds ${cidr}` });
  const added: ParsedEntry = { chip: { cidr }, cidr, addr: ipaddr.parse(address), prefix };
  const by = index.parsed.find((e) => inside(added.addr, prefix, e));
  if (by) {
    notes.push({
      kind: 'covered',
      message: `covered by an existing entry: ${chipName(by.chip)}; adding it changes nothing`,
    });
  }
  const covers = index.parsed.filter((e) => inside(e.addr, e.prefix, added));
  if (covers.length > 0) {
    const first = covers[0]!;
    const more = covers.length > 1 ? ` and ${covers.length - 1} more` : '';
    notes.push({
      kind: 'covers',
      message: `covers ${covers.length === 1 ? 'an existing entry' : `${covers.length} existing entries`}: ${chipName(first.chip)}${more}`,
    });
  }
  if (prefix === 0) {
    notes.push({
      kind: 'allows-all',
      message: `allows every ${familyName(cidr)} source: the guard blocks nobody over ${familyName(cidr)}`,
    });
  }
  return { ok: true, cidr, notes };
}

// Labels end up in rule comments and one-line messages (shared/workspace/schema.ts: plain text, 200).
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;
export const LABEL_MAX = 200;

/** A label as typed, made safe: control characters become spaces, trimmed, cut; empty means none. */
export function cleanLabel(text: string): string | undefined {
  const clean = text.replace(CONTROL, ' ').trim().slice(0, LABEL_MAX).trim();
  return clean === '' ? undefined : clean;
}
