// The palette: saved groups (drag the whole group or one entry) and the sources seen right now on the
// nodes (conntrack), each marked when the edited list would block it. Every chip also has a plain
// "Add" button, the path that needs no dragging at all.
import { useDraggable, useDroppable } from '@dnd-kit/core';
import { memo, useCallback, useId, useMemo, useRef, useState } from 'react';
import type { DragPayload } from './announce';
import { uniqueKeys } from './edit';
import { useRovingFocus } from './roving';
import type { Chip, ChipGroup, GuardMode, ObservedSource } from './types';
import { canonicalCidr, chipCidr, chipName, findCovering } from './validate';

export interface PaletteActions {
  add(chips: readonly Chip[], group?: string): void;
}

interface PaletteProps {
  readonly entries: readonly Chip[];
  readonly groups: readonly ChipGroup[];
  readonly observed: readonly ObservedSource[];
  readonly loading: boolean;
  readonly error: string | undefined;
  readonly onRefresh: (() => void) | undefined;
  readonly mode: GuardMode;
  readonly disabled: boolean;
  readonly actions: PaletteActions;
  /** A chip of the allow-list is held: dropping it here removes it. */
  readonly removeTarget: boolean;
}

/** Sources beyond this many wait behind "Show all" (the busiest come first from the engine). */
const OBSERVED_SHOWN = 100;

type EntryState =
  | { readonly kind: 'free' }
  | { readonly kind: 'in-list' }
  | { readonly kind: 'covered'; readonly by: string }
  | { readonly kind: 'blocked' }
  | { readonly kind: 'unreadable' };

