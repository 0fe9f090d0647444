// analyzeTopology: one node's kube-proxy state, from parsed tables to readonly Topology. Every
// chain is looked up through one Map per table and every rule is read a bounded number of times,
// so a 5,000-service table (~95,000 rules) stays linear.
import type { Rule } from '../netfilter/model';
import { ruleTargetName } from '../netfilter/rule-view';
import type { Protocol } from '../vocabulary';
import { type ChainIndex, type ChainView, chainView, indexChains } from './chain-index';
import { clusterIpPaths } from './cluster-ip';
import { detectBackend, detectLayout, detectMode } from './detect';
import { filterSteps, readTurnedAway, STALE_REJECT_NOTE, type TurnedAway } from './external-services';
import { readPortGuards } from './guard-chains';
import { inputPortRules, inputRuleNotes } from './input-rules';
import { type IpvsNodePort, inferIpvsNodePorts, ipvsNodePorts, walkIpvsNodePort } from './ipvs-nodeports';
import { readMasquerade } from './masquerade';
import { stepVia, walkFronts } from './path-steps';
import { analyzePrerouting } from './prerouting';
import { protocolOf, singleDestinationPort } from './rule-facts';
import {
  type EndpointChains,
  readEndpointChains,
  type ServiceWalk,
  walkServiceChains,
} from './service-chains';
import type { Mutable, NodePort, PathStep, Topology, TopologyInput } from './topology';

const EMPTY_INDEX: ChainIndex = new Map();

function jumpTo(index: ChainIndex, from: string, to: string): Rule | undefined {
  return index.get(from)?.rules.find((r) => ruleTargetName(r) === to);
}

interface Found {
  readonly port: number;
  readonly protocol: Protocol;
  readonly walk: ServiceWalk;
}

function iptablesWalks(
  nat: ChainIndex,
  view: ChainView,
  endpointChains: EndpointChains,
  warnings: string[],
): Found[] {
  // Keyed by a number, not a `port/protocol` string: one key per KUBE-NODEPORTS rule.
  const groups = new Map<number, { port: number; protocol: Protocol; rules: Rule[] }>();
  for (const rule of nat.get('KUBE-NODEPORTS')?.rules ?? []) {
    const port = singleDestinationPort(rule);
    const protocol = protocolOf(rule);
    if (port === undefined || protocol === undefined) {
      if (ruleTargetName(rule) !== undefined)
        warnings.push(`KUBE-NODEPORTS rule${rule.line ? ` at line ${rule.line}` : ''} names no port`);
      continue;
    }
    const key = port * 4 + (protocol === 'tcp' ? 0 : protocol === 'udp' ? 1 : 2);
    const g = groups.get(key);
    if (g) g.rules.push(rule);
    else groups.set(key, { port, protocol, rules: [rule] });
  }
  const jump = jumpTo(nat, 'KUBE-SERVICES', 'KUBE-NODEPORTS');
  const step: PathStep = jump
    ? stepVia('KUBE-NODEPORTS', jump)
    : { kind: 'KUBE-NODEPORTS', table: 'nat', chain: 'KUBE-NODEPORTS' };
  return [...groups.values()].map((g) => ({
    port: g.port,
    protocol: g.protocol,
    walk: walkServiceChains(g.rules, step, view, endpointChains),
  }));
}

function ipvsWalks(nat: ChainIndex, input: TopologyInput, warnings: string[]): Found[] {
  if (!input.ipsets && !input.ipvs) {
    warnings.push(
      'ipvs mode: the NodePorts are members of the KUBE-NODE-PORT-* ipsets; give `ipset list` output',
    );
    return [];
  }
  const jump = jumpTo(nat, 'KUBE-SERVICES', 'KUBE-NODE-PORT');
  const step: PathStep = jump
    ? stepVia('KUBE-NODE-PORT', jump)
    : { kind: 'KUBE-NODE-PORT', table: 'nat', chain: 'KUBE-NODE-PORT' };
  let found: readonly IpvsNodePort[];
  if (input.ipsets) found = ipvsNodePorts(nat, input.ipsets, warnings);
  else {
    found = inferIpvsNodePorts(nat, input.ipvs!);
    warnings.push(
      `ipvs mode without \`ipset list\`: ${found.length} NodePort(s) inferred from \`ipvsadm -Ln\` (its virtual ports in 30000-32767); give \`ipset list\` for kube-proxy's own list`,
    );
  }
  return found.map((np) => ({
    port: np.port,
    protocol: np.protocol,
    walk: walkIpvsNodePort(np, step, input.ipvs),
  }));
}

/** A NodePort kube-proxy only rejects (no nat rules): nat walks past it, filter turns it away. */
function turnedAwayWalk(t: TurnedAway, nat: ChainIndex, filter: ChainIndex): ServiceWalk {
  const jump = jumpTo(nat, 'KUBE-SERVICES', 'KUBE-NODEPORTS');
  const steps = jump ? [stepVia('KUBE-NODEPORTS', jump), ...filterSteps(filter)] : [...filterSteps(filter)];
  return {
    steps,
    ...(t.service === undefined ? {} : { service: t.service }),
    externalTrafficPolicyLocal: t.local,
    endpoints: [],
    endpointsKnown: true,
    noEndpoints: true,
    noEndpointsRule: t.rule,
    masquerade: 'never',
    sessionAffinity: false,
    notes: [],
  };
}

