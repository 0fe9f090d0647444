// A NodePort's allow-list, normalised: every entry parsed into a Cidr, duplicates and entries already
// covered by a wider entry dropped (and reported, so the user learns their list had redundancy), the
// rest sorted deterministically and split by family, because v4 rules go to iptables and v6 rules to
// ip6tables. Sort + one sweep keeps 1,000-entry lists cheap (O(n log n)).

import type { Family } from '../vocabulary';
import { familyName } from '../vocabulary';
import type { AllowEntry } from '../workspace/schema';
import { type Cidr, type CidrValue, cidrContains, compareCidrs, parseCidr } from './cidr';
import { type FieldError, fieldError, showValue } from './field-error';

export interface AllowRule {
  readonly value: CidrValue;
  readonly label?: string;
  /** Where the entry came from, e.g. `policy.nodePorts[0].allow[3]`. */
  readonly path: string;
}

export interface AllowList {
  readonly ipv4: readonly AllowRule[];
  readonly ipv6: readonly AllowRule[];
}

export type AllowListNote =
  | {
      readonly kind: 'host-bits-cleared';
      readonly path: string;
      readonly from: string;
      readonly to: Cidr;
      readonly message: string;
    }
  | {
      readonly kind: 'ipv4-mapped';
      readonly path: string;
      readonly from: string;
      readonly to: Cidr;
      readonly message: string;
    }
  | {
      readonly kind: 'duplicate';
      readonly path: string;
      readonly cidr: Cidr;
      readonly keptPath: string;
      readonly message: string;
    }
  | {
      readonly kind: 'covered';
      readonly path: string;
      readonly cidr: Cidr;
      readonly by: Cidr;
      readonly byPath: string;
      readonly message: string;
    }
  | { readonly kind: 'allows-all'; readonly path: string; readonly family: Family; readonly message: string };

export type AllowListResult =
  | { readonly ok: true; readonly list: AllowList; readonly notes: readonly AllowListNote[] }
  | { readonly ok: false; readonly errors: readonly FieldError[]; readonly notes: readonly AllowListNote[] };

export const EMPTY_ALLOW_LIST: AllowList = { ipv4: [], ipv6: [] };

/** Control characters in a label would break the one-line rule comment and every one-line message. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Normalise `entries` (found at `path`, e.g. `policy.nodePorts[2].allow`). All errors are collected,
 * not only the first, so a user fixes a long list in one pass.
 */
export function normaliseAllowList(entries: readonly AllowEntry[], path: string): AllowListResult {
  const errors: FieldError[] = [];
  const notes: AllowListNote[] = [];
  const parsed: AllowRule[] = [];
  entries.forEach((entry, i) => {
    const at = `${path}[${i}]`;
    if (entry.label !== undefined && CONTROL.test(entry.label)) {
      errors.push(fieldError(`${at}.label`, `${showValue(entry.label)} contains a control character`));
    }
    const r = parseCidr(entry.cidr, `${at}.cidr`);
    if (!r.ok) {
      errors.push(r.error);
      return;
    }
    for (const n of r.notes) {
      const message =
        n.kind === 'host-bits-cleared'
          ? `${at}.cidr: ${showValue(n.from)} has host bits set; using ${n.to}`
          : `${at}.cidr: ${showValue(n.from)} is an IPv4-mapped IPv6 address; using ${n.to} (IPv4)`;
      notes.push({ ...n, path: at, message });
    }
    parsed.push(
      entry.label === undefined
        ? { value: r.value, path: at }
        : { value: r.value, label: entry.label, path: at },
    );
  });
  if (errors.length > 0) return { ok: false, errors, notes };
  const { kept, dropped } = sweep(parsed);
  notes.push(...dropped);
  for (const rule of kept) {
    if (rule.value.prefix === 0) {
      notes.push({
        kind: 'allows-all',
        path: rule.path,
        family: rule.value.family,
        message: `${rule.path}.cidr: ${rule.value.cidr} allows every ${familyName(rule.value.family)} source; the guard blocks nobody over ${familyName(rule.value.family)}`,
      });
    }
  }
  return {
    ok: true,
    list: {
      ipv4: kept.filter((r) => r.value.family === 'ipv4'),
      ipv6: kept.filter((r) => r.value.family === 'ipv6'),
    },
    notes,
  };
}

/**
 * Sorted by (network, prefix), an entry covered by another always comes after it, and the entries kept
 * so far are pairwise disjoint; so an entry is redundant exactly when the last kept entry contains it.
 */
function sweep(rules: readonly AllowRule[]): { kept: AllowRule[]; dropped: AllowListNote[] } {
  const order = rules.map((r, i) => ({ r, i }));
  order.sort((a, b) => compareCidrs(a.r.value, b.r.value) || a.i - b.i);
  const kept: AllowRule[] = [];
  const dropped: AllowListNote[] = [];
  for (const { r } of order) {
    const last = kept[kept.length - 1];
    if (last && last.value.cidr === r.value.cidr) {
      dropped.push({
        kind: 'duplicate',
        path: r.path,
        cidr: r.value.cidr,
        keptPath: last.path,
        message: `${r.path}.cidr: ${r.value.cidr} duplicates ${last.path}; dropped`,
      });
    } else if (last && cidrContains(last.value, r.value)) {
      dropped.push({
        kind: 'covered',
        path: r.path,
        cidr: r.value.cidr,
        by: last.value.cidr,
        byPath: last.path,
        message: `${r.path}.cidr: ${r.value.cidr} is already covered by ${last.value.cidr} (${last.path}); dropped`,
      });
    } else {
      kept.push(r);
    }
  }
  return { kept, dropped };
}

/** The allow entries of one family. */
export function allowRulesOf(list: AllowList, family: Family): readonly AllowRule[] {
  return family === 'ipv4' ? list.ipv4 : list.ipv6;
}

/** The entry that admits `source` (an address or CIDR, fully inside one entry), if any. */
export function findAllowing(list: AllowList, source: CidrValue): AllowRule | undefined {
  return allowRulesOf(list, source.family).find((r) => cidrContains(r.value, source));
}

/**
 * How much of `range` the list admits: all of it, part of it, or none. A normalised list's entries are
 * pairwise disjoint, so the entries inside `range` cover it exactly when their sizes add up to its size
 * (two /17 entries admit a whole /16).
 */
export function coverage(list: AllowList, range: CidrValue): 'all' | 'part' | 'none' {
  const rules = allowRulesOf(list, range.family);
  if (rules.some((r) => cidrContains(r.value, range))) return 'all';
  const inside = rules.filter((r) => cidrContains(range, r.value));
  if (inside.length === 0) return 'none';
  const bits = range.family === 'ipv4' ? 32n : 128n;
  const size = (prefix: number): bigint => 1n << (bits - BigInt(prefix));
  const sum = inside.reduce((acc, r) => acc + size(r.value.prefix), 0n);
  return sum === size(range.prefix) ? 'all' : 'part';
}
