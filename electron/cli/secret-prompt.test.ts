// The terminal passphrase prompt's key handling (the terminal itself is Node's).
import { describe, expect, it } from 'vitest';
import { typeSecret } from './secret-prompt.js';

describe('typeSecret', () => {
  it('keeps typing until Enter, which ends it with what was typed', () => {
    expect(typeSecret('', 'correct')).toEqual({ kind: 'text', value: 'correct' });
    expect(typeSecret('correct', ' horse\r')).toEqual({ kind: 'done', value: 'correct horse' });
    expect(typeSecret('ab', '\n')).toEqual({ kind: 'done', value: 'ab' });
  });

  it('Backspace removes one character (a whole one, not half of it), Ctrl-U all of them', () => {
    expect(typeSecret('abc', '\u007f')).toEqual({ kind: 'text', value: 'ab' });
    expect(typeSecret('a😀', '\b')).toEqual({ kind: 'text', value: 'a' });
    expect(typeSecret('', '\u007f')).toEqual({ kind: 'text', value: '' });
    expect(typeSecret('secret', '\u0015new\r')).toEqual({ kind: 'done', value: 'new' });
  });

  it('Ctrl-C skips; Ctrl-D skips on an empty line only', () => {
    expect(typeSecret('half', '\u0003')).toEqual({ kind: 'done', value: undefined });
    expect(typeSecret('', '\u0004')).toEqual({ kind: 'done', value: undefined });
    expect(typeSecret('x', '\u0004')).toEqual({ kind: 'text', value: 'x' });
  });

  it('ignores arrow and function keys and other control characters, and stops at 4,096', () => {
    expect(typeSecret('a', '\u001b[A\u001b[1;5Cb\u001bOPc')).toEqual({ kind: 'text', value: 'abc' });
    expect(typeSecret('', '\u0001\u0007b')).toEqual({ kind: 'text', value: 'b' });
    const long = typeSecret('', 'x'.repeat(5000));
    expect(long.kind === 'text' && long.value.length).toBe(4096);
  });
});