function mergeTurnedAway(
  found: Found[],
  turnedAway: ReadonlyMap<string, TurnedAway>,
  nat: ChainIndex,
  filter: ChainIndex,
) {
  if (turnedAway.size === 0) return;
  const byKey = new Map<string, number>(found.map((f, i) => [`${f.port}/${f.protocol}`, i]));
  for (const [key, t] of turnedAway) {
    const i = byKey.get(key);
    const f = i === undefined ? undefined : found[i];
    if (i === undefined || !f) {
      found.push({ port: t.port, protocol: t.protocol, walk: turnedAwayWalk(t, nat, filter) });
      continue;
    }
    const w = f.walk;
    const notes = w.endpoints.length > 0 && !t.local ? [...w.notes, STALE_REJECT_NOTE] : w.notes;
    found[i] = {
      ...f,
      walk: {
        ...w,
        steps: [...w.steps, ...filterSteps(filter)],
        ...(w.service === undefined && t.service !== undefined ? { service: t.service } : {}),
        externalTrafficPolicyLocal: w.externalTrafficPolicyLocal || t.local,
        noEndpoints: true,
        noEndpointsRule: t.rule,
        notes,
      },
    };
  }
}

export function analyzeTopology(input: TopologyInput): Topology {
  const warnings: string[] = [];
  const nat = indexChains(input.nat);
  const natView = chainView(input.nat);
  const filter = input.filter ? indexChains(input.filter) : EMPTY_INDEX;
  const mode = detectMode(nat, warnings);
  const layout = mode === 'iptables' ? detectLayout(nat, natView, filter) : 'unknown';
  const backend = detectBackend(input, warnings);
  const prerouting = analyzePrerouting(nat);
  if (prerouting.guard && prerouting.guard.jumps.length > 1) {
    warnings.push(`the guard entry jump stands ${prerouting.guard.jumps.length} times in PREROUTING`);
  }
  if (prerouting.guard && !prerouting.guard.beforeKubeServices) {
    warnings.push(
      "the guard entry jump stands after kube-proxy's KUBE-SERVICES jump: the guard has no effect",
    );
  }
  const guards = readPortGuards(nat, prerouting.guard?.beforeKubeServices ?? false, warnings);

  const found =
    mode === 'iptables'
      ? iptablesWalks(nat, natView, readEndpointChains(natView), warnings)
      : mode === 'ipvs'
        ? ipvsWalks(nat, input, warnings)
        : [];
  if (mode !== 'none') mergeTurnedAway(found, readTurnedAway(filter), nat, filter);
  if (mode === 'iptables' && !input.filter) {
    warnings.push(
      'no filter table: NodePorts of services without endpoints (kube-proxy rejects them in filter KUBE-EXTERNAL-SERVICES) are not listed',
    );
  }

  const clusterIp = mode === 'iptables' ? clusterIpPaths(nat, natView) : () => undefined;
  const inputRules = mode === 'none' ? [] : inputPortRules(filter);
  const frontOf = walkFronts(prerouting, guards, nat);
  const nodePorts: NodePort[] = found.map(({ port, protocol, walk }) => {
    const front = frontOf(port, protocol);
    // Filled in place, not with conditional spreads: 5,000 of these on a large node.
    const np: Mutable<NodePort> = {
      port,
      protocol,
      path: front.steps.concat(walk.steps),
      externalTrafficPolicyLocal: walk.externalTrafficPolicyLocal,
      endpoints: walk.endpoints,
      endpointsKnown: walk.endpointsKnown,
      noEndpoints: walk.noEndpoints,
      masquerade: walk.masquerade,
      sessionAffinity: walk.sessionAffinity,
      foreign: front.foreign,
      notes: walk.notes,
    };
    if (inputRules.length > 0) {
      const more = inputRuleNotes(inputRules, port, protocol, mode);
      if (more.length > 0) np.notes = [...walk.notes, ...more];
    }
    if (walk.service !== undefined) np.service = walk.service;
    if (walk.noEndpointsRule) np.noEndpointsRule = walk.noEndpointsRule;
    if (front.guard) np.guard = front.guard;
    const cip =
      walk.clusterChain === undefined ? undefined : clusterIp(walk.clusterChain, walk.clusterChainId ?? -1);
    if (cip) np.clusterIp = cip;
    return np;
  });
  nodePorts.sort(
    (a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0),
  );

  const kubeJump =
    prerouting.kubeJumpIndex === undefined ? undefined : prerouting.rules[prerouting.kubeJumpIndex];
  const masquerade = mode === 'none' ? undefined : readMasquerade(nat);
  return {
    mode,
    layout,
    backend,
    nodePorts,
    ...(kubeJump && prerouting.kubeJumpIndex !== undefined
      ? { kubeServicesJump: { rule: kubeJump, position: prerouting.kubeJumpIndex + 1 } }
      : {}),
    ...(prerouting.guard ? { guard: prerouting.guard } : {}),
    foreign: prerouting.foreign,
    ...(masquerade ? { masquerade } : {}),
    warnings,
  };
}
