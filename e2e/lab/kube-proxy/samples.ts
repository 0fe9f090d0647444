// The services the lab runs, and synthetic ones for benchmarks. Pure: a description of pods and
// services; the lab starts the pods, the generator turns the services into kube-proxy rules.
import {
  loadBalancerIpV4,
  loadBalancerIpV6,
  podIpV4,
  podIpV6,
  serviceIpV4,
  serviceIpV6,
} from '../addressing';
import type { IpFamily, ServiceEndpoint, ServicePortSpec, ServiceProtocol } from './types';

/** The HTTP port and the UDP echo port every lab pod listens on. */
export const POD_HTTP_PORT = 8080;
export const POD_UDP_PORT = 5353;

export interface SamplePod {
  readonly name: string;
  /** 1-based node index. */
  readonly node: number;
  readonly ipv4: string;
  readonly ipv6: string;
}

interface SampleSpec {
  readonly namespace: string;
  readonly name: string;
  readonly portName: string;
  readonly protocol: ServiceProtocol;
  readonly port: number;
  readonly nodePort: number;
  readonly targetPort: number;
  /** Node index (1-based) of each endpoint, or 'each' for one pod per node. */
  readonly pods: readonly number[] | 'each';
  readonly local?: boolean;
  readonly healthCheckNodePort?: number;
  readonly loadBalancer?: {
    readonly sourceRangesV4: readonly string[];
    readonly sourceRangesV6: readonly string[];
  };
}

/**
 * The lab's services. Node indexes above the node count wrap around, so any cluster size gets
 * the same services: web spreads 4 endpoints across nodes, local-web has one pod per node,
 * empty has none, api lives on the last node only (so most nodes forward it cross-node).
 */
function sampleSpecs(nodeCount: number): SampleSpec[] {
  return [
    {
      namespace: 'default',
      name: 'web',
      portName: 'http',
      protocol: 'tcp',
      port: 80,
      nodePort: 30001,
      targetPort: POD_HTTP_PORT,
      pods: [1, 2, 3, 1],
    },
    {
      namespace: 'default',
      name: 'dns',
      portName: 'dns-udp',
      protocol: 'udp',
      port: 53,
      nodePort: 30002,
      targetPort: POD_UDP_PORT,
      pods: [2, 3],
    },
    {
      namespace: 'default',
      name: 'local-web',
      portName: 'http',
      protocol: 'tcp',
      port: 80,
      nodePort: 30003,
      targetPort: POD_HTTP_PORT,
      pods: 'each',
      local: true,
      healthCheckNodePort: 32001,
    },
    {
      namespace: 'default',
      name: 'empty',
      portName: 'http',
      protocol: 'tcp',
      port: 80,
      nodePort: 30004,
      targetPort: POD_HTTP_PORT,
      pods: [],
    },
    {
      namespace: 'default',
      name: 'sctp-app',
      portName: 'sctp',
      protocol: 'sctp',
      port: 9000,
      nodePort: 30005,
      targetPort: 9000,
      pods: [1],
    },
    {
      namespace: 'default',
      name: 'lb',
      portName: 'https',
      protocol: 'tcp',
      port: 443,
      nodePort: 30006,
      targetPort: POD_HTTP_PORT,
      pods: [1, 2],
      loadBalancer: { sourceRangesV4: ['198.18.100.8/30'], sourceRangesV6: ['2001:2::100:8/126'] },
    },
    {
      namespace: 'other',
      name: 'api',
      portName: '',
      protocol: 'tcp',
      port: 8443,
      nodePort: 30007,
      targetPort: POD_HTTP_PORT,
      pods: [nodeCount],
    },
  ];
}

export interface SampleCluster {
  readonly pods: readonly SamplePod[];
  /** Services of one family, with endpoints on the pods above. */
  readonly services: (family: IpFamily) => ServicePortSpec[];
}

