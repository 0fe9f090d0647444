import { describe, expect, it } from 'vitest';
import { applyDrop, relabelAt, removeAt, uniqueKeys } from './edit';
import type { Chip } from './types';

const office: Chip = { cidr: '198.18.100.0/24', label: 'office' };
const lb: Chip = { cidr: '35.191.0.0/16', label: 'lb-hc' };
const v6: Chip = { cidr: '2001:2::/48' };

describe('applyDrop onto the allow-list', () => {
  it('appends new chips in the order dropped, keeping labels', () => {
    const next = applyDrop([office], [lb, v6], 'allow');
    expect(next).toEqual([office, lb, v6]);
  });

  it('stores the canonical CIDR of what was dropped', () => {
    expect(applyDrop([], [{ cidr: '198.51.100.7' }, { cidr: '2001:0002:0::1' }], 'allow')).toEqual([
      { cidr: '198.51.100.7/32' },
      { cidr: '2001:2::1/128' },
    ]);
  });

  it('dedupes by canonical CIDR against the list and within the drop; the first label wins', () => {
    const list: Chip[] = [{ cidr: '198.51.100.7' }, office];
    const next = applyDrop(
      list,
      [{ cidr: '198.51.100.7/32', label: 'new' }, { cidr: '198.18.100.0/24', label: 'other' }, lb, { ...lb }],
      'allow',
    );
    expect(next).toEqual([{ cidr: '198.51.100.7' }, office, lb]);
  });

  it('keeps the entries it did not touch as the same objects (memoised rows stay)', () => {
    const list = [office, lb];
    const next = applyDrop(list, [v6], 'allow');
    expect(next[0]).toBe(office);
    expect(next[1]).toBe(lb);
    expect(next).not.toBe(list);
  });

  it('changes nothing (same length) when everything is already there', () => {
    const list = [office, lb];
    expect(applyDrop(list, [office, { cidr: '35.191.0.0/16' }], 'allow')).toEqual(list);
  });

  it('skips chips that are not addresses', () => {
    expect(applyDrop([office], [{ cidr: 'nope' }, v6], 'allow')).toEqual([office, v6]);
  });

  it('handles a 1,000-entry list quickly', () => {
    const big: Chip[] = Array.from({ length: 1000 }, (_, i) => ({ cidr: `10.${i >> 8}.${i & 255}.0/24` }));
    const t = performance.now();
    const next = applyDrop(big, [office, { cidr: '10.0.5.0/24' }], 'allow');
    expect(performance.now() - t).toBeLessThan(200);
    expect(next).toHaveLength(1001);
    expect(next[1000]).toEqual(office);
  });
});

describe('applyDrop onto the palette', () => {
  it('removes the dropped chips by canonical CIDR, order stable', () => {
    const list = [office, lb, { cidr: '198.51.100.7' }, v6];
    expect(applyDrop(list, [{ cidr: '198.51.100.7/32' }, lb], 'palette')).toEqual([office, v6]);
  });

  it('removes nothing when the chip is not in the list', () => {
    const list = [office, lb];
    expect(applyDrop(list, [v6], 'palette')).toEqual(list);
  });

  it('removes repeated entries of the same network together', () => {
    expect(applyDrop([office, { cidr: '198.18.100.7/24' }, lb], [office], 'palette')).toEqual([lb]);
  });
});

describe('removeAt / relabelAt', () => {
  it('removes one entry by position', () => {
    expect(removeAt([office, lb, v6], 1)).toEqual([office, v6]);
    expect(removeAt([office], 5)).toEqual([office]);
  });

  it('relabels one entry, dropping the label when undefined', () => {
    expect(relabelAt([office, lb], 0, 'hq')).toEqual([{ cidr: office.cidr, label: 'hq' }, lb]);
    expect(relabelAt([office, lb], 1, undefined)).toEqual([office, { cidr: lb.cidr }]);
    const same = relabelAt([office], 0, 'office');
    expect(same[0]).toBe(office);
  });
});

describe('uniqueKeys', () => {
  it('suffixes repeats', () => {
    expect(uniqueKeys(['a', 'b', 'a', 'a'])).toEqual(['a', 'b', 'a#1', 'a#2']);
  });
});
