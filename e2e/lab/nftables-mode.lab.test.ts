// kube-proxy in nftables mode (`npm run lab:up -- --mode nftables [--ipv6]`), proved with real
// packets: the nodes' iptables hold no kube-proxy rule at all, yet the client reaches every
// NodePort's pods on every node, and each connection's conntrack entry shows the DNAT to the pod
// that kube-proxy's table `ip kube-proxy` / `ip6 kube-proxy` chose. A resync and a restart are one
// `nft -f` transaction each that leaves other tables alone. In other modes the file is skipped.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  currentLab,
  dumpNode,
  expectedWithoutGuard,
  type LabNode,
  type LabTopology,
  mapLimit,
  nodeConntrack,
  nodeNft,
  nodeNftTable,
  probeLab,
  restartKubeProxy,
  resyncKubeProxy,
} from './lab';
import { readState } from './state';

const mode = (await readState())?.options.mode;
const SKIP =
  mode === 'nftables'
    ? ''
    : ` (skipped: the lab runs in ${mode ?? 'no'} mode; run \`npm run lab:up -- --mode nftables --ipv6\`)`;
if (SKIP) console.info(`nftables-mode.lab.test.ts${SKIP}`);

let topo: LabTopology;
beforeAll(async () => {
  if (!SKIP) topo = await currentLab();
});

type Family = 'ipv4' | 'ipv6';
const families = (): Family[] => (topo.options.ipv6 ? ['ipv4', 'ipv6'] : ['ipv4']);
const nodeIp = (node: LabNode, family: Family) => (family === 'ipv6' ? node.ipv6! : node.ipv4);

/** Reply-direction source address and port of each conntrack entry: where the DNAT sent it. */
function replySources(listing: string): { ip: string; port: number }[] {
  return listing
    .split('\n')
    .filter((l) => l.includes('src='))
    .map((l) => {
      const src = [...l.matchAll(/\bsrc=(\S+)/g)].map((m) => m[1]!);
      const sport = [...l.matchAll(/\bsport=(\d+)/g)].map((m) => Number(m[1]));
      return { ip: src[1] ?? '', port: sport[1] ?? 0 };
    });
}

const sortedLines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .sort();

