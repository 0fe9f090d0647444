// The drop zone "Allowed sources": one row per entry (address, label, edit, remove).
//
// Size: dnd-kit re-renders every useDraggable on each drag start, area change and end. A row per hook
// made picking up a chip cost ~1,000 renders on a 1,000-entry list, so the list has ONE draggable:
// a row arms it (its element and chip) on pointerdown/keydown, in the capture phase, just before
// dnd-kit's own handler reads them. Rows are memoised, consume no dnd-kit context and know their
// chip, not their position: a drag, or removing one entry, re-renders no other row.
import { useDraggable, useDroppable } from '@dnd-kit/core';
import {
  type HTMLAttributes,
  type KeyboardEvent,
  memo,
  type RefObject,
  useId,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import type { DragPayload } from './announce';
import { uniqueKeys } from './edit';
import { useRovingFocus } from './roving';
import type { Chip, GuardMode } from './types';
import { chipName, cleanLabel, LABEL_MAX } from './validate';

export interface ZoneActions {
  remove(chip: Chip): void;
  relabel(chip: Chip, label: string | undefined): void;
}

/** What the zone does after the next render: focus a row after a removal, or reveal an added entry. */
export type ZoneRequest = { readonly focusIndex: number } | { readonly reveal: string } | null;

interface AllowZoneProps {
  readonly entries: readonly Chip[];
  readonly mode: GuardMode;
  readonly disabled: boolean;
  readonly actions: ZoneActions;
  readonly request: RefObject<ZoneRequest>;
  readonly zoneRef: RefObject<HTMLDivElement | null>;
  /** Shown while a chip of this list is held: the palette is where it goes to be removed. */
  readonly holding: 'own' | 'palette' | null;
}

const ROW_ATTRIBUTES = { role: 'listitem', roleDescription: 'draggable address', tabIndex: -1 } as const;
/** The list's one draggable. */
const LIST_DRAGGABLE = 'allow-row';

export const AllowZone = memo(function AllowZone(props: AllowZoneProps) {
  const { entries, mode, disabled, actions, request, zoneRef, holding } = props;
  const { setNodeRef, isOver } = useDroppable({ id: 'allow', disabled });
  const [editing, setEditing] = useState<string | null>(null);
  const headingId = useId();
  const listRef = useRef<HTMLUListElement>(null);
  const roving = useRovingFocus(listRef);

  // Row ids: the CIDR, with a counter if a caller's list repeats one (the editor itself never does).
  const ids = useMemo(() => uniqueKeys(entries.map((e) => e.cidr)), [entries]);

  const armed = useRef<Chip | null>(null);
  const data = useMemo<DragPayload>(
    () => ({
      from: 'allow',
      get chips() {
        return armed.current ? [armed.current] : [];
      },
    }),
    [],
  );
  const drag = useDraggable({ id: LIST_DRAGGABLE, data, disabled, attributes: ROW_ATTRIBUTES });
  const { setNodeRef: setDragNode, setActivatorNodeRef: setDragActivator, listeners } = drag;
  const role = drag.attributes.role;
  const describedBy = drag.attributes['aria-describedby'];
  const roleDescription = drag.attributes['aria-roledescription'];
  // The same attributes on every row, equal across renders (dnd-kit's own object changes per drag).
  const rowDrag = useMemo<RowDrag>(
    () => ({
      attributes: {
        role,
        tabIndex: -1,
        'aria-roledescription': roleDescription,
        'aria-describedby': describedBy,
      },
      listeners,
      arm(el: HTMLLIElement, chip: Chip) {
        armed.current = chip;
        setDragNode(el);
        setDragActivator(el);
      },
    }),
    [role, roleDescription, describedBy, listeners, setDragNode, setDragActivator],
  );
  const heldChip = drag.isDragging ? armed.current : null;

  // biome-ignore lint/correctness/useExhaustiveDependencies: the request is for the render of a new list.
  useLayoutEffect(() => {
    const req = request.current;
    const list = listRef.current;
    request.current = null;
    if (!req) return;
    if ('focusIndex' in req) {
      const rows = list?.querySelectorAll<HTMLElement>('[data-nav-row]') ?? [];
      const row = rows[Math.min(req.focusIndex, rows.length - 1)];
      (row ?? zoneRef.current?.querySelector<HTMLElement>('.ale-zone'))?.focus();
    } else {
      const row = list?.querySelector<HTMLElement>(`[data-cidr="${CSS.escape(req.reveal)}"]`);
      if (row) {
        row.scrollIntoView({ block: 'nearest' });
        row.classList.add('ale-chip--new');
        row.addEventListener('animationend', () => row.classList.remove('ale-chip--new'), { once: true });
      }
    }
  }, [entries, request, zoneRef]);

  const rowActions = useMemo(
    () => ({
      ...actions,
      startEdit: (id: string) => setEditing(id),
      stopEdit: () => setEditing(null),
    }),
    [actions],
  );

  const zoneClass = ['ale-zone', isOver && 'ale-zone--over', holding === 'palette' && 'ale-zone--target']
    .filter(Boolean)
    .join(' ');
  return (
    <div className="ale-zone-wrap" ref={zoneRef}>
      <div className="ale-zone-head">
        <h3 id={headingId}>Allowed sources</h3>
        <span className="ale-muted" data-testid="allow-count">
          {entries.length} {entries.length === 1 ? 'entry' : 'entries'}
        </span>
        {holding === 'own' && <span className="ale-hint-remove">drop on the palette to remove</span>}
      </div>
      <div ref={setNodeRef} className={zoneClass} data-testid="allow-zone" data-mode={mode} tabIndex={-1}>
        {entries.length === 0 ? (
          <p className="ale-empty">
            {mode === 'audit'
              ? 'Empty: audit would count every source. '
              : 'Empty: every source would be blocked. '}
            Drag a group or an address here, or type one below.
          </p>
        ) : (
          <ul ref={listRef} className="ale-list" aria-labelledby={headingId} {...roving}>
            {entries.map((chip, i) => (
              <AllowRow
                key={ids[i]}
                id={ids[i]!}
                chip={chip}
                editing={editing === ids[i]}
                disabled={disabled}
                held={heldChip === chip}
                actions={rowActions}
                drag={rowDrag}
              />
            ))}
          </ul>
        )}
      </div>
    </div>
  );
});

interface RowActions extends ZoneActions {
  startEdit(id: string): void;
  stopEdit(): void;
}

interface RowDrag {
  readonly attributes: HTMLAttributes<HTMLElement>;
  readonly listeners: ReturnType<typeof useDraggable>['listeners'];
  /** Point the list's draggable at this row and chip (before dnd-kit's handler runs). */
  arm(el: HTMLLIElement, chip: Chip): void;
}

interface AllowRowProps {
  readonly id: string;
  readonly chip: Chip;
  readonly editing: boolean;
  readonly disabled: boolean;
  readonly held: boolean;
  readonly actions: RowActions;
  readonly drag: RowDrag;
}

const AllowRow = memo(function AllowRow(props: AllowRowProps) {
  const { id, chip, editing, disabled, held, actions, drag } = props;
  const { listeners } = drag;
  const name = chipName(chip);
  const onKeyDown = (e: KeyboardEvent<HTMLLIElement>) => {
    if (e.target === e.currentTarget && !disabled) {
      if (e.key === 'Delete' || e.key === 'Backspace') {
        e.preventDefault();
        actions.remove(chip);
        return;
      }
      if (e.key === 'F2') {
        e.preventDefault();
        actions.startEdit(id);
        return;
      }
    }
    listeners?.onKeyDown?.(e);
  };

  return (
    <li
      {...drag.attributes}
      {...listeners}
      onPointerDownCapture={(e) => drag.arm(e.currentTarget, chip)}
      onKeyDownCapture={(e) => drag.arm(e.currentTarget, chip)}
      onKeyDown={onKeyDown}
      aria-label={name}
      className={`ale-chip ale-chip--allow${held ? ' ale-chip--held' : ''}`}
      data-testid="allow-chip"
      data-cidr={chip.cidr}
      data-nav-row=""
      data-nav-cell=""
    >
      <span className="ale-cidr">{chip.cidr}</span>
      {editing ? (
        <LabelEditor chip={chip} actions={actions} />
      ) : (
        <span className="ale-label">{chip.label}</span>
      )}
      <button
        type="button"
        className="ale-icon"
        tabIndex={-1}
        data-nav-cell=""
        aria-label={`Edit label of ${name}`}
        title="Edit label (F2)"
        disabled={disabled}
        onClick={() => actions.startEdit(id)}
      >
        <span aria-hidden="true">✎</span>
      </button>
      <button
        type="button"
        className="ale-icon ale-icon--remove"
        tabIndex={-1}
        data-nav-cell=""
        aria-label={`Remove ${name}`}
        title="Remove (Delete)"
        disabled={disabled}
        onClick={() => actions.remove(chip)}
      >
        <span aria-hidden="true">×</span>
      </button>
    </li>
  );
});

function LabelEditor({ chip, actions }: { chip: Chip; actions: RowActions }) {
  const done = useRef(false);
  const finish = (input: HTMLInputElement, commit: boolean) => {
    if (done.current) return;
    done.current = true;
    const row = input.closest<HTMLElement>('li');
    const hadFocus = document.activeElement === input;
    if (commit) actions.relabel(chip, cleanLabel(input.value));
    actions.stopEdit();
    if (hadFocus) row?.focus();
  };
  return (
    <input
      className="ale-label-edit"
      aria-label={`Label for ${chip.cidr}`}
      defaultValue={chip.label ?? ''}
      maxLength={LABEL_MAX}
      placeholder="label"
      // biome-ignore lint/a11y/noAutofocus: the user just asked to edit this label (F2 or the pencil).
      autoFocus
      onFocus={(e) => e.currentTarget.select()}
      onKeyDown={(e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          finish(e.currentTarget, true);
        } else if (e.key === 'Escape') {
          e.preventDefault();
          finish(e.currentTarget, false);
        }
        e.stopPropagation();
      }}
      onBlur={(e) => finish(e.currentTarget, true)}
    />
  );
}
