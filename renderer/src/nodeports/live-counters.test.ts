import { describe, expect, it } from 'vitest';
import type { NodePortView } from '../../../shared/api';
import { counterDelta, deltaText, intervalText, spanText } from './live-counters';

const view = (entered: number, pods: [number, number], guard?: number): NodePortView => ({
  port: 30001,
  protocol: 'tcp',
  endpoints: [
    { address: '198.19.1.10:8080', probability: 0.5, chain: 'KUBE-SEP-A', packets: pods[0] },
    { address: '198.19.1.11:8080', probability: 0.5, chain: 'KUBE-SEP-B', packets: pods[1] },
  ],
  path: [
    { chain: 'PREROUTING', kind: 'builtin' },
    ...(guard !== undefined
      ? [
          {
            chain: 'NPG-TCP-30001',
            kind: 'guard',
            via: '-A NPG-PREROUTING -p tcp -m tcp --dport 30001 -j NPG-TCP-30001',
            packets: guard,
          },
        ]
      : []),
    { chain: 'KUBE-SERVICES', kind: 'services', via: '-A PREROUTING -j KUBE-SERVICES', packets: 900 },
    {
      chain: 'KUBE-EXT-X',
      kind: 'ext',
      via: '-A KUBE-NODEPORTS -p tcp -m tcp --dport 30001 -j KUBE-EXT-X',
      packets: entered,
    },
  ],
  noEndpoints: false,
  localOnly: false,
  guarded: guard !== undefined,
  ...(guard !== undefined ? { guard: { chain: 'NPG-TCP-30001', allow: [], effective: true } } : {}),
  foreign: [],
  masquerade: 'always',
  notes: [],
});

describe('counterDelta', () => {
  it('counts what came for the port and what went to pods', () => {
    const d = counterDelta(view(10, [4, 5]), view(22, [10, 9]), 5);
    expect(d).toEqual({ seconds: 5, entered: 12, toPods: 10, reset: false });
    expect(deltaText(d!)).toBe('+12 pkts/5 s to the port · +10 to pods');
  });

  it('guarded: what the guard turned away is what came less what reached kube-proxy', () => {
    const d = counterDelta(view(10, [4, 5], 20), view(16, [7, 8], 30), 5);
    expect(d).toEqual({ seconds: 5, entered: 10, blocked: 4, toPods: 6, reset: false });
    expect(deltaText(d!)).toBe('+10 pkts/5 s to the port · +4 blocked · +6 to pods');
  });

  it('says one packet as one', () => {
    expect(deltaText(counterDelta(view(10, [4, 5]), view(11, [5, 5]), 2)!)).toBe(
      '+1 pkt/2 s to the port · +1 to pods',
    );
  });

  it('says when nothing moved, and when counters went down (rules rewritten)', () => {
    expect(deltaText(counterDelta(view(10, [4, 5]), view(10, [4, 5]), 5)!)).toBe('no new packets in 5 s');
    const reset = counterDelta(view(10, [4, 5]), view(2, [1, 1]), 5)!;
    expect(reset.reset).toBe(true);
    expect(deltaText(reset)).toMatch(/^counters restarted/);
  });

  it('compares only the same path', () => {
    expect(counterDelta(view(1, [0, 0]), { ...view(1, [0, 0]), port: 30002 }, 5)).toBeUndefined();
    expect(counterDelta(view(1, [0, 0]), view(1, [0, 0], 3), 5)).toBeUndefined();
  });

  it('words intervals as people say them', () => {
    expect(spanText(4.6)).toBe('5 s');
    expect(spanText(300)).toBe('5 min');
    expect(spanText(7200)).toBe('2 h');
    expect(intervalText(5000)).toBe('every 5 s');
  });
});
