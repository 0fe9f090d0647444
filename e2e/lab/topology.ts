// The lab's shape as data, computed from the options of `lab up`: names of namespaces and links,
// every address, the pods each node runs and the NodePorts it serves. Pure, so the status shape,
// the probe and the tests all agree with what `up` builds.
import {
  clientIpV4,
  clientIpV6,
  MAX_NODES,
  nodeIpV4,
  nodeIpV6,
  podSubnetV4,
  podSubnetV6,
} from './addressing';
import {
  type IpFamily,
  type IptablesLayout,
  type KubeProxyMode,
  type SamplePod,
  sampleCluster,
  servicePortName,
} from './kube-proxy/index';
import type { ServicePortSpec } from './kube-proxy/types';

export const BRIDGE = 'npg-br0';
export const NETNS_PREFIX = 'npg-';
export const CLIENT_ADDRESSES = 5;
export const MAX_CLIENTS = 9;

export interface LabOptions {
  readonly nodes: number;
  readonly clients: number;
  readonly mode: KubeProxyMode;
  /** iptables mode: kube-proxy >= 1.24 (`current`) or older (`legacy`) rule layout. */
  readonly layout: IptablesLayout;
  readonly ipv6: boolean;
}

export const DEFAULT_OPTIONS: LabOptions = {
  nodes: 3,
  clients: 1,
  mode: 'iptables',
  layout: 'current',
  ipv6: false,
};

export interface LabNode {
  /** `node1`: the name in the inventory and in kube-proxy's endpoint topology. */
  readonly name: string;
  readonly index: number;
  readonly netns: string;
  /** The root-namespace end of the node's veth (the node side is `eth0`). */
  readonly hostLink: string;
  readonly ipv4: string;
  readonly ipv6?: string;
  readonly podSubnetV4: string;
  readonly podSubnetV6?: string;
  readonly pods: readonly SamplePod[];
}

export interface LabClient {
  readonly name: string;
  readonly index: number;
  readonly netns: string;
  readonly hostLink: string;
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
}

export interface LabNodePort {
  readonly port: number;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  /** kube-proxy's name for it: `namespace/name:port` (or `namespace/name`). */
  readonly service: string;
}

export interface LabTopology {
  readonly options: LabOptions;
  readonly nodes: readonly LabNode[];
  readonly clients: readonly LabClient[];
  /** Services per family (IPv6 only with --ipv6). */
  readonly services: (family: IpFamily) => ServicePortSpec[];
  readonly nodePorts: readonly LabNodePort[];
}

export function validateOptions(o: LabOptions): LabOptions {
  if (!Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > MAX_NODES) {
    throw new Error(`--nodes must be an integer from 1 to ${MAX_NODES}`);
  }
  if (!Number.isInteger(o.clients) || o.clients < 1 || o.clients > MAX_CLIENTS) {
    throw new Error(`--clients must be an integer from 1 to ${MAX_CLIENTS}`);
  }
  if (o.mode !== 'iptables' && o.mode !== 'ipvs' && o.mode !== 'nftables')
    throw new Error('--mode must be iptables, ipvs or nftables');
  if (o.layout !== 'current' && o.layout !== 'legacy') throw new Error('--layout must be current or legacy');
  return o;
}

export function nodeName(index: number): string {
  return `node${index}`;
}

export function labTopology(options: LabOptions): LabTopology {
  const o = validateOptions(options);
  const cluster = sampleCluster(o.nodes, nodeName);
  const nodes: LabNode[] = [];
  for (let i = 1; i <= o.nodes; i++) {
    nodes.push({
      name: nodeName(i),
      index: i,
      netns: `${NETNS_PREFIX}node${i}`,
      hostLink: `npg-n${i}`,
      ipv4: nodeIpV4(i),
      ...(o.ipv6 ? { ipv6: nodeIpV6(i), podSubnetV6: podSubnetV6(i) } : {}),
      podSubnetV4: podSubnetV4(i),
      pods: cluster.pods.filter((p) => p.node === i),
    });
  }
  const clients: LabClient[] = [];
  for (let c = 1; c <= o.clients; c++) {
    const ks = Array.from({ length: CLIENT_ADDRESSES }, (_, k) => k);
    clients.push({
      name: `client${c}`,
      index: c,
      netns: `${NETNS_PREFIX}client${c}`,
      hostLink: `npg-c${c}`,
      ipv4: ks.map((k) => clientIpV4(c, k)),
      ipv6: o.ipv6 ? ks.map((k) => clientIpV6(c, k)) : [],
    });
  }
  const nodePorts: LabNodePort[] = cluster
    .services('ipv4')
    .filter((s) => s.nodePort !== undefined)
    .map((s) => ({ port: s.nodePort!, protocol: s.protocol, service: servicePortName(s) }))
    .sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
  return { options: o, nodes, clients, services: cluster.services, nodePorts };
}

/** Which lab namespace owns a client address. */
export function clientOf(topo: LabTopology, ip: string): LabClient | undefined {
  return topo.clients.find((c) => c.ipv4.includes(ip) || c.ipv6.includes(ip));
}

/** A node by name (`node2`), netns (`npg-node2`) or address. */
export function findNode(topo: LabTopology, ref: string): LabNode | undefined {
  return topo.nodes.find(
    (n) => n.name === ref || n.netns === ref || n.ipv4 === ref || n.ipv6 === ref || String(n.index) === ref,
  );
}

export type ExpectedOutcome = 'reached' | 'refused' | 'timeout';

/**
 * What a probe to a NodePort should see on an unguarded lab: which pods may answer, or why none.
 * A service without endpoints is rejected (refused); SCTP is not probed by the lab.
 */
export function expectedWithoutGuard(
  topo: LabTopology,
  node: LabNode,
  port: number,
  protocol: 'tcp' | 'udp',
  family: IpFamily = 'ipv4',
): { outcome: ExpectedOutcome; pods: readonly string[] } {
  const svc = topo.services(family).find((s) => s.nodePort === port && s.protocol === protocol);
  if (!svc) return { outcome: protocol === 'tcp' ? 'refused' : 'refused', pods: [] };
  const eps =
    svc.externalTrafficPolicy === 'Local' ? svc.endpoints.filter((e) => e.node === node.name) : svc.endpoints;
  if (svc.endpoints.length === 0) return { outcome: 'refused', pods: [] };
  if (eps.length === 0) return { outcome: 'timeout', pods: [] };
  const pods = topo.nodes.flatMap((n) => n.pods);
  const names = eps.map((e) => pods.find((p) => p.ipv4 === e.ip || p.ipv6 === e.ip)?.name ?? e.ip);
  return { outcome: 'reached', pods: names };
}
