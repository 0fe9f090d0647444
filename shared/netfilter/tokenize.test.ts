import { describe, expect, it } from 'vitest';
import { createTokenBuffer, tokenizeLine } from './tokenize.js';

function tokens(line: string) {
  const buf = createTokenBuffer();
  const err = tokenizeLine(line, 0, line.length, buf);
  if (err) return err;
  return buf.tokens.slice(0, buf.count).map((t, i) => (buf.quoted[i] ? `"${t}"` : t));
}

describe('tokenizeLine', () => {
  it('splits on blanks and tabs, ignoring repeats', () => {
    expect(tokens('  -A \t KUBE-SERVICES  -j   ACCEPT ')).toEqual(['-A', 'KUBE-SERVICES', '-j', 'ACCEPT']);
  });

  it('keeps blanks inside quotes and marks the argument quoted', () => {
    expect(tokens('--comment "kubernetes service portals" -j X')).toEqual([
      '--comment',
      '"kubernetes service portals"',
      '-j',
      'X',
    ]);
  });

  it('unescapes \\" \\\\ and \\\' inside quotes, as iptables-save writes them', () => {
    expect(tokens(String.raw`--comment "a \"q\" back\\slash \'s\'"`)).toEqual([
      '--comment',
      `"a "q" back\\slash 's'"`,
    ]);
  });

  it('reads "" as one empty argument', () => {
    expect(tokens('--comment "" -j X')).toEqual(['--comment', '""', '-j', 'X']);
  });

  it('treats backslash and single quotes outside double quotes as ordinary characters', () => {
    expect(tokens(String.raw`a\b 'c d'`)).toEqual([String.raw`a\b`, "'c", "d'"]);
  });

  it('joins text before an opening quote and ends the argument at the closing quote', () => {
    expect(tokens('ab"c d"ef')).toEqual(['"abc d"', 'ef']);
  });

  it('reports an unterminated quote with its column', () => {
    expect(tokens('-m comment --comment "abc')).toEqual({ message: 'unterminated quote', column: 22 });
  });

  it('reports NUL and other control characters as binary data', () => {
    expect(tokens('-A X\u0000')).toEqual({ message: 'a NUL byte (binary data?)', column: 5 });
    expect(tokens('"a\u0007"')).toEqual({ message: 'control character 0x07 (binary data?)', column: 3 });
    expect(tokens('x\ufffd')).toEqual({ message: 'invalid UTF-8 (binary data?)', column: 2 });
  });

  it('returns equal strings for repeated arguments (interning is invisible)', () => {
    const buf = createTokenBuffer();
    const line = '-m tcp -m tcp "same text" "same text"';
    tokenizeLine(line, 0, line.length, buf);
    expect(buf.tokens.slice(0, buf.count)).toEqual(['-m', 'tcp', '-m', 'tcp', 'same text', 'same text']);
  });

  it('tokenizes only the given range and resets the buffer between lines', () => {
    const buf = createTokenBuffer();
    const text = 'one two three\nfour';
    tokenizeLine(text, 0, 13, buf);
    expect(buf.count).toBe(3);
    tokenizeLine(text, 14, 18, buf);
    expect(buf.tokens.slice(0, buf.count)).toEqual(['four']);
  });
});
