import { describe, expect, it } from 'vitest';
import { firstVisibleLine, terminalText, VISIBLE_LIMIT, visibleText } from './visible';

/** Anything a terminal or a bidi renderer would act on, or that hides itself. */
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufffd]/u;

describe('visibleText', () => {
  it('leaves printable text alone, including non-Latin letters', () => {
    expect(visibleText('sudo: a password is required')).toBe('sudo: a password is required');
    expect(visibleText('Knoten läuft — ノード')).toBe('Knoten läuft — ノード');
  });

  it('shows a fake green "ok" with a title change and a line erase as the bytes they are', () => {
    const hostile = '\x1b]0;pwned\x07\x1b[2K\r\x1b[32mnode1 ok\x1b[0m';
    expect(visibleText(hostile)).toBe('\\x1b]0;pwned\\x07\\x1b[2K\\x0d\\x1b[32mnode1 ok\\x1b[0m');
  });

  it('escapes C1 controls (0x9b is a CSI to some terminals), DEL and NUL', () => {
    expect(visibleText('a\u009b31mb\u007fc\u0000')).toBe('a\\x9b31mb\\x7fc\\x00');
  });

  it('escapes bidi overrides and isolates, zero-width and other format characters', () => {
    expect(visibleText('ok \u202egnp.exe')).toBe('ok \\u202egnp.exe');
    expect(visibleText('\u2066a\u2067b\u2068c\u2069\u202a\u202b\u202c\u202d')).toBe(
      '\\u2066a\\u2067b\\u2068c\\u2069\\u202a\\u202b\\u202c\\u202d',
    );
    expect(visibleText('no\u200bde\ufeff\u00ad\u2028x')).toBe('no\\u200bde\\ufeff\\xad\\u2028x');
    // Tag characters are astral and invisible.
    expect(visibleText('a\u{e0041}')).toBe('a\\u{e0041}');
  });

  it('escapes newlines and tabs, so the result is one line', () => {
    expect(visibleText('one\ntwo\tthree')).toBe('one\\x0atwo\\x09three');
  });

  it('shows invalid UTF-8 (what a decoder left as U+FFFD) as an escape', () => {
    const decoded = Buffer.from([0x6f, 0x6b, 0xff, 0xfe]).toString('utf8');
    expect(visibleText(decoded)).toBe('ok\\ufffd\\ufffd');
  });

  it('cuts to max characters with an ellipsis, never inside an escape', () => {
    expect(visibleText('x'.repeat(500))).toHaveLength(VISIBLE_LIMIT);
    expect(visibleText('x'.repeat(500)).endsWith('…')).toBe(true);
    expect(visibleText('abcdef', 6)).toBe('abcdef');
    expect(visibleText('abcdefg', 6)).toBe('abcde…');
    // 'ab' + '\x1b' (4) = 6 > 5: the escape does not fit whole, so it goes.
    expect(visibleText('ab\x1bcd', 5)).toBe('ab…');
  });

  it('is idempotent and leaves nothing hidden, for any input', () => {
    const samples: string[] = [];
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let i = 0; i < 300; i++) {
      let s = '';
      for (let j = 0; j < 40; j++) {
        const r = next() % 10;
        s +=
          r < 4
            ? String.fromCharCode(next() % 0xa0)
            : r < 6
              ? String.fromCharCode(0x2000 + (next() % 0x70))
              : 'a';
      }
      samples.push(s);
    }
    for (const s of samples) {
      const once = visibleText(s, 60);
      expect(once).not.toMatch(HIDDEN);
      expect(once.length).toBeLessThanOrEqual(60);
      expect(visibleText(once, 1000)).toBe(once);
    }
  });

  it('bounds its work by max, not by the input: 64 MiB of escapes takes no time', () => {
    // A flat string (repeat() would make a rope that the first read flattens, timed against us).
    const huge = Buffer.alloc(64 * 1024 * 1024, 0x1b).toString('latin1');
    const started = performance.now();
    expect(visibleText(huge)).toHaveLength(VISIBLE_LIMIT - 3);
    expect(performance.now() - started).toBeLessThan(50);
  });
});

describe('firstVisibleLine', () => {
  it('takes the first non-blank line, trimmed and made visible', () => {
    expect(firstVisibleLine('\n  \nsudo: \x1b[31mno\x1b[0m  \nsecond\n')).toBe('sudo: \\x1b[31mno\\x1b[0m');
    expect(firstVisibleLine('')).toBe('');
    expect(firstVisibleLine('\n\n')).toBe('');
  });

  it('keeps a carriage return inside the line visible, so it cannot overwrite what came before', () => {
    expect(firstVisibleLine('real error\r\x1b[32mnode1 ok')).toBe('real error\\x0d\\x1b[32mnode1 ok');
  });
});

describe('terminalText', () => {
  it("keeps a report's lines and escapes everything else a terminal would act on", () => {
    const report = 'PORT  SERVICE\n30001 web\u202eptth\x1b[2J\t\u009b\n30002 ok\n';
    expect(terminalText(report)).toBe('PORT  SERVICE\n30001 web\\u202eptth\\x1b[2J\\x09\\x9b\n30002 ok\n');
  });

  it('leaves plain text as it is, astral characters included, and is stable when applied twice', () => {
    const plain = 'default/web:http -> 198.19.1.10:8080 é 𝔘\n';
    expect(terminalText(plain)).toBe(plain);
    const hostile = 'a\u2066b\u{e0041}c\r\n';
    expect(terminalText(terminalText(hostile))).toBe(terminalText(hostile));
    expect(terminalText(hostile)).toBe('a\\u2066b\\u{e0041}c\\x0d\n');
  });
});
