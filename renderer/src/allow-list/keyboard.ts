// Keyboard paths of the editor. While a chip is held (dnd-kit KeyboardSensor), arrow keys jump it
// between the two drop areas instead of nudging it 25 px at a time. When nothing is held, arrow keys
// move focus between chips (one Tab stop per list, roving tabindex), so a 1,000-entry list is not
// 1,000 Tab presses between the list and the field under it.
import type { DropTarget } from './types';

export interface Box {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** Up/Left: the allow-list (it sits above/left of the palette in every layout); Down/Right: the palette. */
export function arrowTarget(code: string): DropTarget | undefined {
  switch (code) {
    case 'ArrowUp':
    case 'ArrowLeft':
      return 'allow';
    case 'ArrowDown':
    case 'ArrowRight':
      return 'palette';
    default:
      return undefined;
  }
}

/**
 * Where to put the held chip's top-left corner so that it sits inside `target`: centred across, and
 * near the top of the target's visible part (a tall list or palette may reach past the viewport).
 */
export function placeInside(
  held: Box,
  target: Box,
  viewport: { width: number; height: number },
): { x: number; y: number } {
  const top = Math.max(target.top, 0);
  const bottom = Math.min(target.top + target.height, viewport.height);
  const left = Math.max(target.left, 0);
  const right = Math.min(target.left + target.width, viewport.width);
  const visibleHeight = Math.max(bottom - top, 0);
  const y = top + Math.min(visibleHeight / 2, 24 + held.height / 2) - held.height / 2;
  const x = left + Math.max(right - left, 0) / 2 - held.width / 2;
  return { x: Math.round(x), y: Math.round(y) };
}

// Roving focus: inside a container, rows are `[data-nav-row]`, and each row's focusable controls are
// `[data-nav-cell]`. Exactly one cell per container has tabIndex 0 (the last one focused).
const ROW = '[data-nav-row]';
const CELL = '[data-nav-cell]:not(:disabled)';

/** Arrow/Home/End navigation; returns true when it moved focus (the caller then prevents default). */
export function moveFocus(container: HTMLElement, from: HTMLElement, key: string): boolean {
  const row = from.closest<HTMLElement>(ROW);
  if (!row || !container.contains(row)) return false;
  const rows = [...container.querySelectorAll<HTMLElement>(ROW)];
  const cells = cellsOf(row);
  const r = rows.indexOf(row);
  const c = Math.max(cells.indexOf(from), 0);
  let target: HTMLElement | undefined;
  switch (key) {
    case 'ArrowLeft':
      target = cells[c - 1];
      break;
    case 'ArrowRight':
      target = cells[c + 1];
      break;
    case 'ArrowUp':
      target = cellAt(rows.slice(0, r).reverse(), c);
      break;
    case 'ArrowDown':
      target = cellAt(rows.slice(r + 1), c);
      break;
    case 'Home':
      target = cellAt(rows, 0);
      break;
    case 'End':
      target = cellAt(rows.slice().reverse(), 0);
      break;
    default:
      return false;
  }
  if (!target) return false;
  target.focus();
  return true;
}

/** The first of `rows` that has a focusable cell: its cell `column`, or its last one. */
function cellAt(rows: readonly HTMLElement[], column: number): HTMLElement | undefined {
  for (const row of rows) {
    const cells = cellsOf(row);
    if (cells.length > 0) return cells[Math.min(column, cells.length - 1)];
  }
  return undefined;
}

/** A row's focusable controls in order; the row itself comes first when it is one (a chip). */
function cellsOf(row: HTMLElement): HTMLElement[] {
  const inner = [...row.querySelectorAll<HTMLElement>(CELL)];
  return row.matches(CELL) ? [row, ...inner] : inner;
}

/** Make `cell` the container's one Tab stop. */
export function makeTabStop(container: HTMLElement, cell: HTMLElement): void {
  if (!cell.matches('[data-nav-cell]') || cell.tabIndex === 0) return;
  for (const other of container.querySelectorAll<HTMLElement>('[data-nav-cell][tabindex="0"]')) {
    other.tabIndex = -1;
  }
  cell.tabIndex = 0;
}

/** After a render: if the Tab stop was removed with its row, the first cell becomes it. */
export function ensureTabStop(container: HTMLElement): void {
  if (container.querySelector(`${CELL}[tabindex="0"]`)) return;
  const first = container.querySelector<HTMLElement>(CELL);
  if (first) first.tabIndex = 0;
}
