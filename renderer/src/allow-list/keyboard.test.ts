import { describe, expect, it } from 'vitest';
import { arrowTarget, placeInside } from './keyboard';

describe('arrowTarget', () => {
  it('Up/Left go to the allow-list, Down/Right to the palette, others nowhere', () => {
    expect(arrowTarget('ArrowUp')).toBe('allow');
    expect(arrowTarget('ArrowLeft')).toBe('allow');
    expect(arrowTarget('ArrowDown')).toBe('palette');
    expect(arrowTarget('ArrowRight')).toBe('palette');
    expect(arrowTarget('KeyA')).toBeUndefined();
  });
});

describe('placeInside', () => {
  const viewport = { width: 1280, height: 800 };
  const held = { left: 900, top: 500, width: 120, height: 26 };

  it('centres the held chip across the target, near its top', () => {
    const target = { left: 20, top: 100, width: 500, height: 300 };
    const p = placeInside(held, target, viewport);
    expect(p.x).toBe(20 + 250 - 60);
    expect(p.y).toBe(100 + 24);
    // Entirely inside the target, so a rectangle-intersection collision picks it.
    expect(p.y + held.height).toBeLessThanOrEqual(target.top + target.height);
  });

  it('uses the centre of a small target', () => {
    const target = { left: 0, top: 100, width: 200, height: 40 };
    expect(placeInside(held, target, viewport).y).toBe(100 + 20 - 13);
  });

  it('stays within the visible part of a target that runs off screen', () => {
    const target = { left: 0, top: -400, width: 300, height: 2000 };
    const p = placeInside(held, target, viewport);
    expect(p.y).toBeGreaterThanOrEqual(0);
    expect(p.y).toBeLessThan(viewport.height);
  });
});
