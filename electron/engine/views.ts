// Topology -> the view types of shared/api.ts: what the UI draws. Rules become iptables-save lines
// here so the renderer never needs the netfilter model.
import type { InspectResponse, NodePortView, PathStepView } from '../../shared/api.js';
import type { NodePort, PathStep } from '../../shared/kube/index.js';
import { serializeRule } from '../../shared/netfilter/index.js';
import type { Inspected } from './inspect.js';

function stepView(step: PathStep): PathStepView {
  return {
    chain: step.chain,
    kind: step.kind,
    ...(step.via ? { via: serializeRule(step.via) } : {}),
    ...(step.counters ? { packets: step.counters.packets, bytes: step.counters.bytes } : {}),
  };
}

export function nodePortView(np: NodePort): NodePortView {
  const notes = [...np.notes];
  for (const f of np.foreign)
    notes.push(
      `foreign PREROUTING rule #${f.position} (${f.effect}) stands before kube-proxy: ${serializeRule(f.rule)}`,
    );
  if (np.guard && !np.guard.effective)
    notes.push('guard chain present but not effective: its entry jump is missing or behind KUBE-SERVICES');
  return {
    port: np.port,
    protocol: np.protocol,
    ...(np.service ? { service: np.service } : {}),
    endpoints: np.endpoints.map((e) => ({
      address: e.endpoint,
      probability: e.probability,
      ...(e.sepChain ? { chain: e.sepChain } : {}),
    })),
    path: np.path.map(stepView),
    noEndpoints: np.noEndpoints,
    localOnly: np.externalTrafficPolicyLocal,
    guarded: np.guard?.effective ?? false,
    notes,
  };
}

export function inspectView(inspected: Inspected): InspectResponse {
  const t = inspected.topology;
  return {
    mode: t.mode,
    layout: t.layout,
    backend: t.backend.backend,
    nodePorts: t.nodePorts.map(nodePortView),
    warnings: inspected.warnings,
  };
}
