import { describe, expect, it } from 'vitest';
import { addMessage, CANCELLED, type DragPayload, dropMessage, overMessage, pickedUp } from './announce';
import type { Chip } from './types';

const port = '30001/tcp default/web:http';
const office: Chip = { cidr: '198.18.100.0/24', label: 'office' };
const fromPalette: DragPayload = { from: 'palette', chips: [office] };
const fromList: DragPayload = { from: 'allow', chips: [office] };
const group: DragPayload = {
  from: 'palette',
  group: 'office',
  chips: [office, { cidr: '198.18.101.0/24' }, { cidr: '198.18.102.0/24' }],
};

describe('drag announcements', () => {
  it('picks up a chip by address and label, a group by name and size', () => {
    expect(pickedUp(fromPalette)).toBe('Picked up 198.18.100.0/24 (office)');
    expect(pickedUp(group)).toBe('Picked up group office (3 entries)');
  });

  it('says where the chip is', () => {
    expect(overMessage(fromPalette, 'allow')).toBe('Over the allow-list');
    expect(overMessage(fromList, 'palette')).toBe(
      'Over the palette: dropping removes 198.18.100.0/24 (office) from the allow-list',
    );
    expect(overMessage(fromPalette, 'palette')).toMatch(/where it came from: dropping changes nothing/);
    expect(overMessage(fromPalette, null)).toMatch(/^Not over a drop area/);
  });

  it('says what the drop did to the list', () => {
    expect(dropMessage([], fromPalette, 'allow', '30001/tcp')).toBe(
      'Dropped 198.18.100.0/24 into the allow-list of 30001/tcp',
    );
    expect(dropMessage([office], fromPalette, 'allow', port)).toBe(
      '198.18.100.0/24 (office): already in the allow-list, nothing changed',
    );
    expect(dropMessage([office], group, 'allow', port)).toBe(
      `Dropped 2 entries of group office into the allow-list of ${port} (1 entry already there)`,
    );
    expect(dropMessage([office], fromList, 'palette', port)).toBe(
      `Removed 198.18.100.0/24 from the allow-list of ${port}`,
    );
    expect(dropMessage([office], fromList, 'allow', port)).toMatch(/nothing changed$/);
    expect(dropMessage([office], fromPalette, null, port)).toMatch(/nothing changed$/);
  });

  it('uses the canonical CIDR of an observed address', () => {
    const seen: DragPayload = { from: 'palette', chips: [{ cidr: '198.51.100.7' }] };
    expect(dropMessage([], seen, 'allow', '30001/tcp')).toBe(
      'Dropped 198.51.100.7/32 into the allow-list of 30001/tcp',
    );
  });

  it('says "Added" for the no-drag path', () => {
    expect(addMessage([], fromPalette, '30001/tcp')).toBe(
      'Added 198.18.100.0/24 to the allow-list of 30001/tcp',
    );
  });

  it('cancels in words', () => {
    expect(CANCELLED).toBe('Cancelled: nothing changed');
  });
});
