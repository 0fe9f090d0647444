// A node's summary travels in a `node` event: it must always fit the contract the dispatcher
// checks events against, also for a node with far more addresses than people read.
import { describe, expect, it } from 'vitest';
import { ApiEventSchema } from '../../../shared/api.js';
import type { NodeSnapshot } from '../snapshot.js';
import { nodeSummary } from './nodes.js';

function snapshot(addresses: readonly string[]): NodeSnapshot {
  return {
    node: 'node1',
    mode: 'ipvs',
    kubeBackend: 'nft',
    families: [],
    guardFamilies: ['ipv4'],
    addresses,
    warnings: [],
  } as unknown as NodeSnapshot;
}

describe('nodeSummary', () => {
  it('keeps a node without a guard as it is', () => {
    const s = nodeSummary(snapshot(['198.18.0.11', '2001:2::11']));
    expect(s).toEqual({
      node: 'node1',
      mode: 'ipvs',
      backend: 'nft',
      families: ['ipv4'],
      nodePorts: 0,
      guard: 'none',
      guardChains: 0,
      addresses: ['198.18.0.11', '2001:2::11'],
      warnings: [],
    });
    expect(
      ApiEventSchema.safeParse({ kind: 'node', status: { node: 'node1', state: 'ok', summary: s } }).success,
    ).toBe(true);
  });

  it("fits the contract for an ipvs node carrying 3,000 ClusterIPs, the node's own addresses first", () => {
    const clusterIps = Array.from(
      { length: 3000 },
      (_, i) => `10.96.${Math.floor(i / 250)}.${(i % 250) + 1}`,
    );
    const s = nodeSummary(snapshot(['198.18.0.11', ...clusterIps]));
    expect(s.addresses[0]).toBe('198.18.0.11');
    const event = { kind: 'node', status: { node: 'node1', state: 'ok', summary: s } };
    const r = ApiEventSchema.safeParse(event);
    expect(r.success, r.error?.issues[0]?.message).toBe(true);
  });
});
