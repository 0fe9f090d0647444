// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { exportSize, withBackground } from './export-image';

describe('exportSize', () => {
  it('draws at scale 1 with padding, PNG at 2x', () => {
    expect(exportSize(1000, 400, 'png')).toEqual({ width: 1048, height: 448, scale: 1, pixelRatio: 2 });
    expect(exportSize(1000, 400, 'svg').pixelRatio).toBe(1);
  });

  it('shrinks a 500-endpoint diagram to what a canvas holds', () => {
    const s = exportSize(2300, 31_000, 'png');
    expect(s.height).toBeLessThanOrEqual(16_000);
    expect(s.scale).toBeLessThan(1);
    expect(s.width * s.height * s.pixelRatio ** 2).toBeLessThanOrEqual(100e6 + 1);
    expect(Math.max(s.width, s.height) * s.pixelRatio).toBeLessThanOrEqual(16_001);
  });
});

describe('withBackground', () => {
  it('puts a full-size rectangle first in the picture', () => {
    expect(withBackground('<svg xmlns="x" width="10"><foreignObject/></svg>', '#0f1419')).toBe(
      '<svg xmlns="x" width="10"><rect width="100%" height="100%" fill="#0f1419"/><foreignObject/></svg>',
    );
    expect(withBackground('not svg', '#fff')).toBe('not svg');
    expect(withBackground('<svg>', 'red"/><script>')).toBe(
      '<svg><rect width="100%" height="100%" fill="red/script"/>',
    );
  });
});
