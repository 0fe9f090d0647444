// The allow-list editor's data, as its props carry it. Plain readonly data: the editor never mutates
// what it is given, every edit is a new list passed to `onChange`.

/** One allow-list entry: an address or CIDR, with an optional human label ("office", "lb-hc"). */
export interface Chip {
  readonly cidr: string;
  readonly label?: string;
}

/** A source seen right now on the nodes for this NodePort (conntrack), with how often and where. */
export interface ObservedSource {
  readonly source: string;
  readonly count: number;
  readonly nodes: readonly string[];
}

export interface ChipGroup {
  readonly name: string;
  readonly entries: readonly Chip[];
}

export type GuardMode = 'enforce' | 'audit';

/** Where a dragged chip can land: the edited list, or back on the palette (which removes it). */
export type DropTarget = 'allow' | 'palette';

export interface AllowListEditorProps {
  /** "30001/tcp default/web:http" */
  portLabel: string;
  /** The allow-list being edited (controlled). */
  entries: readonly Chip[];
  /** Every edit (drop, remove, typed add, relabel) calls this with the new list. */
  onChange(next: Chip[]): void;
  /** Saved groups (office, VPN, health checkers) in the palette. */
  groups: readonly ChipGroup[];
  /** Sources seen right now on the nodes for this port (conntrack), with counts. */
  observed: readonly ObservedSource[];
  observedLoading?: boolean;
  observedError?: string;
  onRefreshObserved?(): void;
  /** "Save these chips as a group." */
  onSaveGroup?(name: string, entries: Chip[]): void;
  mode: GuardMode;
  onModeChange(mode: GuardMode): void;
  /** Planner warnings shown next to the list (lockout, node addresses, pod CIDR, health checks, IPv6). */
  warnings: readonly string[];
  disabled?: boolean;
}
