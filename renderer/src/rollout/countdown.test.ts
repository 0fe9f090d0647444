import { describe, expect, it } from 'vitest';
import { formatLeft } from './countdown';

describe('formatLeft', () => {
  it('shows minutes and seconds, rounding up, never below zero', () => {
    expect(formatLeft(114_000)).toBe('01:54');
    expect(formatLeft(59_001)).toBe('01:00');
    expect(formatLeft(500)).toBe('00:01');
    expect(formatLeft(-5)).toBe('00:00');
  });
});
