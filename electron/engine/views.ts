// Topology -> the view types of shared/api.ts: what the UI draws. Rules become iptables-save lines
// here so the renderer never needs the netfilter model.
import type { NodePortSummaryView, NodePortView, PathStepView } from '../../shared/api.js';
import type { NodePort, PathStep, Topology } from '../../shared/kube/index.js';
import { serializeRule } from '../../shared/netfilter/index.js';

function stepView(step: PathStep): PathStepView {
  return {
    chain: step.chain,
    kind: step.kind,
    // nftables mode has no iptables rule: the step carries the nft rule as nft prints it.
    ...(step.via ? { via: serializeRule(step.via) } : step.text !== undefined ? { via: step.text } : {}),
    ...(step.counters ? { packets: step.counters.packets, bytes: step.counters.bytes } : {}),
  };
}

export function nodePortView(np: NodePort): NodePortView {
  const notes = [...np.notes];
  if (np.guard && !np.guard.effective)
    notes.push('guard chain present but not effective: its entry jump is missing or behind KUBE-SERVICES');
  const guard = np.guard;
  return {
    port: np.port,
    protocol: np.protocol,
    ...(np.service ? { service: np.service } : {}),
    endpoints: np.endpoints.map((e) => ({
      address: e.endpoint,
      probability: e.probability,
      ...(e.sepChain ? { chain: e.sepChain } : {}),
      ...(e.via?.counters ? { packets: e.via.counters.packets, bytes: e.via.counters.bytes } : {}),
    })),
    path: np.path.map(stepView),
    noEndpoints: np.noEndpoints,
    localOnly: np.externalTrafficPolicyLocal,
    guarded: guard?.effective ?? false,
    ...(guard
      ? {
          guard: {
            chain: guard.chain,
            allow: guard.allow.map((a) => ({
              source: `${a.negated ? '! ' : ''}${a.source}`,
              ...(a.label ? { label: a.label } : {}),
            })),
            ...(guard.block?.toPort !== undefined ? { blockToPort: guard.block.toPort } : {}),
            effective: guard.effective,
          },
        }
      : {}),
    foreign: np.foreign.map((f) => ({ position: f.position, effect: f.effect, rule: serializeRule(f.rule) })),
    masquerade: np.masquerade,
    ...(np.clusterIp
      ? {
          clusterIp: {
            address: np.clusterIp.address,
            ...(np.clusterIp.port !== undefined ? { port: np.clusterIp.port } : {}),
            path: np.clusterIp.path.map(stepView),
          },
        }
      : {}),
    notes,
  };
}

export function nodePortSummary(np: NodePort): NodePortSummaryView {
  return {
    port: np.port,
    protocol: np.protocol,
    ...(np.service ? { service: np.service } : {}),
    endpoints: np.endpoints.map((e) => e.endpoint),
    noEndpoints: np.noEndpoints,
    localOnly: np.externalTrafficPolicyLocal,
    guarded: np.guard?.effective ?? false,
  };
}

export function topologyView(t: Topology) {
  return {
    mode: t.mode,
    layout: t.layout,
    backend: t.backend.backend,
    nodePorts: t.nodePorts.map(nodePortSummary),
  };
}
