// The only module of the editor that knows dnd-kit's sensor and collision types.
import {
  type CollisionDetection,
  type DraggableNode,
  KeyboardCode,
  type KeyboardCoordinateGetter,
  type KeyboardSensorOptions,
  PointerSensor,
  type PointerSensorOptions,
  pointerWithin,
  rectIntersection,
} from '@dnd-kit/core';
import type { PointerEvent as ReactPointerEvent } from 'react';
import { arrowTarget, placeInside } from './keyboard';

const CONTROLS = 'button, input, textarea, select, a[href]';

/**
 * PointerSensor that leaves the buttons and fields inside a chip alone: pressing "Remove" or the label
 * field never starts a drag, even if the pointer wanders a few pixels.
 */
export class ChipPointerSensor extends PointerSensor {
  static override activators = [
    {
      eventName: 'onPointerDown' as const,
      handler: (
        { nativeEvent: event }: ReactPointerEvent,
        { onActivation }: PointerSensorOptions,
        context?: { active: DraggableNode },
      ): boolean => {
        if (!event.isPrimary || event.button !== 0) return false;
        const control = event.target instanceof Element ? event.target.closest(CONTROLS) : null;
        if (control && control !== context?.active.activatorNode.current) return false;
        onActivation?.({ event });
        return true;
      },
    },
  ];
}

/** Small activation distance: a click on a chip focuses it, a drag needs 6 px of travel. */
export const POINTER_OPTIONS: PointerSensorOptions = { activationConstraint: { distance: 6 } };

/** Arrows jump the held chip onto the allow-list (Up/Left) or the palette (Down/Right). */
const coordinateGetter: KeyboardCoordinateGetter = (event, { context }) => {
  const target = arrowTarget(event.code);
  if (!target) return undefined;
  event.preventDefault();
  const rect = context.droppableRects.get(target);
  const held = context.collisionRect;
  if (!rect || !held) return undefined;
  return placeInside(held, rect, { width: window.innerWidth, height: window.innerHeight });
};

export const KEYBOARD_OPTIONS: KeyboardSensorOptions = {
  coordinateGetter,
  keyboardCodes: {
    start: [KeyboardCode.Space, KeyboardCode.Enter],
    // Tab while holding a chip cancels (focus moving away is not a drop).
    cancel: [KeyboardCode.Esc, KeyboardCode.Tab],
    end: [KeyboardCode.Space, KeyboardCode.Enter],
  },
};

/** The pointer decides for mouse and touch; for the keyboard (no pointer) the held chip's box does. */
export const collision: CollisionDetection = (args) =>
  args.pointerCoordinates ? pointerWithin(args) : rectIntersection(args);
