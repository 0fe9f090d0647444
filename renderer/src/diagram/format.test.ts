// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { compactCount, edgeCounters, exactCount, formatBytes, nodeCounters, percent } from './format';

describe('compactCount', () => {
  it('keeps small numbers exact and shortens large ones', () => {
    expect(compactCount(0)).toBe('0');
    expect(compactCount(950)).toBe('950');
    expect(compactCount(1000)).toBe('1k');
    expect(compactCount(1234)).toBe('1.2k');
    expect(compactCount(9_960)).toBe('10k');
    expect(compactCount(12_345)).toBe('12k');
    expect(compactCount(1_500_000)).toBe('1.5M');
    expect(compactCount(3_000_000_000)).toBe('3G');
  });
});

describe('formatBytes / exactCount / percent', () => {
  it('formats', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(96_000)).toBe('96 kB');
    expect(formatBytes(1_536_000)).toBe('1.5 MB');
    expect(exactCount(1200)).toBe('1,200');
    expect(percent(1 / 3)).toBe('33.3%');
    expect(percent(0.25)).toBe('25%');
    expect(percent(1)).toBe('100%');
    expect(percent(1.2)).toBe('100%');
  });

  it('builds edge and node counter texts only when counters exist', () => {
    expect(edgeCounters(undefined)).toBeUndefined();
    expect(edgeCounters(1234)).toBe('1.2k pkts');
    expect(nodeCounters(1200, 96_000)).toBe('1,200 pkts · 96 kB');
    expect(nodeCounters(5, undefined)).toBe('5 pkts');
    expect(nodeCounters(undefined, 5)).toBeUndefined();
  });
});
