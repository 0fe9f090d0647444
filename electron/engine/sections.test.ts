import { describe, expect, it } from 'vitest';
import { encodeBundle, markerValue, parseScriptOutput } from './sections';

describe('parseScriptOutput', () => {
  it('reads markers and sections with exact bodies', () => {
    const text = [
      '%%npg dir /var/lib/nodeport-guard',
      '%%npg begin v4',
      '*nat',
      'COMMIT',
      '',
      '%%npg end v4 0',
      '%%npg begin empty',
      '',
      '%%npg end empty 0',
      '%%npg begin noeol',
      'last line without newline',
      '%%npg end noeol 3',
      '%%npg result ok',
      '',
    ].join('\n');
    const out = parseScriptOutput(text);
    expect(markerValue(out, 'dir')).toBe('/var/lib/nodeport-guard');
    expect(out.sections.get('v4')).toEqual({ name: 'v4', body: '*nat\nCOMMIT\n', rc: 0 });
    expect(out.sections.get('empty')?.body).toBe('');
    expect(out.sections.get('noeol')).toEqual({ name: 'noeol', body: 'last line without newline', rc: 3 });
    expect(out.markers.get('result')).toEqual(['ok']);
  });

  it('keeps a section cut off mid-way with rc -1', () => {
    const out = parseScriptOutput('%%npg begin v4\n*nat\n:PRE');
    expect(out.sections.get('v4')).toEqual({ name: 'v4', body: '*nat\n:PRE', rc: -1 });
  });

  it('records events in order', () => {
    const out = parseScriptOutput('%%npg restored v4\n%%npg undone v4\n%%npg result restore-failed v6\n');
    expect(out.events).toEqual([
      ['restored', 'v4'],
      ['undone', 'v4'],
      ['result', 'restore-failed', 'v6'],
    ]);
  });
});

describe('encodeBundle', () => {
  it('writes files with a trailing newline, empty files as just the header', () => {
    const b = encodeBundle(
      new Map([
        ['restore.v4', '*nat\nCOMMIT'],
        ['expect.v4', ''],
      ]),
    );
    expect(b).toBe('%%npg file restore.v4\n*nat\nCOMMIT\n%%npg file expect.v4\n');
  });

  it('refuses odd names and bodies that hold a marker line', () => {
    expect(() => encodeBundle(new Map([['../x', '']]))).toThrow(/bad bundle file name/);
    expect(() => encodeBundle(new Map([['..', '']]))).toThrow(/bad bundle file name/);
    expect(() => encodeBundle(new Map([['a', 'x\n%%npg file b\n']]))).toThrow(/marker line/);
  });
});
