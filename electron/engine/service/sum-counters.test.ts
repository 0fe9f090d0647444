import { describe, expect, it } from 'vitest';
import type { NodePortView } from '../../../shared/api.js';
import { sumOverNodes } from './sum-counters.js';

const view = (packets: number, chains = ['PREROUTING', 'KUBE-SERVICES', 'KUBE-SVC-A']): NodePortView => ({
  port: 30001,
  protocol: 'tcp',
  endpoints: [
    { address: '198.19.1.10:8080', probability: 0.5, packets, bytes: packets * 60 },
    { address: '198.19.1.11:8080', probability: 0.5 },
  ],
  path: chains.map((chain) => ({ chain, kind: chain, packets, bytes: packets * 60 })),
  noEndpoints: false,
  localOnly: false,
  guarded: false,
  foreign: [],
  masquerade: 'always',
  notes: [],
});

describe('sumOverNodes', () => {
  it('adds the counters of nodes with the same path, says which were left out', () => {
    const s = sumOverNodes([
      { node: 'n1', view: view(10) },
      { node: 'n2', view: view(5) },
      { node: 'n3', view: view(100, ['PREROUTING', 'KUBE-SERVICES', 'KUBE-SVC-B']) },
    ]);
    expect(s?.path.map((p) => p.packets)).toEqual([15, 15, 15]);
    expect(s?.path[0]?.bytes).toBe(900);
    expect(s?.endpoints.map((e) => e.packets)).toEqual([15, undefined]);
    expect(s?.notes[0]).toMatch(/^counters summed over 2 nodes \(n1, n2\)/);
    expect(s?.notes[1]).toBe('not summed: n3 (their chain path differs)');
    expect(sumOverNodes([])).toBeUndefined();
  });
});
