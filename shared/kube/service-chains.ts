// From one KUBE-NODEPORTS entry down to the endpoints, iptables mode, both layouts:
//   >= 1.24: KUBE-NODEPORTS -> KUBE-EXT-* (-> KUBE-MARK-MASQ) -> KUBE-SVC-* | KUBE-SVL-* -> KUBE-SEP-*
//   older:   KUBE-NODEPORTS -> KUBE-MARK-MASQ, KUBE-SVC-* | KUBE-XLB-* -> KUBE-SEP-* | KUBE-MARK-DROP
// The walk follows, in each chain, the first jump every external packet takes; conditional jumps
// (pod traffic, LOCAL-source traffic) are not the NodePort's path but still name the cluster chain.
import { decodeMatch, ruleComment } from '../netfilter/decode';
import type { Chain, Rule } from '../netfilter/model';
import { ruleHasModule, ruleTargetId, ruleTargetName } from '../netfilter/rule-view';
import { type ChainView, targetKind } from './chain-index';
import { MASQ_DECIDERS, type StepKind, WALK_FOLLOWS, WALK_MAX_DEPTH } from './chain-kind';
import { sortEndpoints } from './endpoint-order';
import { joinHostPort, splitHostPort } from './host-port';
import { stepVia } from './path-steps';
import { dnatHostPort, findMatch, hasConditions, randomProbability, serviceFromComment } from './rule-facts';
import type { Endpoint, MasqueradeMode, Mutable, PathStep } from './topology';

/**
 * What the kube-proxy part of the walk yields, before PREROUTING and the filter table are added.
 * Internal to the topology: an optional field may be present as undefined.
 */
export interface ServiceWalk {
  readonly steps: readonly PathStep[];
  readonly service?: string;
  readonly externalTrafficPolicyLocal: boolean;
  readonly endpoints: readonly Endpoint[];
  readonly endpointsKnown: boolean;
  readonly noEndpoints: boolean;
  readonly noEndpointsRule?: Rule;
  readonly masquerade: MasqueradeMode;
  readonly sessionAffinity: boolean;
  /** The KUBE-SVC-* chain of the service (for the ClusterIP path). */
  readonly clusterChain?: string;
  /** Its id in the nat table's ChainView, -1 when no chain of the table has that name. */
  readonly clusterChainId?: number;
  readonly notes: readonly string[];
}

function hasLocalSourceRule(chain: Chain): boolean {
  return chain.rules.some((r) => {
    if (!ruleHasModule(r, 'addrtype')) return false;
    const m = findMatch(r, 'addrtype');
    const d = m && decodeMatch(m);
    return (
      d?.kind === 'addrtype' &&
      d.srcType !== undefined &&
      !d.srcType.negated &&
      d.srcType.value.includes('LOCAL')
    );
  });
}

/** `ns/svc:port -> 198.19.1.11:8080`: the endpoint kube-proxy names in a service chain's comment. */
function fromComment(comment: string | undefined): { address: string; port?: number } | undefined {
  const text = comment?.split(' -> ')[1];
  if (text === undefined) return undefined;
  const hp = splitHostPort(text);
  if (hp.port === undefined || !/^\d{1,5}$/.test(hp.port)) return { address: hp.address };
  return { address: hp.address, port: Number(hp.port) };
}

/** What an endpoint chain (KUBE-SEP-*) says: its DNAT rule and where that sends packets. */
export interface EndpointChain {
  readonly dnat: Rule | undefined;
  readonly dest:
    | { readonly address: string; readonly port?: number; readonly hostPort?: string | undefined }
    | undefined;
}

/** By chain id (ChainView); undefined for chains that are no endpoint chain. */
export type EndpointChains = readonly (EndpointChain | undefined)[];

/**
 * Every endpoint chain's DNAT, read in one pass in table order. The walk meets endpoint chains in
 * service order, scattered over the heap, where reading each chain's rules costs a cache miss per
 * object; in table order they are read one after another.
 */
export function readEndpointChains(view: ChainView): EndpointChains {
  const { kinds } = view;
  const chains = view.ids.chains;
  const out: (EndpointChain | undefined)[] = new Array(chains.length).fill(undefined);
  for (let id = 0; id < chains.length; id++) {
    if (kinds[id] !== 'KUBE-SEP') continue;
    const dnat = firstWithTarget(chains[id]!.rules, 'DNAT');
    out[id] = { dnat, dest: dnat && dnatHostPort(dnat) };
  }
  return out;
}

