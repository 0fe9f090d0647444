// `lab:status --json`: the shape other tools depend on (issue 3), built from the topology.
import type { LabTopology } from './topology';

export interface LabStatus {
  readonly workspace: string;
  readonly nodes: readonly { readonly name: string; readonly ip: string; readonly netns: string }[];
  readonly clients: readonly { readonly netns: string; readonly ips: readonly string[] }[];
  readonly nodePorts: readonly {
    readonly port: number;
    readonly protocol: string;
    readonly service: string;
  }[];
}

export function labStatus(topo: LabTopology, workspace: string): LabStatus {
  return {
    workspace,
    nodes: topo.nodes.map((n) => ({ name: n.name, ip: n.ipv4, netns: n.netns })),
    clients: topo.clients.map((c) => ({ netns: c.netns, ips: [...c.ipv4, ...c.ipv6] })),
    nodePorts: topo.nodePorts.map((p) => ({ port: p.port, protocol: p.protocol, service: p.service })),
  };
}
