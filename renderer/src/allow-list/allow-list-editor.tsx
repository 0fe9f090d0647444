// The allow-list editor of one NodePort: a controlled component. Chips are dragged between the palette
// and the list by pointer or keyboard (dnd-kit), added with a button or typed; every edit is computed
// by a pure function (edit.ts) and handed to `onChange`. The editor keeps no copy of the list.
import './allow-list.css';
import {
  type Announcements,
  DndContext,
  type DragEndEvent,
  DragOverlay,
  type DragStartEvent,
  KeyboardSensor,
  type UniqueIdentifier,
  useSensor,
  useSensors,
} from '@dnd-kit/core';
import { useCallback, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { AllowZone, type ZoneActions, type ZoneRequest } from './allow-zone';
import {
  addMessage,
  CANCELLED,
  type DragPayload,
  dropMessage,
  overMessage,
  payloadName,
  pickedUp,
  SCREEN_READER_INSTRUCTIONS,
} from './announce';
import { ChipPointerSensor, collision, KEYBOARD_OPTIONS, POINTER_OPTIONS } from './dnd';
import { applyDrop, relabelAt, removeAt } from './edit';
import { EntryForm } from './entry-form';
import { Palette, type PaletteActions } from './palette';
import { SaveGroup } from './save-group';
import type { AllowListEditorProps, Chip, DropTarget, GuardMode } from './types';
import { canonicalCidr, chipName } from './validate';

export type { AllowListEditorProps, Chip, ChipGroup, GuardMode, ObservedSource } from './types';

const OVERLAY_STYLE = { width: 'max-content', maxWidth: 420, height: 'auto' } as const;
const EMPTY_PAYLOAD: DragPayload = { from: 'palette', chips: [] };
const payloadOf = (active: { data: { current?: unknown } }): DragPayload =>
  (active.data.current as DragPayload | undefined) ?? EMPTY_PAYLOAD;
const targetOf = (id: UniqueIdentifier | undefined): DropTarget | null =>
  id === 'allow' || id === 'palette' ? id : null;

export function AllowListEditor(props: AllowListEditorProps) {
  const { portLabel, entries, groups, observed, mode, onModeChange, warnings, onSaveGroup } = props;
  const disabled = props.disabled ?? false;

  // Handlers read the latest props through this ref, so the objects handed to memoised children
  // (rows of a 1,000-entry list) stay the same across renders.
  const latest = useRef(props);
  useLayoutEffect(() => {
    latest.current = props;
  });

  const [held, setHeld] = useState<DragPayload | null>(null);
  const [said, setSaid] = useState({ text: '', n: 0 });
  const say = useCallback((text: string) => setSaid((s) => ({ text, n: s.n + 1 })), []);
  const zoneRef = useRef<HTMLDivElement>(null);
  const request = useRef<ZoneRequest>(null);
  const lastDrop = useRef<string | undefined>(undefined);
  const leftOrigin = useRef(false);

  const sensors = useSensors(
    useSensor(ChipPointerSensor, POINTER_OPTIONS),
    useSensor(KeyboardSensor, KEYBOARD_OPTIONS),
  );

  /** Apply an edit; focus or reveal what it touched; never call onChange for a no-op. */
  const commit = useCallback((next: Chip[], after: ZoneRequest) => {
    const { entries: before, onChange } = latest.current;
    if (next.length === before.length && next.every((c, i) => c === before[i])) return;
    request.current = after;
    onChange(next);
  }, []);

  const zoneActions = useMemo<ZoneActions>(
    () => ({
      remove(chip) {
        const { entries: list, portLabel: port } = latest.current;
        const index = list.indexOf(chip);
        if (index < 0) return;
        const focusInside = zoneRef.current?.contains(document.activeElement) ?? false;
        commit(removeAt(list, index), focusInside ? { focusIndex: index } : null);
        say(`Removed ${chipName(chip)} from the allow-list of ${port}`);
      },
      relabel(chip, label) {
        const list = latest.current.entries;
        const index = list.indexOf(chip);
        if (index < 0 || chip.label === label) return;
        commit(relabelAt(list, index, label), null);
        say(label ? `Label of ${chip.cidr} is now ${label}` : `Label of ${chip.cidr} removed`);
      },
    }),
    [commit, say],
  );

  const add = useCallback(
    (chips: readonly Chip[], group?: string) => {
      const { entries: list, portLabel: port } = latest.current;
      const payload: DragPayload =
        group === undefined ? { from: 'palette', chips } : { from: 'palette', chips, group };
      const next = applyDrop(list, chips, 'allow');
      const last = next[next.length - 1];
      commit(next, last ? { reveal: last.cidr } : null);
      say(addMessage(list, payload, port));
    },
    [commit, say],
  );
  const paletteActions = useMemo<PaletteActions>(() => ({ add }), [add]);
  const addTyped = useCallback((chip: Chip) => add([chip]), [add]);

  const onDragStart = useCallback((e: DragStartEvent) => {
    leftOrigin.current = false;
    lastDrop.current = undefined;
    setHeld(payloadOf(e.active));
  }, []);

  const onDragEnd = useCallback(
    (e: DragEndEvent) => {
      setHeld(null);
      const payload = payloadOf(e.active);
      const target = targetOf(e.over?.id);
      const { entries: list, portLabel: port } = latest.current;
      lastDrop.current = dropMessage(list, payload, target, port);
      if (target === null || target === payload.from) return;
      const next = applyDrop(list, payload.chips, target);
      if (target === 'allow') {
        const last = next[next.length - 1];
        commit(next, last ? { reveal: last.cidr } : null);
      } else {
        const focusInside = zoneRef.current?.contains(document.activeElement) ?? false;
        const index = payload.chips[0] ? list.indexOf(payload.chips[0]) : -1;
        commit(next, focusInside && index >= 0 ? { focusIndex: index } : null);
      }
    },
    [commit],
  );

  const announcements = useMemo<Announcements>(
    () => ({
      onDragStart: ({ active }) => pickedUp(payloadOf(active)),
      onDragOver({ active, over }) {
        const payload = payloadOf(active);
        const target = targetOf(over?.id);
        // The first "over" is where the chip was picked up: keep "Picked up …" audible instead.
        if (!leftOrigin.current && target === payload.from) return undefined;
        leftOrigin.current = true;
        return overMessage(payload, target);
      },
      onDragEnd: ({ active, over }) =>
        lastDrop.current ??
        dropMessage(latest.current.entries, payloadOf(active), targetOf(over?.id), latest.current.portLabel),
      onDragCancel: () => CANCELLED,
    }),
    [],
  );
  const accessibility = useMemo(
    () => ({ announcements, screenReaderInstructions: { draggable: SCREEN_READER_INSTRUCTIONS } }),
    [announcements],
  );

  const holding = held ? (held.from === 'allow' ? 'own' : 'palette') : null;
  return (
    <div className="ale" data-dragging={held ? '' : undefined} data-disabled={disabled ? '' : undefined}>
      <header className="ale-head">
        <div className="ale-title">
          <h2>Allow-list</h2>
          <span className="ale-port ale-mono">{portLabel}</span>
        </div>
        <AuditSwitch mode={mode} disabled={disabled} onModeChange={onModeChange} />
      </header>
      <DndContext
        sensors={sensors}
        collisionDetection={collision}
        accessibility={accessibility}
        onDragStart={onDragStart}
        onDragEnd={onDragEnd}
        onDragCancel={() => setHeld(null)}
      >
        <div className="ale-body">
          <div className="ale-main">
            <AllowZone
              entries={entries}
              mode={mode}
              disabled={disabled}
              actions={zoneActions}
              request={request}
              zoneRef={zoneRef}
              holding={holding}
            />
            <div className="ale-zone-tools">
              <p className="ale-help ale-keys">
                <kbd>↑</kbd>
                <kbd>↓</kbd> move · <kbd>Space</kbd> pick up / drop · <kbd>Del</kbd> remove · <kbd>F2</kbd>{' '}
                label
              </p>
              {onSaveGroup && (
                <SaveGroup entries={entries} groups={groups} disabled={disabled} onSave={onSaveGroup} />
              )}
            </div>
            <EntryForm entries={entries} disabled={disabled} onAdd={addTyped} onRefused={say} />
            <Warnings warnings={warnings} />
          </div>
          <Palette
            entries={entries}
            groups={groups}
            observed={observed}
            loading={props.observedLoading ?? false}
            error={props.observedError}
            onRefresh={props.onRefreshObserved}
            mode={mode}
            disabled={disabled}
            actions={paletteActions}
            removeTarget={held?.from === 'allow'}
          />
        </div>
        {/* Sized to the chip, not to the row it came from (a list row is as wide as the list). */}
        <DragOverlay dropAnimation={null} style={OVERLAY_STYLE}>
          {held && <HeldChip payload={held} />}
        </DragOverlay>
      </DndContext>
      <div className="ale-visually-hidden" aria-live="polite" data-testid="allow-announce">
        {said.text}
        {said.n % 2 === 1 ? '\u200b' : ''}
      </div>
    </div>
  );
}

function HeldChip({ payload }: { payload: DragPayload }) {
  const [only] = payload.chips;
  return (
    <div className="ale-chip ale-overlay" aria-hidden="true">
      {payload.group !== undefined ? (
        <>
          <span className="ale-mark">▦</span>
          <span className="ale-group-name">{payload.group}</span>
          <span className="ale-muted ale-small">{payloadName(payload).replace(/^group \S+ /, '')}</span>
        </>
      ) : (
        <>
          <span className="ale-cidr">{only ? (canonicalCidr(only.cidr) ?? only.cidr) : ''}</span>
          {only?.label && <span className="ale-label">{only.label}</span>}
        </>
      )}
    </div>
  );
}

function AuditSwitch(props: { mode: GuardMode; disabled: boolean; onModeChange(mode: GuardMode): void }) {
  const audit = props.mode === 'audit';
  return (
    <button
      type="button"
      role="switch"
      aria-checked={audit}
      className="ale-switch"
      data-testid="audit-switch"
      disabled={props.disabled}
      onClick={() => props.onModeChange(audit ? 'enforce' : 'audit')}
    >
      <span className="ale-switch-track" aria-hidden="true">
        <span className="ale-switch-knob" />
      </span>
      <span>Audit only (count, block nothing)</span>
    </button>
  );
}

function Warnings({ warnings }: { warnings: readonly string[] }) {
  return (
    <div className="ale-warnings" role="status" data-testid="allow-warnings">
      {warnings.length > 0 && (
        <>
          <h3>
            Planner warnings <span className="ale-muted">({warnings.length})</span>
          </h3>
          <ul>
            {warnings.map((w, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: warnings are plain strings and may repeat.
              <li key={`${i}:${w}`}>
                <span className="ale-mark ale-mark--warn" aria-hidden="true">
                  ⚠
                </span>
                <span>{w}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