export const Palette = memo(function Palette(props: PaletteProps) {
  const { entries, groups, observed, loading, error, onRefresh, mode, disabled, actions, removeTarget } =
    props;
  const { setNodeRef, isOver } = useDroppable({ id: 'palette', disabled });
  const rootRef = useRef<HTMLDivElement>(null);
  const roving = useRovingFocus(rootRef);
  const [showAll, setShowAll] = useState(false);
  const groupsId = useId();
  const seenId = useId();
  const ref = useCallback(
    (el: HTMLDivElement | null) => {
      setNodeRef(el);
      rootRef.current = el;
    },
    [setNodeRef],
  );

  // One pass per list change: what each palette chip means for the edited list.
  const groupStates = useMemo(
    () => groups.map((g) => g.entries.map((chip) => entryState(entries, chip.cidr, false))),
    [groups, entries],
  );
  const seenStates = useMemo(
    () => observed.map((o) => entryState(entries, o.source, true)),
    [observed, entries],
  );
  // One chip object per source and refresh, so memoised rows stay equal while the list is edited.
  const seenChips = useMemo(
    () => observed.map((o): Chip => ({ cidr: canonicalCidr(o.source) ?? o.source })),
    [observed],
  );
  const groupKeys = useMemo(() => groups.map((g) => uniqueKeys(g.entries.map((c) => c.cidr))), [groups]);
  const seenKeys = useMemo(() => uniqueKeys(observed.map((o) => o.source)), [observed]);
  const blocked = seenStates.filter((s) => s.kind === 'blocked').length;
  const shown = showAll ? observed : observed.slice(0, OBSERVED_SHOWN);

  const cls = [
    'ale-palette',
    isOver && removeTarget && 'ale-palette--over',
    removeTarget && 'ale-palette--target',
  ]
    .filter(Boolean)
    .join(' ');
  return (
    <div ref={ref} className={cls} data-testid="palette" {...roving}>
      {removeTarget && (
        <p className="ale-drop-remove" aria-hidden="true">
          Drop here to remove from the allow-list
        </p>
      )}
      <section aria-labelledby={groupsId}>
        <h3 id={groupsId}>Saved groups</h3>
        {groups.length === 0 ? (
          <p className="ale-muted ale-small">No saved groups yet. Select entries and save them as a group.</p>
        ) : (
          <ul className="ale-groups">
            {groups.map((g, gi) => (
              <li key={g.name} className="ale-group">
                <GroupHeader group={g} states={groupStates[gi]!} disabled={disabled} actions={actions} />
                <ul className="ale-group-entries" aria-label={`Entries of ${g.name}`}>
                  {g.entries.map((chip, ci) => (
                    <PaletteChip
                      key={groupKeys[gi]![ci]}
                      id={`group:${g.name}:${ci}`}
                      chip={chip}
                      shown={chip.cidr}
                      label={chip.label}
                      state={groupStates[gi]![ci]!}
                      disabled={disabled}
                      actions={actions}
                    />
                  ))}
                </ul>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby={seenId} aria-busy={loading}>
        <div className="ale-section-head">
          <h3 id={seenId}>Seen now on the nodes</h3>
          {onRefresh && (
            <button
              type="button"
              className="ale-button ale-button--small"
              onClick={onRefresh}
              disabled={loading}
              aria-label="Refresh sources seen on the nodes"
              data-testid="observed-refresh"
            >
              <span aria-hidden="true">↻ </span>
              {loading ? 'Reading…' : 'Refresh'}
            </button>
          )}
        </div>
        {error && (
          <p className="ale-error ale-small" role="alert" data-testid="observed-error">
            Could not read connections: {error}
            {/[.!?]$/.test(error) ? '' : '.'}
            {onRefresh ? ' Press Refresh to try again.' : ''}
          </p>
        )}
        {loading && observed.length === 0 && (
          <p className="ale-muted ale-small">Reading conntrack on the nodes…</p>
        )}
        {!loading && !error && observed.length === 0 && (
          <p className="ale-muted ale-small">No connections to this port on the nodes right now.</p>
        )}
        {observed.length > 0 && (
          <p
            className={`ale-small ${blocked > 0 ? 'ale-warn-text' : 'ale-muted'}`}
            data-testid="observed-summary"
          >
            {blocked === 0
              ? `All ${observed.length} sources are allowed by the list.`
              : `${blocked} of ${observed.length} sources ${mode === 'audit' ? 'would be counted as blocked (audit blocks nothing)' : 'would be blocked'}.`}
            {loading ? ' Refreshing…' : ''}
          </p>
        )}
        {observed.length > 0 && (
          <ul className="ale-seen">
            {shown.map((o, i) => (
              <PaletteChip
                key={seenKeys[i]}
                id={`seen:${o.source}:${i}`}
                chip={seenChips[i]!}
                shown={o.source}
                count={o.count}
                nodes={o.nodes}
                state={seenStates[i]!}
                disabled={disabled}
                actions={actions}
              />
            ))}
          </ul>
        )}
        {observed.length > shown.length && (
          <button type="button" className="ale-button ale-button--small" onClick={() => setShowAll(true)}>
            Show all {observed.length} sources
          </button>
        )}
      </section>
    </div>
  );
});

function entryState(entries: readonly Chip[], source: string, seen: boolean): EntryState {
  const cidr = canonicalCidr(source);
  if (cidr === undefined) return { kind: 'unreadable' };
  const by = findCovering(entries, cidr);
  if (!by) return seen ? { kind: 'blocked' } : { kind: 'free' };
  return chipCidr(by) === cidr && !seen ? { kind: 'in-list' } : { kind: 'covered', by: chipName(by) };
}

const CHIP_ATTRIBUTES = { role: 'listitem', roleDescription: 'draggable address', tabIndex: -1 } as const;
const GROUP_ATTRIBUTES = { roleDescription: 'draggable group', tabIndex: -1 } as const;

interface PaletteChipProps {
  readonly id: string;
  readonly chip: Chip;
  /** The text shown: a group entry's CIDR, or the source as the nodes reported it. */
  readonly shown: string;
  readonly label?: string | undefined;
  readonly count?: number;
  readonly nodes?: readonly string[];
  readonly state: EntryState;
  readonly disabled: boolean;
  readonly actions: PaletteActions;
}

const PaletteChip = memo(function PaletteChip(props: PaletteChipProps) {
  const { id, chip, shown, label, count, nodes, state, disabled, actions } = props;
  const data = useMemo<DragPayload>(() => ({ from: 'palette', chips: [chip] }), [chip]);
  const unreadable = state.kind === 'unreadable';
  const drag = useDraggable({ id, data, disabled: disabled || unreadable, attributes: CHIP_ATTRIBUTES });
  const name = label ? `${shown} (${label})` : shown;
  const present = state.kind === 'in-list' || state.kind === 'covered';
  const status = describeState(state, count !== undefined);
  const seen =
    count === undefined
      ? ''
      : `seen ${count} ${count === 1 ? 'time' : 'times'} on ${nodes?.join(', ') || 'no node'}`;
  const described = [name, seen, status].filter(Boolean).join(', ');
  return (
    <li
      ref={useMergedRef(drag.setNodeRef, drag.setActivatorNodeRef)}
      {...drag.attributes}
      {...drag.listeners}
      aria-label={described}
      title={[seen, status].filter(Boolean).join(' · ') || undefined}
      className={`ale-chip ale-chip--palette ale-chip--${state.kind}${drag.isDragging ? ' ale-chip--held' : ''}`}
      data-testid="palette-chip"
      data-cidr={chip.cidr}
      data-state={state.kind}
      data-nav-row=""
      data-nav-cell=""
    >
      {state.kind === 'blocked' && (
        <span className="ale-mark ale-mark--warn" aria-hidden="true">
          ⚠
        </span>
      )}
      {(state.kind === 'in-list' || state.kind === 'covered') && (
        <span className="ale-mark ale-mark--ok" aria-hidden="true">
          ✓
        </span>
      )}
      <span className="ale-cidr">{shown}</span>
      {label && <span className="ale-label">{label}</span>}
      {count !== undefined && <span className="ale-count">×{count}</span>}
      {state.kind === 'blocked' && <span className="ale-blocked">would be blocked</span>}
      <button
        type="button"
        className="ale-icon ale-icon--add"
        tabIndex={-1}
        data-nav-cell=""
        aria-label={`Add ${name} to the allow-list${present ? ' (already allowed)' : ''}`}
        aria-disabled={present || unreadable || undefined}
        disabled={disabled}
        data-testid="palette-add"
        onClick={() => {
          if (!unreadable) actions.add([chip]);
        }}
      >
        <span aria-hidden="true">+</span>
      </button>
    </li>
  );
});

function describeState(state: EntryState, seen: boolean): string {
  switch (state.kind) {
    case 'free':
      return '';
    case 'in-list':
      return 'in the allow-list';
    case 'covered':
      return seen ? `allowed by ${state.by}` : `covered by ${state.by}`;
    case 'blocked':
      return 'would be blocked';
    case 'unreadable':
      return 'not an address';
  }
}

function GroupHeader(props: {
  group: ChipGroup;
  states: readonly EntryState[];
  disabled: boolean;
  actions: PaletteActions;
}) {
  const { group, states, disabled, actions } = props;
  const data = useMemo<DragPayload>(
    () => ({ from: 'palette', chips: group.entries, group: group.name }),
    [group],
  );
  const drag = useDraggable({ id: `group:${group.name}`, data, disabled, attributes: GROUP_ATTRIBUTES });
  const ref = useMergedRef<HTMLButtonElement>(drag.setNodeRef, drag.setActivatorNodeRef);
  const n = group.entries.length;
  const present = states.filter((s) => s.kind !== 'free').length;
  const entriesText = `${n} ${n === 1 ? 'entry' : 'entries'}${present > 0 ? `, ${present} already allowed` : ''}`;
  // The draggable part and the Add button are siblings: a button inside a button would hide it.
  return (
    <div className={`ale-chip ale-chip--group${drag.isDragging ? ' ale-chip--held' : ''}`} data-nav-row="">
      <button
        type="button"
        ref={ref}
        {...drag.attributes}
        {...drag.listeners}
        aria-label={`group ${group.name}, ${entriesText}`}
        className="ale-group-handle"
        data-testid="palette-group"
        data-group={group.name}
        data-nav-cell=""
        tabIndex={-1}
        disabled={disabled}
      >
        <span className="ale-mark" aria-hidden="true">
          ▦
        </span>
        <span className="ale-group-name">{group.name}</span>
        <span className="ale-muted ale-small">{entriesText}</span>
      </button>
      <button
        type="button"
        className="ale-icon ale-icon--add"
        tabIndex={-1}
        data-nav-cell=""
        aria-label={`Add all ${n} ${n === 1 ? 'entry' : 'entries'} of ${group.name} to the allow-list${present === n ? ' (all already allowed)' : ''}`}
        aria-disabled={present === n || undefined}
        disabled={disabled}
        data-testid="palette-group-add"
        onClick={() => actions.add(group.entries, group.name)}
      >
        <span aria-hidden="true">+</span>
      </button>
    </div>
  );
}

function useMergedRef<T>(a: (el: T | null) => void, b: (el: T | null) => void) {
  return useCallback(
    (el: T | null) => {
      a(el);
      b(el);
    },
    [a, b],
  );
}
