// What screen readers hear while chips are dragged (dnd-kit `accessibility`), as pure functions of the
// drag and the list, so every sentence is tested and the words match what the drop really does.
import { applyDrop } from './edit';
import type { Chip, DropTarget } from './types';
import { canonicalCidr, chipName } from './validate';

/** What a draggable carries: one chip, or all entries of a saved group, and where it came from. */
export interface DragPayload {
  readonly from: DropTarget;
  readonly chips: readonly Chip[];
  /** Set when the whole saved group is dragged. */
  readonly group?: string;
}

export const CANCELLED = 'Cancelled: nothing changed';

export const SCREEN_READER_INSTRUCTIONS =
  'Press Space or Enter to pick up this address. While holding it, Up or Left moves it over the ' +
  'allow-list, Down or Right over the palette; Space or Enter drops it there, Escape cancels. ' +
  'Arrow keys move between chips when nothing is held. On an allow-list entry, Delete removes it and ' +
  'F2 edits its label.';

/** "198.18.100.0/24 (office)", or "group office (3 entries)". */
export function payloadName(p: DragPayload): string {
  if (p.group !== undefined) return `group ${p.group} (${count(p.chips.length)})`;
  const [only] = p.chips;
  return only ? chipName(only) : 'nothing';
}

export function pickedUp(p: DragPayload): string {
  return `Picked up ${payloadName(p)}`;
}

export function overMessage(p: DragPayload, over: DropTarget | null): string {
  if (over === null) return 'Not over a drop area: dropping changes nothing';
  if (over === p.from) {
    return `Over the ${over === 'allow' ? 'allow-list' : 'palette'}, where it came from: dropping changes nothing`;
  }
  return over === 'allow'
    ? 'Over the allow-list'
    : `Over the palette: dropping removes ${payloadName(p)} from the allow-list`;
}

/** The sentence for a drop of `p` on `over`, given the list before the drop. */
export function dropMessage(
  entries: readonly Chip[],
  p: DragPayload,
  over: DropTarget | null,
  portLabel: string,
): string {
  if (over === null || over === p.from) return `Dropped ${payloadName(p)} where it was: nothing changed`;
  return over === 'allow'
    ? addition(entries, p, portLabel, 'Dropped', 'into')
    : removal(entries, p, portLabel);
}

/** The sentence for an "Add" button or a typed entry (no drag). */
export function addMessage(entries: readonly Chip[], p: DragPayload, portLabel: string): string {
  return addition(entries, p, portLabel, 'Added', 'to');
}

function addition(
  entries: readonly Chip[],
  p: DragPayload,
  portLabel: string,
  verb: string,
  into: string,
): string {
  const added = applyDrop(entries, p.chips, 'allow').length - entries.length;
  if (added === 0) return `${payloadName(p)}: already in the allow-list, nothing changed`;
  const skipped = p.chips.length - added;
  const note = skipped > 0 ? ` (${count(skipped)} already there)` : '';
  return `${verb} ${what(p, added)} ${into} the allow-list of ${portLabel}${note}`;
}

function removal(entries: readonly Chip[], p: DragPayload, portLabel: string): string {
  const removed = entries.length - applyDrop(entries, p.chips, 'palette').length;
  if (removed === 0) return `${payloadName(p)} is not in the allow-list: nothing changed`;
  return `Removed ${what(p, removed)} from the allow-list of ${portLabel}`;
}

/** "198.18.100.0/24" for one chip; "2 entries of group office" for a group. */
function what(p: DragPayload, changed: number): string {
  if (p.group !== undefined) return `${count(changed)} of group ${p.group}`;
  const cidr = p.chips[0]?.cidr ?? '';
  return canonicalCidr(cidr) ?? cidr;
}

function count(n: number): string {
  return `${n} ${n === 1 ? 'entry' : 'entries'}`;
}
