import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quoteShellArg, quoteShellArgv } from './shell-quote';

const run = promisify(execFile);

/** Runs the quoted argv through a real /bin/sh and returns the argv that the shell saw. */
async function roundTrip(argv: readonly string[]): Promise<string[]> {
  const script = `printf '%s\\0' ${quoteShellArgv(argv)}`;
  const { stdout } = await run('/bin/sh', ['-c', script], {
    encoding: 'buffer',
    env: { PATH: '/usr/bin:/bin' },
  });
  const parts = stdout.toString('utf8').split('\0');
  parts.pop(); // printf ends every argument with NUL, so the last piece is empty
  return parts;
}

const nasty = fc.constantFrom(
  '',
  "'",
  "''",
  '"',
  '\\',
  '$(id)',
  '`id`',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal the shell must not expand
  '${HOME}',
  '$HOME',
  '~',
  '~root',
  '*',
  '?',
  '[a]',
  '{a,b}',
  '!',
  ';',
  '&&',
  '|',
  '>x',
  '<x',
  '#',
  ' ',
  '\t',
  '\n',
  'a=b',
  '-n',
  '--',
  'é ü 中',
);

const arg = fc
  .oneof(
    fc.string({ unit: 'grapheme' }),
    fc.string({ unit: 'grapheme-ascii' }),
    nasty,
    fc.array(nasty, { maxLength: 4 }).map((parts) => parts.join('')),
  )
  .filter((s) => !s.includes('\0'));

describe('quoteShellArg', () => {
  it('leaves plain words bare and quotes anything a shell would read specially', () => {
    expect(quoteShellArg('iptables-save')).toBe('iptables-save');
    expect(quoteShellArg('198.18.0.0/15')).toBe('198.18.0.0/15');
    expect(quoteShellArg('')).toBe("''");
    expect(quoteShellArg("it's")).toBe(`'it'\\''s'`);
    expect(quoteShellArg('a b')).toBe("'a b'");
    expect(quoteShellArg('a=b')).toBe("'a=b'");
    expect(quoteShellArg('~')).toBe("'~'");
  });

  it('refuses NUL, which no argv can carry', () => {
    expect(() => quoteShellArg('a\0b')).toThrow(RangeError);
  });

  it('survives a real /bin/sh unchanged, for any argv (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arg, { minLength: 1, maxLength: 6 }), async (argv) => {
        expect(await roundTrip(argv)).toEqual(argv);
      }),
      { numRuns: 100 },
    );
  }, 60_000);
});
