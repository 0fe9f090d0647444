// The well-known one-line guard, inserted by hand: the blocked sources get refused (REDIRECT to
// a port where nothing listens), the allowed one still reaches a pod; a DROP gives a timeout; and
// in iptables mode a kube-proxy restart, which puts its jump back on top, silently opens the port
// again (in ipvs mode it does not: KUBE-SERVICES does not DNAT NodePort traffic there).
import { beforeAll, describe, expect, it, type TestFunction } from 'vitest';
import { currentLab, type LabTopology, probeLab, restartKubeProxy, resyncKubeProxy } from './lab';
import { nodeIptables, withPreroutingRule } from './lab-helpers';
import { readState } from './state';

// kube-proxy's nftables mode DNATs in its own table at the same hook priority as iptables' nat
// PREROUTING: a REDIRECT inserted there by hand does nothing (nftables-mode.lab.test.ts), and there
// are no KUBE- chains to restart or repair. The guard for that mode is our own table:
// electron/cli/npg-nft-guard.lab.test.ts proves it with real packets.
const NFT = (await readState())?.options.mode === 'nftables';
const NFT_NOTE = NFT ? ' (skipped in nftables mode: an iptables REDIRECT by hand does nothing there)' : '';
const itIptables = (name: string, fn: TestFunction, timeout?: number) =>
  it.skipIf(NFT)(`${name}${NFT_NOTE}`, fn, timeout);

let topo: LabTopology;
beforeAll(async () => {
  topo = await currentLab();
});

const PORT = 30001;

describe('a REDIRECT rule inserted by hand', () => {
  itIptables('refuses every source but the allowed one (TCP)', async () => {
    const node = topo.nodes[0]!;
    const [allowed, ...blocked] = topo.clients[0]!.ipv4;
    const rule = [
      '-p',
      'tcp',
      '--dport',
      String(PORT),
      '!',
      '-s',
      `${allowed}/32`,
      '-j',
      'REDIRECT',
      '--to-ports',
      '65535',
    ];
    await withPreroutingRule(node, rule, async () => {
      expect((await probeLab({ from: allowed!, node: node.name, port: PORT })).outcome).toBe('reached');
      for (const from of blocked)
        expect((await probeLab({ from, node: node.name, port: PORT })).outcome).toBe('refused');
      // Other nodes are not guarded.
      expect((await probeLab({ from: blocked[0]!, node: topo.nodes[1]!.name, port: PORT })).outcome).toBe(
        'reached',
      );
    });
    expect((await probeLab({ from: blocked[0]!, node: node.name, port: PORT })).outcome).toBe('reached');
  });

  itIptables('refuses UDP too (ICMP port unreachable from the blackhole port)', async () => {
    const node = topo.nodes[1]!;
    const [allowed, blocked] = topo.clients[0]!.ipv4;
    const rule = [
      '-p',
      'udp',
      '--dport',
      '30002',
      '!',
      '-s',
      `${allowed}/32`,
      '-j',
      'REDIRECT',
      '--to-ports',
      '65535',
    ];
    await withPreroutingRule(node, rule, async () => {
      expect((await probeLab({ from: allowed!, node: node.name, port: 30002, udp: true })).outcome).toBe(
        'reached',
      );
      expect((await probeLab({ from: blocked!, node: node.name, port: 30002, udp: true })).outcome).toBe(
        'refused',
      );
    });
  });

  it('times out with DROP instead (raw PREROUTING)', async () => {
    const node = topo.nodes[0]!;
    const from = topo.clients[0]!.ipv4[1]!;
    const rule = ['-p', 'tcp', '--dport', String(PORT), '-s', `${from}/32`, '-j', 'DROP'];
    await withPreroutingRule(
      node,
      rule,
      async () => {
        expect((await probeLab({ from, node: node.name, port: PORT, timeoutMs: 800 })).outcome).toBe(
          'timeout',
        );
      },
      { table: 'raw' },
    );
  });

  itIptables(
    'is bypassed (iptables mode) after a kube-proxy restart re-inserts its jump above it',
    async () => {
      const node = topo.nodes[2]!;
      const [allowed, blocked] = topo.clients[0]!.ipv4;
      const rule = [
        '-p',
        'tcp',
        '--dport',
        String(PORT),
        '!',
        '-s',
        `${allowed}/32`,
        '-j',
        'REDIRECT',
        '--to-ports',
        '65535',
      ];
      await withPreroutingRule(node, rule, async () => {
        expect((await probeLab({ from: blocked!, node: node.name, port: PORT })).outcome).toBe('refused');
        await restartKubeProxy(node);
        const prerouting = await nodeIptables(node, ['-t', 'nat', '-S', 'PREROUTING']);
        expect(prerouting.split('\n')[1]).toContain('-j KUBE-SERVICES');
        // iptables mode: KUBE-SERVICES DNATs first, the REDIRECT below never sees the packet.
        // ipvs mode: KUBE-SERVICES only marks NodePort traffic and returns, so the REDIRECT still
        // runs and the port stays closed: the order matters only in iptables mode.
        const expected = topo.options.mode === 'iptables' ? 'reached' : 'refused';
        expect((await probeLab({ from: blocked!, node: node.name, port: PORT })).outcome).toBe(expected);
      });
    },
  );

  itIptables(
    'survives a kube-proxy resync (iptables-restore --noflush leaves PREROUTING alone)',
    async () => {
      const node = topo.nodes[0]!;
      const [allowed, blocked] = topo.clients[0]!.ipv4;
      const rule = [
        '-p',
        'tcp',
        '--dport',
        String(PORT),
        '!',
        '-s',
        `${allowed}/32`,
        '-j',
        'REDIRECT',
        '--to-ports',
        '65535',
      ];
      await withPreroutingRule(node, rule, async () => {
        await resyncKubeProxy(topo, node);
        expect((await probeLab({ from: blocked!, node: node.name, port: PORT })).outcome).toBe('refused');
      });
    },
  );

  itIptables('works over IPv6 with ip6tables on a dual-stack lab', async (ctx) => {
    if (!topo.options.ipv6) ctx.skip();
    const node = topo.nodes[0]!;
    const [allowed, blocked] = topo.clients[0]!.ipv6;
    const rule = [
      '-p',
      'tcp',
      '--dport',
      String(PORT),
      '!',
      '-s',
      `${allowed}/128`,
      '-j',
      'REDIRECT',
      '--to-ports',
      '65535',
    ];
    await withPreroutingRule(
      node,
      rule,
      async () => {
        expect((await probeLab({ from: allowed!, node: node.name, port: PORT })).outcome).toBe('reached');
        expect((await probeLab({ from: blocked!, node: node.name, port: PORT })).outcome).toBe('refused');
      },
      { v6: true },
    );
  });
});

describe('kube-proxy resync', () => {
  itIptables('repairs its own chains after they were emptied by hand', async () => {
    const node = topo.nodes[1]!;
    const chain = topo.options.mode === 'ipvs' ? 'KUBE-SERVICES' : 'KUBE-NODEPORTS';
    const from = topo.clients[0]!.ipv4[0]!;
    await nodeIptables(node, ['-t', 'nat', '-F', chain]);
    try {
      if (topo.options.mode === 'iptables') {
        expect((await probeLab({ from, node: node.name, port: PORT, timeoutMs: 800 })).outcome).not.toBe(
          'reached',
        );
      }
    } finally {
      await resyncKubeProxy(topo, node);
    }
    expect((await probeLab({ from, node: node.name, port: PORT })).outcome).toBe('reached');
  });
});