export function sampleCluster(
  nodeCount = 3,
  nodeName: (node: number) => string = (n) => `node${n}`,
): SampleCluster {
  const specs = sampleSpecs(nodeCount);
  const perNode = new Map<number, number>();
  const pods: SamplePod[] = [];
  const podsOf = new Map<string, SamplePod[]>();
  for (const spec of specs) {
    const nodes = spec.pods === 'each' ? Array.from({ length: nodeCount }, (_, i) => i + 1) : spec.pods;
    const list: SamplePod[] = [];
    nodes.forEach((raw, k) => {
      const node = ((raw - 1) % nodeCount) + 1;
      const slot = perNode.get(node) ?? 0;
      perNode.set(node, slot + 1);
      const pod = { name: `${spec.name}-${k}`, node, ipv4: podIpV4(node, slot), ipv6: podIpV6(node, slot) };
      pods.push(pod);
      list.push(pod);
    });
    podsOf.set(spec.name, list);
  }
  const services = (family: IpFamily): ServicePortSpec[] =>
    specs.map((spec, i) => {
      const v6 = family === 'ipv6';
      const endpoints: ServiceEndpoint[] = (podsOf.get(spec.name) ?? []).map((p) => ({
        ip: v6 ? p.ipv6 : p.ipv4,
        port: spec.targetPort,
        node: nodeName(p.node),
      }));
      return {
        namespace: spec.namespace,
        name: spec.name,
        portName: spec.portName,
        protocol: spec.protocol,
        clusterIP: v6 ? serviceIpV6(i) : serviceIpV4(i),
        port: spec.port,
        nodePort: spec.nodePort,
        ...(spec.local ? { externalTrafficPolicy: 'Local' as const } : {}),
        ...(spec.healthCheckNodePort ? { healthCheckNodePort: spec.healthCheckNodePort } : {}),
        ...(spec.loadBalancer
          ? {
              loadBalancerIPs: [v6 ? loadBalancerIpV6(0) : loadBalancerIpV4(0)],
              loadBalancerSourceRanges: v6
                ? spec.loadBalancer.sourceRangesV6
                : spec.loadBalancer.sourceRangesV4,
            }
          : {}),
        endpoints,
      };
    });
  return { pods, services };
}

/** The lab's services for one family on a cluster of `nodeCount` nodes named node1..nodeN. */
export function sampleServices(family: IpFamily = 'ipv4', nodeCount = 3): ServicePortSpec[] {
  return sampleCluster(nodeCount).services(family);
}

export const MAX_SYNTHETIC_SERVICES = 72 * 240;
export const MAX_SYNTHETIC_ENDPOINTS = 126 * 240;

/**
 * `count` TCP NodePort services (every 10th UDP) with `endpointsPer` endpoints each, spread over
 * `nodeCount` nodes. NodePorts start at 20000 (as with --service-node-port-range=20000-65535),
 * because the default range holds only 2768 ports. Up to 17,280 services and 30,240 endpoints.
 */
export function syntheticServices(
  count: number,
  endpointsPer: number,
  opts: { family?: IpFamily; nodeCount?: number } = {},
): ServicePortSpec[] {
  const family = opts.family ?? 'ipv4';
  const nodeCount = opts.nodeCount ?? 3;
  // Cluster IPs from 198.19.128.10 upward, 240 per /24, stay below the load-balancer range
  // 198.19.200.0/24; pods 198.19.1-126.x stay inside the cluster CIDR 198.19.0.0/17.
  if (count > MAX_SYNTHETIC_SERVICES)
    throw new Error(`syntheticServices: at most ${MAX_SYNTHETIC_SERVICES} services`);
  if (count * endpointsPer > MAX_SYNTHETIC_ENDPOINTS) {
    throw new Error(`syntheticServices: at most ${MAX_SYNTHETIC_ENDPOINTS} endpoints`);
  }
  const out: ServicePortSpec[] = [];
  let pod = 0;
  for (let i = 0; i < count; i++) {
    const endpoints: ServiceEndpoint[] = [];
    for (let e = 0; e < endpointsPer; e++, pod++) {
      const subnet = 1 + Math.floor(pod / 240); // podIpV4 adds 10: keep the last octet <= 249
      const k = pod % 240;
      endpoints.push({
        ip: family === 'ipv6' ? podIpV6(subnet, k) : podIpV4(subnet, k),
        port: 8080,
        node: `node${(pod % nodeCount) + 1}`,
      });
    }
    const udp = i % 10 === 9;
    out.push({
      namespace: `bench-${Math.floor(i / 100)}`,
      name: `svc-${String(i).padStart(5, '0')}`,
      portName: udp ? 'dns' : 'http',
      protocol: udp ? 'udp' : 'tcp',
      clusterIP: family === 'ipv6' ? `2001:2:0:ff::${(0x1000 + i).toString(16)}` : serviceIpV4(i),
      port: udp ? 53 : 80,
      nodePort: 20000 + i,
      endpoints,
    });
  }
  return out;
}
