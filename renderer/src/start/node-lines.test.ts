import { describe, expect, it } from 'vitest';
import { parseNodeLines } from './node-lines';

describe('parseNodeLines', () => {
  it('reads name host[:port] and bare hosts, skips blanks and comments', () => {
    expect(
      parseNodeLines('node1 198.18.0.11\n\n# x\nnode2 198.18.0.12:2222\n198.18.0.13\nv6 2001:2::11'),
    ).toEqual({
      ok: true,
      nodes: [
        { name: 'node1', host: '198.18.0.11' },
        { name: 'node2', host: '198.18.0.12', port: 2222 },
        { name: '198.18.0.13', host: '198.18.0.13' },
        { name: 'v6', host: '2001:2::11' },
      ],
    });
    expect(parseNodeLines('n [2001:2::11]:22')).toEqual({
      ok: true,
      nodes: [{ name: 'n', host: '2001:2::11', port: 22 }],
    });
  });

  it('refuses bad lines with the line number', () => {
    expect(parseNodeLines('a b c')).toMatchObject({ ok: false, error: /^line 1: / });
    expect(parseNodeLines('n1 h;rm')).toMatchObject({ ok: false, error: /line 1: "h;rm"/ });
    expect(parseNodeLines('n1 a\nn1 b')).toMatchObject({
      ok: false,
      error: /line 2: node "n1" is named twice/,
    });
    expect(parseNodeLines('n1 a:99999')).toMatchObject({ ok: false, error: /out of range/ });
    expect(parseNodeLines('  ')).toMatchObject({ ok: false, error: 'type at least one node' });
  });
});
