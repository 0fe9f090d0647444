// Edits as data: every change the editor makes (drop, remove, typed add, relabel) is one of these pure
// functions from the current list to the next, so the planner checks exactly what the UI previewed.

import type { Chip, DropTarget } from './types';
import { chipCidr } from './validate';

/**
 * The list after `dropped` lands on `target`.
 * - 'allow': each dropped chip not yet in the list (by canonical CIDR) is appended, in the order
 *   dropped, as its canonical CIDR with its label; chips already there keep their own label and place.
 *   A chip that is not an address is skipped.
 * - 'palette': every entry whose canonical CIDR is one of the dropped chips' is removed.
 * The order of the entries that stay is unchanged. Nothing changed <=> same length as `entries`.
 */
export function applyDrop(entries: readonly Chip[], dropped: readonly Chip[], target: DropTarget): Chip[] {
  switch (target) {
    case 'allow': {
      const present = new Set<string>();
      for (const e of entries) present.add(chipCidr(e) ?? e.cidr);
      const next = entries.slice();
      for (const chip of dropped) {
        const cidr = chipCidr(chip);
        if (cidr === undefined || present.has(cidr)) continue;
        present.add(cidr);
        next.push(chip.label ? { cidr, label: chip.label } : { cidr });
      }
      return next;
    }
    case 'palette': {
      const gone = new Set<string>();
      for (const chip of dropped) gone.add(chipCidr(chip) ?? chip.cidr);
      return entries.filter((e) => !gone.has(chipCidr(e) ?? e.cidr));
    }
    default:
      return assertNever(target);
  }
}

/** The list without the entry at `index`. */
export function removeAt(entries: readonly Chip[], index: number): Chip[] {
  return entries.filter((_, i) => i !== index);
}

/** The list with the entry at `index` relabelled (`undefined`: no label). Same list if unchanged. */
export function relabelAt(entries: readonly Chip[], index: number, label: string | undefined): Chip[] {
  return entries.map((e, i) =>
    i !== index || e.label === label ? e : label ? { cidr: e.cidr, label } : { cidr: e.cidr },
  );
}

/** React keys for values that may repeat: the value, then `value#1`, `value#2` for repeats. */
export function uniqueKeys(values: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return values.map((v) => {
    const n = seen.get(v) ?? 0;
    seen.set(v, n + 1);
    return n === 0 ? v : `${v}#${n}`;
  });
}

function assertNever(value: never): never {
  throw new Error(`unexpected value: ${String(value)}`);
}
