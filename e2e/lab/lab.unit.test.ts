// Pure parts of the lab: topology, status shape, argument parsing, probe classification,
// sshd config, workspace file, pod-server config.
import { describe, expect, it } from 'vitest';
import { WorkspaceSchema } from '../../shared/workspace/schema';
import { MAX_NODES } from './addressing';
import { faultArgs, kubeProxyAction, probeArgs, upOptions } from './args';
import { podServerConfig } from './pods/pod-config';
import { classifySocat } from './probe';
import { sshdConfig } from './sshd';
import { labStatus } from './status';
import { clientOf, expectedWithoutGuard, findNode, labTopology } from './topology';
import { labWorkspace } from './workspace';

const inLabV4 = (ip: string) => ip.startsWith('198.18.') || ip.startsWith('198.19.');
const inLabV6 = (ip: string) => /^2001:2:(0:)?/.test(ip) && !/^2001:2:[1-9a-f]/.test(ip);

describe('topology', () => {
  const topo = labTopology({ nodes: 3, clients: 2, mode: 'iptables', layout: 'current', ipv6: true });

  it('puts every address in the benchmarking ranges', () => {
    const v4 = [
      ...topo.nodes.flatMap((n) => [n.ipv4, ...n.pods.map((p) => p.ipv4)]),
      ...topo.clients.flatMap((c) => c.ipv4),
      ...topo
        .services('ipv4')
        .flatMap((s) => [s.clusterIP, ...(s.loadBalancerIPs ?? []), ...s.endpoints.map((e) => e.ip)]),
    ];
    const v6 = [
      ...topo.nodes.flatMap((n) => [n.ipv6!, ...n.pods.map((p) => p.ipv6)]),
      ...topo.clients.flatMap((c) => c.ipv6),
      ...topo
        .services('ipv6')
        .flatMap((s) => [s.clusterIP, ...(s.loadBalancerIPs ?? []), ...s.endpoints.map((e) => e.ip)]),
    ];
    for (const ip of v4) expect(inLabV4(ip), ip).toBe(true);
    for (const ip of v6) expect(inLabV6(ip), ip).toBe(true);
  });

  it('names nodes, namespaces and links predictably', () => {
    expect(topo.nodes.map((n) => [n.name, n.netns, n.hostLink, n.ipv4])).toEqual([
      ['node1', 'npg-node1', 'npg-n1', '198.18.0.11'],
      ['node2', 'npg-node2', 'npg-n2', '198.18.0.12'],
      ['node3', 'npg-node3', 'npg-n3', '198.18.0.13'],
    ]);
    expect(topo.clients[1]!.ipv4).toEqual([
      '198.18.101.10',
      '198.18.101.11',
      '198.18.101.12',
      '198.18.101.13',
      '198.18.101.14',
    ]);
    expect(clientOf(topo, '198.18.101.12')?.netns).toBe('npg-client2');
    expect(findNode(topo, '2')?.name).toBe('node2');
    expect(findNode(topo, '198.18.0.13')?.name).toBe('node3');
  });

  it('spreads endpoints across nodes and knows what an unguarded probe sees', () => {
    const node1 = topo.nodes[0]!;
    expect(expectedWithoutGuard(topo, node1, 30001, 'tcp').pods).toEqual([
      'web-0',
      'web-1',
      'web-2',
      'web-3',
    ]);
    expect(expectedWithoutGuard(topo, node1, 30003, 'tcp')).toEqual({
      outcome: 'reached',
      pods: ['local-web-0'],
    });
    expect(expectedWithoutGuard(topo, node1, 30004, 'tcp').outcome).toBe('refused');
    expect(expectedWithoutGuard(topo, node1, 30002, 'udp').outcome).toBe('reached');
  });

  it('holds up to MAX_NODES nodes with distinct addresses inside the plan', () => {
    const big = labTopology({
      nodes: MAX_NODES,
      clients: 9,
      mode: 'iptables',
      layout: 'current',
      ipv6: true,
    });
    expect(MAX_NODES).toBeGreaterThanOrEqual(100);
    const v4 = [
      ...big.nodes.flatMap((n) => [n.ipv4, ...n.pods.map((p) => p.ipv4)]),
      ...big.clients.flatMap((c) => c.ipv4),
    ];
    const v6 = [
      ...big.nodes.flatMap((n) => [n.ipv6!, ...n.pods.map((p) => p.ipv6)]),
      ...big.clients.flatMap((c) => c.ipv6),
    ];
    expect(new Set(v4).size).toBe(v4.length);
    expect(new Set(v6).size).toBe(v6.length);
    for (const ip of v4) expect(inLabV4(ip), ip).toBe(true);
    for (const ip of v6) expect(inLabV6(ip), ip).toBe(true);
    // Pods inside the cluster CIDR 198.19.0.0/17 (third octet < 128), below the service IPs.
    for (const n of big.nodes) for (const p of n.pods) expect(Number(p.ipv4.split('.')[2])).toBeLessThan(128);
    expect(new Set(big.nodes.map((n) => n.hostLink)).size).toBe(MAX_NODES);
    for (const n of big.nodes) expect(n.hostLink.length).toBeLessThanOrEqual(15); // IFNAMSIZ - 1
    expect(big.nodes[99]).toMatchObject({ name: 'node100', ipv4: '198.18.0.110', hostLink: 'npg-n100' });
    expect(() =>
      labTopology({ nodes: MAX_NODES + 1, clients: 1, mode: 'iptables', layout: 'current', ipv6: false }),
    ).toThrow(/--nodes/);
  });

  it('rejects bad sizes', () => {
    expect(() =>
      labTopology({ nodes: 0, clients: 1, mode: 'iptables', layout: 'current', ipv6: false }),
    ).toThrow(/--nodes/);
    expect(() =>
      labTopology({ nodes: 3, clients: 10, mode: 'iptables', layout: 'current', ipv6: false }),
    ).toThrow(/--clients/);
  });
});