describe.skipIf(SKIP !== '')(`kube-proxy nftables mode${SKIP}`, () => {
  it('has kube-proxy in nft on every node and not in iptables', async () => {
    for (const node of topo.nodes)
      for (const family of families()) {
        const table = await nodeNftTable(node, family);
        expect(table).toContain(`table ${family === 'ipv6' ? 'ip6' : 'ip'} kube-proxy {`);
        expect(table).toMatch(
          /chain nat-prerouting \{\s+type nat hook prerouting priority dstnat; policy accept;/,
        );
        // service-nodeports (or no-endpoint-nodeports, with the service's name as comment)
        for (const np of topo.nodePorts)
          expect(
            table.includes(`${np.protocol} . ${np.port} :`) ||
              table.includes(`${np.protocol} . ${np.port} comment`),
            `${np.port}`,
          ).toBe(true);
        expect(table).toContain(`elements = { ${nodeIp(node, family)} }`);
        const { nat } = await dumpNode(node, family);
        expect(nat).not.toMatch(/KUBE-(SERVICES|NODEPORTS|SEP)|DNAT/);
      }
  });

  it("reaches each NodePort's pods on every node through kube-proxy's nft DNAT (conntrack shows it)", async () => {
    const cases = families().flatMap((family) =>
      topo.nodes.flatMap((node) =>
        topo.nodePorts
          .filter((np) => np.protocol !== 'sctp')
          .map((np) => ({ family, node, port: np.port, protocol: np.protocol as 'tcp' | 'udp' })),
      ),
    );
    const pods = topo.nodes.flatMap((n) => n.pods);
    const problems = await mapLimit(cases, 3, async (c) => {
      const client = topo.clients[0]!;
      const from = c.family === 'ipv6' ? client.ipv6[0]! : client.ipv4[0]!;
      const what = `${from} -> ${c.node.name}:${c.port}/${c.protocol}`;
      const r = await probeLab({ from, node: c.node.name, port: c.port, udp: c.protocol === 'udp' });
      const want = expectedWithoutGuard(topo, c.node, c.port, c.protocol, c.family);
      if (r.outcome !== want.outcome) return `${what}: ${r.outcome} (${r.detail}); expected ${want.outcome}`;
      if (r.outcome !== 'reached') return '';
      if (!want.pods.includes(r.pod ?? '')) return `${what}: answered by ${r.pod}, not one of ${want.pods}`;
      // The node's conntrack entries for this client and NodePort: every reply comes from a pod
      // of the service, on its pod port (DNAT), and the one that answered is among them.
      const entries = replySources(
        await nodeConntrack(c.node, [
          '-L',
          '-f',
          c.family,
          '-p',
          c.protocol,
          '--orig-src',
          from,
          '--orig-dst',
          nodeIp(c.node, c.family),
          '--orig-port-dst',
          String(c.port),
        ]),
      );
      const podOf = (ip: string) => pods.find((p) => p.ipv4 === ip || p.ipv6 === ip)?.name;
      const wrong = entries.filter((e) => !want.pods.includes(podOf(e.ip) ?? '') || e.port === c.port);
      if (entries.length === 0) return `${what}: no conntrack entry on ${c.node.name}`;
      if (wrong.length > 0) return `${what}: conntrack replies from ${wrong.map((e) => `${e.ip}:${e.port}`)}`;
      if (!entries.some((e) => podOf(e.ip) === r.pod)) return `${what}: no conntrack entry to ${r.pod}`;
      return '';
    });
    expect(problems.filter((p) => p !== '')).toEqual([]);
    expect(cases.length).toBe(topo.nodes.length * families().length * 6);
  });

  it('picks endpoints with numgen: one NodePort reaches pods on several nodes', async () => {
    const from = topo.clients[0]!.ipv4[0]!;
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const r = await probeLab({ from, node: topo.nodes[0]!.name, port: 30001 });
      if (r.pod) seen.add(r.pod);
    }
    expect(seen.size).toBeGreaterThanOrEqual(2);
  });

  it('resyncs and restarts in one transaction each, leaving other tables alone and deleting stale chains', async () => {
    const node = topo.nodes[1]!;
    const foreign = 'npg-labtest';
    const stale = 'service-AAAAAAAA-lab/stale/tcp/p';
    const before = await nodeNftTable(node);
    await nodeNft(
      node,
      ['-f', '-'],
      [
        `add table inet ${foreign}`,
        `add chain inet ${foreign} prerouting { type nat hook prerouting priority dstnat - 10 ; }`,
        `add rule inet ${foreign} prerouting tcp dport 65000 counter`,
        `add chain ip kube-proxy ${stale}`,
        `add rule ip kube-proxy ${stale} counter`,
        '',
      ].join('\n'),
    );
    try {
      // A resync flushes the chain kube-proxy no longer uses; the next one deletes it.
      await resyncKubeProxy(topo, node);
      expect(await nodeNft(node, ['list', 'chain', 'ip', 'kube-proxy', stale])).not.toContain('counter');
      await resyncKubeProxy(topo, node);
      expect(await nodeNftTable(node)).not.toContain(stale);
      expect(sortedLines(await nodeNftTable(node))).toEqual(sortedLines(before));
      // A restart re-creates kube-proxy's base chains: same table, foreign table untouched.
      await restartKubeProxy(node, topo);
      expect(sortedLines(await nodeNftTable(node))).toEqual(sortedLines(before));
      expect(await nodeNft(node, ['list', 'table', 'inet', foreign])).toContain('tcp dport 65000 counter');
      const r = await probeLab({ from: topo.clients[0]!.ipv4[0]!, node: node.name, port: 30001 });
      expect(r.outcome).toBe('reached');
    } finally {
      await nodeNft(node, ['delete', 'table', 'inet', foreign]);
      await resyncKubeProxy(topo, node);
      await resyncKubeProxy(topo, node);
    }
  });
});