function endpointOf(
  sepName: string,
  sepId: number,
  via: Rule,
  endpointChains: EndpointChains,
  probability: number,
): Endpoint | undefined {
  const sep = sepId >= 0 ? endpointChains[sepId] : undefined;
  const dnat = sep?.dnat;
  // A SEP chain cut out of an excerpt still names its endpoint in the service chain's comment.
  const dest = sep?.dest ?? fromComment(ruleComment(via));
  if (dest === undefined) return undefined;
  const endpoint = sep?.dest?.hostPort ?? joinHostPort(dest.address, dest.port);
  // kube-proxy's case (a DNAT to address:port) as one literal: fields added afterwards cost a
  // property store per object, and this runs once per endpoint of the table.
  if (dnat && dest.port !== undefined) {
    return { endpoint, address: dest.address, probability, port: dest.port, sepChain: sepName, via, dnat };
  }
  // Filled in place, not with conditional spreads.
  const ep: Mutable<Endpoint> = { endpoint, address: dest.address, probability };
  if (dest.port !== undefined) ep.port = dest.port;
  ep.sepChain = sepName;
  ep.via = via;
  if (dnat) ep.dnat = dnat;
  return ep;
}

interface Picked {
  readonly endpoints: Endpoint[];
  readonly affinity: boolean;
  /** Share of connections that run off the end of the chain without an endpoint. */
  readonly leftover: number;
  readonly missing: string[];
}

/** The statistic chain: rule i is taken with p_i of what reached it, so its share is p_i * prod(1 - p_j). */
export function pickEndpoints(chain: Chain, view: ChainView, endpointChains: EndpointChains): Picked {
  const endpoints: Endpoint[] = [];
  const missing: string[] = [];
  let reach = 1;
  let affinity = false;
  const rules = chain.rules;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    const id = ruleTargetId(rule, view.ids);
    if (targetKind(view, rule, id) !== 'KUBE-SEP') continue;
    const target = ruleTargetName(rule)!;
    const recent = ruleHasModule(rule, 'recent');
    const statistic = ruleHasModule(rule, 'statistic');
    // Affinity rules (`-m recent --rcheck`) only catch returning clients; the statistic rules
    // after them decide for new ones.
    if (recent) {
      affinity = true;
      continue;
    }
    const p = statistic ? (randomProbability(rule) ?? 0) : 1;
    const share = reach * p;
    reach *= 1 - p;
    const ep = endpointOf(target, id, rule, endpointChains, share);
    if (ep) endpoints.push(ep);
    else missing.push(target);
  }
  return { endpoints, affinity, leftover: reach, missing };
}

/** The walk under construction; functions below fill it in. */
interface Draft {
  readonly view: ChainView;
  readonly endpointChains: EndpointChains;
  readonly steps: PathStep[];
  /** The id of each chain entered (ChainView), -1 for one the table does not have. */
  readonly stepIds: number[];
  readonly notes: string[];
  readonly masqRules: Rule[];
  service?: string;
  local: boolean;
  clusterChain?: string;
  clusterChainId: number;
  endpoints: Endpoint[];
  endpointsKnown: boolean;
  noEndpoints: boolean;
  noEndpointsRule?: Rule;
  affinity: boolean;
}

function noteService(d: Draft, rule: Rule): void {
  d.service ??= serviceFromComment(ruleComment(rule));
}

/** The first unconditional jump into a followed chain; masquerade jumps before it are collected. */
function nextOf(d: Draft, rules: readonly Rule[], kind: StepKind): Rule | undefined {
  let fallback: Rule | undefined;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    noteService(d, rule);
    const id = ruleTargetId(rule, d.view.ids);
    const tk = targetKind(d.view, rule, id);
    if (tk === undefined) continue;
    if (tk === 'KUBE-SVC') noteClusterChain(d, rule, id);
    if (tk === 'KUBE-MARK-MASQ') {
      if (MASQ_DECIDERS.has(kind)) d.masqRules.push(rule);
      continue;
    }
    if (!WALK_FOLLOWS.has(tk)) continue;
    if (!hasConditions(rule)) return rule;
    fallback ??= rule;
  }
  // KUBE-NODEPORTS entries carry only protocol and port: any of them counts as the way on.
  return kind === 'KUBE-NODEPORTS' ? fallback : undefined;
}

function noteClusterChain(d: Draft, rule: Rule, id: number): void {
  if (d.clusterChain !== undefined) return;
  d.clusterChain = ruleTargetName(rule);
  d.clusterChainId = id;
}

