import { describe, expect, it } from 'vitest';
import { actionFor } from './shortcuts';

const k = (key: string, more: Partial<Parameters<typeof actionFor>[0]> = {}) =>
  actionFor({ key, ctrlKey: false, metaKey: false, altKey: false, inField: false, ...more });

describe('actionFor', () => {
  it('maps single keys outside fields, Ctrl/Cmd+S and Escape everywhere', () => {
    expect(k('/')).toBe('filter');
    expect(k('p')).toBe('plan');
    expect(k('V')).toBe('verify');
    expect(k('?')).toBe('help');
    expect(k('s', { ctrlKey: true, inField: true })).toBe('save');
    expect(k('S', { metaKey: true })).toBe('save');
    expect(k('Escape', { inField: true })).toBe('close');
  });
  it('never fires a single-key action while typing, or with modifiers', () => {
    expect(k('p', { inField: true })).toBeUndefined();
    expect(k('r', { ctrlKey: true })).toBeUndefined();
    expect(k('x')).toBeUndefined();
  });
});
