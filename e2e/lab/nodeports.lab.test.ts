// Before any guard, every NodePort answers as kube-proxy's rules say, from every client address,
// on every node, over TCP and UDP (and IPv6 when the lab is dual-stack).
import { beforeAll, describe, expect, it } from 'vitest';
import { currentLab, expectedWithoutGuard, type LabTopology, probeLab } from './lab';
import { mapLimit } from './lab-helpers';

let topo: LabTopology;
beforeAll(async () => {
  topo = await currentLab();
});

describe('unguarded NodePorts', () => {
  it('answer from every client address on every node as kube-proxy routes them', async () => {
    const families = topo.options.ipv6 ? (['ipv4', 'ipv6'] as const) : (['ipv4'] as const);
    const cases = families.flatMap((family) =>
      topo.clients.flatMap((client) =>
        (family === 'ipv6' ? client.ipv6 : client.ipv4).flatMap((from) =>
          topo.nodes.flatMap((node) =>
            topo.nodePorts
              .filter((np) => np.protocol !== 'sctp')
              .map((np) => ({ family, from, node, port: np.port, protocol: np.protocol as 'tcp' | 'udp' })),
          ),
        ),
      ),
    );
    const results = await mapLimit(cases, 4, async (c) => {
      const r = await probeLab({ from: c.from, node: c.node.name, port: c.port, udp: c.protocol === 'udp' });
      const want = expectedWithoutGuard(topo, c.node, c.port, c.protocol, c.family);
      const ok = r.outcome === want.outcome && (r.outcome !== 'reached' || want.pods.includes(r.pod ?? ''));
      return ok
        ? ''
        : `${c.from} -> ${c.node.name}:${c.port}/${c.protocol}: ${r.outcome} ${r.pod ?? ''} (${r.detail}); expected ${want.outcome} ${want.pods.join('|')}`;
    });
    expect(results.filter((r) => r !== '')).toEqual([]);
    expect(cases.length).toBeGreaterThanOrEqual(topo.nodes.length * 5 * 6);
  });

  it('spread one service over pods on several nodes (cross-node DNAT with masquerade)', async () => {
    const from = topo.clients[0]!.ipv4[0]!;
    const node = topo.nodes[0]!;
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const r = await probeLab({ from, node: node.name, port: 30001 });
      if (r.pod) seen.add(r.pod);
    }
    expect(seen.size).toBeGreaterThanOrEqual(2);
  });
});