describe('status --json', () => {
  it('has exactly the documented shape', () => {
    const status = labStatus(
      labTopology({ nodes: 2, clients: 1, mode: 'ipvs', layout: 'current', ipv6: false }),
      '/run/npg-lab/workspace.yaml',
    );
    expect(Object.keys(status)).toEqual(['workspace', 'nodes', 'clients', 'nodePorts']);
    expect(status.nodes[0]).toEqual({ name: 'node1', ip: '198.18.0.11', netns: 'npg-node1' });
    expect(Object.keys(status.clients[0]!)).toEqual(['netns', 'ips']);
    expect(status.nodePorts[0]).toEqual({ port: 30001, protocol: 'tcp', service: 'default/web:http' });
    expect(status.nodePorts.map((p) => p.port)).toEqual(
      [...status.nodePorts.map((p) => p.port)].sort((a, b) => a - b),
    );
  });
});

describe('arguments', () => {
  it('parses up options with defaults', () => {
    expect(upOptions({})).toEqual({ nodes: 3, clients: 1, mode: 'iptables', layout: 'current', ipv6: false });
    expect(upOptions({ layout: 'legacy' }).layout).toBe('legacy');
    expect(() => upOptions({ layout: 'old' })).toThrow(/--layout/);
    expect(upOptions({ nodes: '5', mode: 'ipvs', layout: 'current', ipv6: true })).toEqual({
      nodes: 5,
      clients: 1,
      mode: 'ipvs',
      layout: 'current',
      ipv6: true,
    });
    expect(() => upOptions({ nodes: '3x' })).toThrow(/whole number/);
    expect(upOptions({ mode: 'nftables', ipv6: true })).toMatchObject({ mode: 'nftables', ipv6: true });
    expect(() => upOptions({ mode: 'nft' })).toThrow(/--mode must be iptables, ipvs or nftables/);
  });
  it('parses probe, kube-proxy and fault arguments', () => {
    expect(probeArgs({ from: '198.18.100.10', node: 'node1', port: '30001' })).toEqual({
      from: '198.18.100.10',
      node: 'node1',
      port: 30001,
      udp: false,
    });
    expect(() => probeArgs({ from: '198.18.100.10', node: 'node1', port: '70000' })).toThrow(/--port/);
    expect(() => probeArgs({ node: 'node1', port: '1' })).toThrow(/--from/);
    expect(kubeProxyAction({ resync: true })).toBe('resync');
    expect(() => kubeProxyAction({ resync: true, restart: true })).toThrow();
    expect(faultArgs('cut', 'node2')).toEqual({ fault: 'cut', node: 'node2' });
    expect(() => faultArgs('explode', 'node2')).toThrow(/unknown fault/);
  });
});

describe('probe classification', () => {
  it('reads the pod from an HTTP answer and from a UDP echo', () => {
    const http = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Pod: web-2\r\n\r\nweb-2\n';
    expect(classifySocat('tcp', 0, http, '')).toMatchObject({ outcome: 'reached', pod: 'web-2' });
    expect(classifySocat('udp', 0, 'dns-1 probe 198.18.100.10\n', '')).toMatchObject({
      outcome: 'reached',
      pod: 'dns-1',
    });
  });
  it('tells refused from timeout', () => {
    expect(
      classifySocat('tcp', 1, '', 'socat[1] E connect(5, AF=2 198.18.0.11:30001, 16): Connection refused')
        .outcome,
    ).toBe('refused');
    expect(
      classifySocat('tcp', 1, '', 'socat[1] E connecting to AF=2 198.18.0.11:30001: Connection timed out')
        .outcome,
    ).toBe('timeout');
    expect(classifySocat('udp', 1, '', 'socat[1] E read(5, 0x1, 8192): Connection refused').outcome).toBe(
      'refused',
    );
    expect(classifySocat('udp', 0, '', '').outcome).toBe('timeout');
  });
});

describe('files the lab writes', () => {
  const topo = labTopology({ nodes: 2, clients: 1, mode: 'ipvs', layout: 'current', ipv6: true });
  it('sshd listens on the node addresses only, keys only, with the node bin dir first in PATH', () => {
    const cfg = sshdConfig(topo.nodes[1]!);
    expect(cfg).toContain('ListenAddress 198.18.0.12:22');
    expect(cfg).toContain('ListenAddress [2001:2::12]:22');
    expect(cfg).toContain('PasswordAuthentication no');
    expect(cfg).toMatch(/SetEnv PATH=\S+\/nodes\/node2\/bin:/);
  });
  it('writes a workspace the app schema accepts', () => {
    const ws = WorkspaceSchema.parse(labWorkspace(topo, '/run/npg-lab/workspace.yaml'));
    expect(ws.inventory.nodes.map((n) => n.host)).toEqual(['198.18.0.11', '198.18.0.12']);
    expect(ws.inventory.knownHosts).toBe('known_hosts');
    expect(ws.policy.nodePorts).toEqual([]);
  });
  it('gives ipvs mode a stand-in virtual server per NodePort with endpoints', () => {
    const cfg = podServerConfig(topo, topo.nodes[0]!, '/tmp/ready');
    const ports = cfg.virtualServers
      .filter((v) => !v.listen.includes(':'))
      .map((v) => `${v.protocol}/${v.port}`);
    expect(ports).toEqual(['tcp/30001', 'udp/30002', 'tcp/30003', 'tcp/30006', 'tcp/30007']);
    expect(cfg.virtualServers.find((v) => v.port === 30003)?.backends).toHaveLength(1);
  });
});
