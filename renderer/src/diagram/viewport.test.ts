// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { fitAllViewport, initialViewport, READABLE_ZOOM, VIEW_PAD } from './viewport';

describe('initialViewport', () => {
  it('fits and centres a graph that reads at that zoom, never above 1', () => {
    // Vertically centred between the top padding and the controls' strip.
    expect(initialViewport({ width: 500, height: 100 }, { width: 1000, height: 600 })).toEqual({
      x: 250,
      y: 24 + (600 - 24 - 56 - 100) / 2,
      zoom: 1,
      fitsAll: true,
    });
    const v = initialViewport({ width: 1800, height: 300 }, { width: 1200, height: 600 });
    expect(v.fitsAll).toBe(true);
    expect(v.zoom).toBeCloseTo(1152 / 1800);
  });

  it('opens a wide graph at its left end, readable', () => {
    const v = initialViewport({ width: 3000, height: 300 }, { width: 1000, height: 600 });
    expect(v).toMatchObject({ x: VIEW_PAD, zoom: READABLE_ZOOM, fitsAll: false });
    expect(v.y).toBeCloseTo(24 + (600 - 24 - 56 - 300 * READABLE_ZOOM) / 2);
  });

  it('opens a tall graph (100 endpoints) at its top, as wide as the pane allows', () => {
    const v = initialViewport({ width: 1500, height: 6000 }, { width: 1300, height: 700 });
    expect(v).toMatchObject({ y: VIEW_PAD, fitsAll: false });
    expect(v.zoom).toBeCloseTo(1252 / 1500);
    expect(v.x).toBeCloseTo((1300 - 1500 * v.zoom) / 2);
  });
});

describe('fitAllViewport', () => {
  it('puts all of a tall graph in the pane, centred, below a readable zoom if need be', () => {
    const vp = fitAllViewport({ width: 1200, height: 5600 }, { width: 1000, height: 600 }, 0.05);
    expect(vp.zoom).toBeCloseTo((600 - 24 - 56) / 5600);
    expect(vp.x).toBeCloseTo((1000 - 1200 * vp.zoom) / 2);
    expect(vp.y).toBeCloseTo(VIEW_PAD);
  });

  it('never zooms past 1 nor below the minimum', () => {
    expect(fitAllViewport({ width: 100, height: 50 }, { width: 1000, height: 600 }, 0.05).zoom).toBe(1);
    expect(fitAllViewport({ width: 100, height: 1e7 }, { width: 1000, height: 600 }, 0.05).zoom).toBe(0.05);
  });
});
