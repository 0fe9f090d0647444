// The drop zone "Allowed sources": one row per entry (address, label, edit, remove). Rows are memoised
// and do no per-row parsing, so a 1,000-entry list re-renders only the rows that changed.
import { type DraggableAttributes, useDraggable, useDroppable } from '@dnd-kit/core';
import {
  type KeyboardEvent,
  memo,
  type RefObject,
  useCallback,
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

export const AllowZone = memo(function AllowZone(props: AllowZoneProps) {
  const { entries, mode, disabled, actions, request, zoneRef, holding } = props;
  const { setNodeRef, isOver } = useDroppable({ id: 'allow', disabled });
  const [editing, setEditing] = useState<string | null>(null);
  const headingId = useId();
  const listRef = useRef<HTMLUListElement>(null);
  const roving = useRovingFocus(listRef);

  // Row ids: the CIDR, with a counter if a caller's list repeats one (the editor itself never does).
  const ids = useMemo(() => uniqueKeys(entries.map((e) => e.cidr)), [entries]);

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
                actions={rowActions}
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

interface AllowRowProps {
  readonly id: string;
  readonly chip: Chip;
  readonly editing: boolean;
  readonly disabled: boolean;
  readonly actions: RowActions;
}

/**
 * dnd-kit re-renders every draggable when a drag starts, moves between areas or ends; this wrapper
 * is only the hook, and the row's markup (RowBody) gets props that stay equal, so 1,000 rows cost
 * 1,000 hook calls, not 1,000 DOM diffs. Rows know their chip, not their position: removing one
 * entry re-renders nothing else.
 */
const AllowRow = memo(function AllowRow({ id, chip, editing, disabled, actions }: AllowRowProps) {
  const data = useMemo<DragPayload>(() => ({ from: 'allow', chips: [chip] }), [chip]);
  const { setNodeRef, setActivatorNodeRef, attributes, listeners, isDragging } = useDraggable({
    id: `allow:${id}`,
    data,
    disabled: disabled || editing,
    attributes: ROW_ATTRIBUTES,
  });
  const ref = useCallback(
    (el: HTMLLIElement | null) => {
      setNodeRef(el);
      setActivatorNodeRef(el);
    },
    [setNodeRef, setActivatorNodeRef],
  );
  return (
    <RowBody
      id={id}
      chip={chip}
      editing={editing}
      disabled={disabled}
      actions={actions}
      rowRef={ref}
      attributes={attributes}
      listeners={listeners}
      held={isDragging}
    />
  );
});

interface RowBodyProps extends AllowRowProps {
  readonly rowRef: (el: HTMLLIElement | null) => void;
  readonly attributes: DraggableAttributes;
  readonly listeners: ReturnType<typeof useDraggable>['listeners'];
  readonly held: boolean;
}

const RowBody = memo(function RowBody(props: RowBodyProps) {
  const { id, chip, editing, disabled, actions, rowRef, attributes, listeners, held } = props;
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
      ref={rowRef}
      {...attributes}
      {...listeners}
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