/** Enter the chain `via` jumps to; the next rule to follow, or undefined when the walk ends here. */
function enter(d: Draft, via: Rule): Rule | undefined {
  const name = ruleTargetName(via) ?? '';
  const id = ruleTargetId(via, d.view.ids);
  const kind = targetKind(d.view, via, id) ?? 'foreign';
  if (id >= 0 ? d.stepIds.includes(id) : stepIndex(d.steps, name) >= 0) {
    d.notes.push(`chain loop at ${name}`);
    return undefined;
  }
  d.steps.push(stepVia(name, via, 'nat', kind));
  d.stepIds.push(id);
  if (kind === 'KUBE-SVL' || kind === 'KUBE-XLB') d.local = true;
  if (kind === 'KUBE-MARK-DROP') {
    d.noEndpoints = true;
    d.noEndpointsRule = via;
    return undefined;
  }
  const chain = id >= 0 ? d.view.ids.chains[id] : undefined;
  if (!chain) {
    d.notes.push(`${name} is not in the dump`);
    d.endpointsKnown = false;
    return undefined;
  }
  if (kind === 'KUBE-EXT' && hasLocalSourceRule(chain)) d.local = true;
  if (kind === 'KUBE-SVC') noteClusterChain(d, via, id);
  // Older KUBE-XLB chains hold the endpoints themselves; their pod-traffic rule names the cluster chain.
  if (d.clusterChain === undefined) {
    for (let i = 0; i < chain.rules.length && d.clusterChain === undefined; i++) {
      const rule = chain.rules[i]!;
      const t = ruleTargetId(rule, d.view.ids);
      if (targetKind(d.view, rule, t) === 'KUBE-SVC') noteClusterChain(d, rule, t);
    }
  }
  const picked = pickEndpoints(chain, d.view, d.endpointChains);
  if (picked.endpoints.length > 0 || picked.missing.length > 0) {
    for (const r of chain.rules) noteService(d, r);
    d.endpoints = picked.endpoints;
    d.affinity = picked.affinity;
    if (picked.missing.length > 0) d.notes.push(`no DNAT found for ${picked.missing.join(', ')}`);
    if (picked.leftover > 1e-6) {
      d.notes.push(`${(picked.leftover * 100).toFixed(2)}% of connections run off the end of ${name}`);
    }
    return undefined;
  }
  const following = nextOf(d, chain.rules, kind);
  // No way on: an empty KUBE-SVL/SVC chain, or an EXT/XLB chain whose only ways on are for pod or
  // LOCAL-source traffic. An external client's packet finds no endpoint here.
  if (!following) d.noEndpoints = true;
  return following;
}

function stepIndex(steps: readonly PathStep[], chain: string): number {
  for (let i = 0; i < steps.length; i++) if (steps[i]?.chain === chain) return i;
  return -1;
}

function firstWithTarget(rules: readonly Rule[], target: string): Rule | undefined {
  for (let i = 0; i < rules.length; i++) if (ruleTargetName(rules[i]!) === target) return rules[i];
  return undefined;
}

export function walkServiceChains(
  entry: readonly Rule[],
  nodeportsStep: PathStep,
  view: ChainView,
  endpointChains: EndpointChains,
): ServiceWalk {
  const d: Draft = {
    view,
    endpointChains,
    steps: [nodeportsStep],
    stepIds: [view.ids.id(nodeportsStep.chain)],
    notes: [],
    masqRules: [],
    local: false,
    endpoints: [],
    endpointsKnown: true,
    noEndpoints: false,
    affinity: false,
    clusterChainId: -1,
  };
  let next = nextOf(d, entry, 'KUBE-NODEPORTS');
  if (!next) d.notes.push('KUBE-NODEPORTS sends this port nowhere but KUBE-MARK-MASQ');
  for (let depth = 0; next && depth < WALK_MAX_DEPTH; depth++) next = enter(d, next);
  if (next) d.notes.push(`walk stopped after ${WALK_MAX_DEPTH} chains`);
  if (d.endpoints.length === 0 && d.endpointsKnown) d.noEndpoints = true;

  const always = d.masqRules.find((r) => !hasConditions(r));
  const masquerade: MasqueradeMode = always ? 'always' : d.masqRules.length > 0 ? 'conditional' : 'never';
  if (always) {
    // Show the mark where it happens: right after the chain whose rule jumps to KUBE-MARK-MASQ.
    const at = stepIndex(d.steps, always.chain);
    d.steps.splice(at + 1, 0, stepVia('KUBE-MARK-MASQ', always));
  }
  sortEndpoints(d.endpoints);
  // One literal, absent fields as undefined: a ServiceWalk never leaves the topology, whose
  // readers test the fields, and fields added afterwards cost a property store per walk.
  return {
    steps: d.steps,
    service: d.service,
    externalTrafficPolicyLocal: d.local,
    endpoints: d.endpoints,
    endpointsKnown: d.endpointsKnown,
    noEndpoints: d.noEndpoints,
    noEndpointsRule: d.noEndpointsRule,
    masquerade,
    sessionAffinity: d.affinity,
    clusterChain: d.clusterChain,
    clusterChainId: d.clusterChainId,
    notes: d.notes,
  };
}
