// The cluster view (pure): NodePorts merged across nodes, and the nodes whose kube-proxy rules
// differ from the rest (mode, backend, NodePorts, endpoints). kube-proxy writes the same rules on
// every node except for externalTrafficPolicy: Local services, whose endpoints are per node, so
// those endpoints are not compared.
import type { ClusterNodePortView } from '../../shared/api.js';
import type { NodePort } from '../../shared/kube/index.js';
import { nftGuardSummary } from './nft-change.js';
import type { NodeSnapshot } from './snapshot.js';

/** A NodePort merged across nodes, as the API shows it, before the workspace's policy is added. */
export type ClusterNodePort = Omit<ClusterNodePortView, 'policy' | 'differsOn'>;

export interface NodeDifference {
  readonly node: string;
  /** One line each: what this node has that the majority does not, or lacks. */
  readonly differences: readonly string[];
}

export interface ClusterView {
  readonly nodePorts: readonly ClusterNodePort[];
  readonly differing: readonly NodeDifference[];
}

function keyOf(np: Pick<NodePort, 'port' | 'protocol'>): string {
  return `${np.protocol}/${np.port}`;
}

function signature(np: NodePort): string {
  const eps = np.externalTrafficPolicyLocal ? 'local' : np.endpoints.map((e) => e.endpoint).join(',');
  return `${np.service ?? '-'}|${eps}`;
}

function majority<T>(values: readonly T[]): T | undefined {
  const counts = new Map<T, number>();
  let best: T | undefined;
  let bestN = 0;
  for (const v of values) {
    const n = (counts.get(v) ?? 0) + 1;
    counts.set(v, n);
    if (n > bestN) {
      best = v;
      bestN = n;
    }
  }
  return best;
}

export function clusterView(snapshots: readonly NodeSnapshot[]): ClusterView {
  const byKey = new Map<
    string,
    { first: NodePort; nodes: string[]; eps: Set<string>; guarded: string[]; v6: string[] }
  >();
  const perNode = new Map<string, Map<string, NodePort>>();
  for (const s of snapshots) {
    const v4 = s.families.find((f) => f.family === 'ipv4')?.topology;
    const v6 = s.families.find((f) => f.family === 'ipv6')?.topology;
    const mine = new Map<string, NodePort>();
    // kube-proxy's nftables mode: the guard is our nft table, in force when it is healthy.
    const nft = s.guardBackend === 'nft' ? nftGuardSummary(s) : undefined;
    const nftPorts = nft?.guard === 'healthy' ? nft.ports : undefined;
    for (const np of v4?.nodePorts ?? []) {
      const k = keyOf(np);
      mine.set(k, np);
      let e = byKey.get(k);
      if (!e) {
        e = { first: np, nodes: [], eps: new Set(), guarded: [], v6: [] };
        byKey.set(k, e);
      }
      e.nodes.push(s.node);
      for (const ep of np.endpoints) e.eps.add(ep.endpoint);
      if (np.guard?.effective || nftPorts?.has(`${np.protocol}/${np.port}`)) e.guarded.push(s.node);
    }
    for (const np of v6?.nodePorts ?? []) byKey.get(keyOf(np))?.v6.push(s.node);
    perNode.set(s.node, mine);
  }
  const nodePorts = [...byKey.values()]
    .map(
      (e): ClusterNodePort => ({
        port: e.first.port,
        protocol: e.first.protocol,
        ...(e.first.service ? { service: e.first.service } : {}),
        nodes: e.nodes,
        endpoints: [...e.eps].sort(),
        local: e.first.externalTrafficPolicyLocal,
        guardedOn: e.guarded,
        ipv6On: e.v6,
      }),
    )
    .sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));

  const differing: NodeDifference[] = [];
  if (snapshots.length > 1) {
    const mode = majority(snapshots.map((s) => s.mode));
    const backend = majority(snapshots.map((s) => s.kubeBackend));
    const present = new Set(
      nodePorts.filter((p) => p.nodes.length * 2 > snapshots.length).map((p) => `${p.protocol}/${p.port}`),
    );
    const sigs = new Map<string, string | undefined>();
    for (const k of byKey.keys()) {
      sigs.set(
        k,
        majority(
          snapshots.flatMap((s) => {
            const np = perNode.get(s.node)?.get(k);
            return np ? [signature(np)] : [];
          }),
        ),
      );
    }
    for (const s of snapshots) {
      const diffs: string[] = [];
      if (s.mode !== mode) diffs.push(`kube-proxy mode ${s.mode}, most nodes ${mode}`);
      if (s.kubeBackend !== backend) diffs.push(`iptables backend ${s.kubeBackend}, most nodes ${backend}`);
      const mine = perNode.get(s.node) ?? new Map<string, NodePort>();
      for (const k of present) if (!mine.has(k)) diffs.push(`NodePort ${k} missing`);
      for (const [k, np] of mine) {
        if (!present.has(k)) diffs.push(`NodePort ${k} only on a minority of nodes`);
        else if (signature(np) !== sigs.get(k))
          diffs.push(`NodePort ${k}: service or endpoints differ from most nodes`);
      }
      if (diffs.length > 0) differing.push({ node: s.node, differences: diffs });
    }
  }
  return { nodePorts, differing };
}
