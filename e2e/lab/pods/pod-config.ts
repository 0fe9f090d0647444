// What the per-node pod server serves: real backends for every pod address on the node, and in
// ipvs mode the stand-in for IPVS virtual servers (this kernel has no IPVS). Pure: built from the
// topology, written as JSON for the server process.

import { categorize } from '../kube-proxy/endpoints';
import type { KubeProxyMode } from '../kube-proxy/index';
import { POD_HTTP_PORT, POD_UDP_PORT } from '../kube-proxy/samples';
import type { LabNode, LabTopology } from '../topology';

export interface PodEndpoint {
  readonly name: string;
  readonly ips: readonly string[];
}

export interface VirtualServerConfig {
  readonly protocol: 'tcp' | 'udp';
  readonly listen: string;
  readonly port: number;
  readonly backends: readonly { readonly ip: string; readonly port: number }[];
}

export interface PodServerConfig {
  readonly node: string;
  readonly mode: KubeProxyMode;
  readonly httpPort: number;
  readonly udpPort: number;
  readonly pods: readonly PodEndpoint[];
  readonly virtualServers: readonly VirtualServerConfig[];
  /** Written once every socket listens. */
  readonly readyFile: string;
}

export function podServerConfig(topo: LabTopology, node: LabNode, readyFile: string): PodServerConfig {
  const pods = node.pods.map((p) => ({ name: p.name, ips: node.ipv6 ? [p.ipv4, p.ipv6] : [p.ipv4] }));
  const virtualServers: VirtualServerConfig[] = [];
  if (topo.options.mode === 'ipvs') {
    const families = node.ipv6 ? (['ipv4', 'ipv6'] as const) : (['ipv4'] as const);
    for (const family of families) {
      const listen = family === 'ipv6' ? node.ipv6! : node.ipv4;
      for (const svc of topo.services(family)) {
        if (svc.nodePort === undefined || svc.protocol === 'sctp') continue;
        const eps = categorize(svc, node.name);
        const backends = svc.externalTrafficPolicy === 'Local' ? eps.local : eps.cluster;
        // IPVS answers a virtual server without real servers with a port-unreachable:
        // not listening gives the client the same "refused".
        if (backends.length === 0) continue;
        virtualServers.push({
          protocol: svc.protocol,
          listen,
          port: svc.nodePort,
          backends: backends.map((b) => ({ ip: b.ip, port: b.port })),
        });
      }
    }
  }
  return {
    node: node.name,
    mode: topo.options.mode,
    httpPort: POD_HTTP_PORT,
    udpPort: POD_UDP_PORT,
    pods,
    virtualServers,
    readyFile,
  };
}
