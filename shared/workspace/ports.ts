// Ports the workspace itself tells about, before any node is read: each node's SSH port (as the
// inventory gives it; ~/.ssh/config may still change it when the fleet connects) and the cluster's
// NodePort range. The plan-time checks take the same shapes from the connected fleet.
import type { NodeSshPort, PortRange } from '../guard/warnings';
import type { Cluster, Inventory } from './schema';

export function inventorySshPorts(inventory: Inventory): NodeSshPort[] {
  return inventory.nodes.map((n) => ({ node: n.name, port: n.port ?? inventory.defaults?.port ?? 22 }));
}

/** `cluster.nodePortRange` (validated by the schema), or undefined for the default. */
export function nodePortRangeOf(cluster: Cluster | undefined): PortRange | undefined {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(cluster?.nodePortRange ?? '');
  return m ? { from: Number(m[1]), to: Number(m[2]) } : undefined;
}
