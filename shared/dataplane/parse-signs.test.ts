// parseSignLines / parseSignEvents on hand-written script output (the real script's output is read
// in node-script.test.ts).
import { describe, expect, it } from 'vitest';
import { MAX_SIGN_LINES } from './node-script';
import { parseSignEvents, parseSignLines } from './parse-signs';

describe('parseSignLines', () => {
  it('looked-at places give lists (empty when nothing was found); others stay absent', () => {
    expect(parseSignLines('%%npg sign looked proc\n')).toEqual({ processes: [] });
    expect(parseSignLines('%%npg sign looked bpf\n%%npg sign bpf tc\n')).toEqual({
      bpffs: ['tc'],
      bpfGlobals: [],
      ciliumLinks: [],
    });
    // a sign without its `looked` line is not trusted to be the whole answer
    expect(parseSignLines('%%npg sign proc cilium-agent\n')).toEqual({});
  });

  it('ignores other lines, unknown kinds, bad values, and dedupes', () => {
    const text = [
      '%%npg dir /var/lib/nodeport-guard',
      '%%npg begin listen',
      '%%npg sign looked proc',
      '%%npg sign proc kube-proxy',
      '%%npg sign proc kube-proxy',
      '%%npg sign proc bad/value',
      '%%npg sign proc two words',
      '%%npg sign future-kind x',
      '%%npg sign looked elsewhere',
      '%%npg sign proc cilium-agent\r',
    ].join('\n');
    expect(parseSignLines(text)).toEqual({ processes: ['kube-proxy', 'cilium-agent'] });
  });

  it('keeps at most MAX_SIGN_LINES signs', () => {
    const lines = ['%%npg sign looked bpf'];
    for (let i = 0; i < MAX_SIGN_LINES + 10; i++) lines.push(`%%npg sign bpf-global m${i}`);
    expect(parseSignLines(lines.join('\n')).bpfGlobals).toHaveLength(MAX_SIGN_LINES);
  });
});

describe('parseSignEvents', () => {
  it('reads the engine’s marker events the same way', () => {
    const events = [
      ['dir', '/x'],
      ['sign', 'looked', 'cilium-config'],
      ['sign', 'cilium-define', 'ENABLE_NODEPORT'],
    ];
    expect(parseSignEvents(events)).toEqual({ ciliumDefines: ['ENABLE_NODEPORT'] });
  });
});
