// One Tab stop per chip list; arrow keys, Home and End move between chips and their buttons
// (keyboard.ts does the DOM walking). Quiet while a chip is held: then the arrows belong to dnd-kit.
import { type FocusEvent, type KeyboardEvent, type RefObject, useLayoutEffect } from 'react';
import { ensureTabStop, makeTabStop, moveFocus } from './keyboard';

const NAV_KEYS = new Set(['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Home', 'End']);

export function useRovingFocus(ref: RefObject<HTMLElement | null>) {
  useLayoutEffect(() => {
    if (ref.current) ensureTabStop(ref.current);
  });
  return {
    onKeyDown(e: KeyboardEvent<HTMLElement>) {
      const container = ref.current;
      const from = e.target;
      if (!container || !(from instanceof HTMLElement) || !NAV_KEYS.has(e.key)) return;
      if (e.altKey || e.ctrlKey || e.metaKey || from.matches('input, textarea, select')) return;
      if (container.closest('[data-dragging]')) return;
      if (moveFocus(container, from, e.key)) e.preventDefault();
    },
    onFocus(e: FocusEvent<HTMLElement>) {
      if (ref.current && e.target instanceof HTMLElement) makeTabStop(ref.current, e.target);
    },
  };
}
