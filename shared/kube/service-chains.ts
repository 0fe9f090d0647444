// From one KUBE-NODEPORTS entry down to the endpoints, iptables mode, both layouts:
//   >= 1.24: KUBE-NODEPORTS -> KUBE-EXT-* (-> KUBE-MARK-MASQ) -> KUBE-SVC-* | KUBE-SVL-* -> KUBE-SEP-*
//   older:   KUBE-NODEPORTS -> KUBE-MARK-MASQ, KUBE-SVC-* | KUBE-XLB-* -> KUBE-SEP-* | KUBE-MARK-DROP
// The walk follows, in each chain, the first jump every external packet takes; conditional jumps
// (pod traffic, LOCAL-source traffic) are not the NodePort's path but still name the cluster chain.
import { decodeMatch, ruleComment } from '../netfilter/decode';
import type { Chain, Rule } from '../netfilter/model';
import type { ChainIndex } from './chain-index';
import { chainKind, type StepKind } from './chain-kind';
import { joinHostPort, splitHostPort } from './host-port';
import { stepVia } from './path-steps';
import {
  dnatDestination,
  findMatch,
  hasConditions,
  randomProbability,
  serviceFromComment,
} from './rule-facts';
import type { Endpoint, MasqueradeMode, PathStep } from './topology';

/** What the kube-proxy part of the walk yields, before PREROUTING and the filter table are added. */
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
  readonly notes: readonly string[];
}

const MAX_DEPTH = 8;
const FOLLOWED: ReadonlySet<StepKind> = new Set([
  'KUBE-EXT',
  'KUBE-SVC',
  'KUBE-SVL',
  'KUBE-XLB',
  'KUBE-FW',
  'KUBE-MARK-DROP',
]);
/** Chains whose KUBE-MARK-MASQ jumps concern NodePort traffic (the service chains' ones test the cluster IP). */
const MASQ_DECIDERS: ReadonlySet<StepKind> = new Set(['KUBE-NODEPORTS', 'KUBE-EXT', 'KUBE-XLB', 'KUBE-FW']);

function hasLocalSourceRule(chain: Chain): boolean {
  return chain.rules.some((r) => {
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

function endpointOf(
  sepName: string,
  via: Rule,
  index: ChainIndex,
  probability: number,
): Endpoint | undefined {
  const dnat = index.get(sepName)?.rules.find((r) => r.target?.name === 'DNAT');
  // A SEP chain cut out of an excerpt still names its endpoint in the service chain's comment.
  const dest = (dnat && dnatDestination(dnat)) ?? fromComment(ruleComment(via));
  if (dest === undefined) return undefined;
  const port = dest.port;
  return {
    endpoint: joinHostPort(dest.address, port),
    address: dest.address,
    ...(port === undefined ? {} : { port }),
    probability,
    sepChain: sepName,
    via,
    ...(dnat ? { dnat } : {}),
  };
}

interface Picked {
  readonly endpoints: Endpoint[];
  readonly affinity: boolean;
  /** Share of connections that run off the end of the chain without an endpoint. */
  readonly leftover: number;
  readonly missing: string[];
}

/** The statistic chain: rule i is taken with p_i of what reached it, so its share is p_i * prod(1 - p_j). */
export function pickEndpoints(chain: Chain, index: ChainIndex): Picked {
  const endpoints: Endpoint[] = [];
  const missing: string[] = [];
  let reach = 1;
  let affinity = false;
  for (const rule of chain.rules) {
    const target = rule.target?.name;
    if (target === undefined || chainKind(target) !== 'KUBE-SEP') continue;
    // Affinity rules (`-m recent --rcheck`) only catch returning clients; the statistic rules
    // after them decide for new ones.
    if (findMatch(rule, 'recent')) {
      affinity = true;
      continue;
    }
    const p = findMatch(rule, 'statistic') ? (randomProbability(rule) ?? 0) : 1;
    const share = reach * p;
    reach *= 1 - p;
    const ep = endpointOf(target, rule, index, share);
    if (ep) endpoints.push(ep);
    else missing.push(target);
  }
  return { endpoints, affinity, leftover: reach, missing };
}

export function walkServiceChains(
  entry: readonly Rule[],
  nodeportsStep: PathStep,
  index: ChainIndex,
): ServiceWalk {
  const steps: PathStep[] = [nodeportsStep];
  const notes: string[] = [];
  const masqRules: Rule[] = [];
  let service: string | undefined;
  let local = false;
  let clusterChain: string | undefined;
  let endpoints: Endpoint[] = [];
  let endpointsKnown = true;
  let noEndpoints = false;
  let noEndpointsRule: Rule | undefined;
  let affinity = false;

  const noteService = (rule: Rule) => {
    service ??= serviceFromComment(ruleComment(rule));
  };

  /** The first unconditional jump into a followed chain; masquerade jumps before it are collected. */
  const nextOf = (rules: readonly Rule[], kind: StepKind): Rule | undefined => {
    let fallback: Rule | undefined;
    for (const rule of rules) {
      noteService(rule);
      const target = rule.target?.name;
      if (target === undefined) continue;
      const tk = chainKind(target);
      if (tk === 'KUBE-SVC') clusterChain ??= target;
      if (tk === 'KUBE-MARK-MASQ') {
        if (MASQ_DECIDERS.has(kind)) masqRules.push(rule);
        continue;
      }
      if (!FOLLOWED.has(tk)) continue;
      if (!hasConditions(rule)) return rule;
      fallback ??= rule;
    }
    // KUBE-NODEPORTS entries carry only protocol and port: any of them counts as the way on.
    return kind === 'KUBE-NODEPORTS' ? fallback : undefined;
  };

  const seen = new Set<string>();
  let next = nextOf(entry, 'KUBE-NODEPORTS');
  if (!next) notes.push('KUBE-NODEPORTS sends this port nowhere but KUBE-MARK-MASQ');
  for (let depth = 0; next && depth < MAX_DEPTH; depth++) {
    const name = next.target?.name ?? '';
    const kind = chainKind(name);
    steps.push(stepVia(name, next));
    if (kind === 'KUBE-SVL' || kind === 'KUBE-XLB') local = true;
    if (kind === 'KUBE-MARK-DROP') {
      noEndpoints = true;
      noEndpointsRule = next;
      break;
    }
    const chain = index.get(name);
    if (!chain) {
      notes.push(`${name} is not in the dump`);
      endpointsKnown = false;
      break;
    }
    if (seen.has(name)) {
      notes.push(`chain loop at ${name}`);
      break;
    }
    seen.add(name);
    if (kind === 'KUBE-EXT' && hasLocalSourceRule(chain)) local = true;
    if (kind === 'KUBE-SVC') clusterChain ??= name;
    // Older KUBE-XLB chains hold the endpoints themselves; their pod-traffic rule names the cluster chain.
    clusterChain ??= chain.rules.find((r) => chainKind(r.target?.name ?? '') === 'KUBE-SVC')?.target?.name;
    const picked = pickEndpoints(chain, index);
    if (picked.endpoints.length > 0 || picked.missing.length > 0) {
      for (const r of chain.rules) noteService(r);
      endpoints = picked.endpoints;
      affinity = picked.affinity;
      if (picked.missing.length > 0) notes.push(`no DNAT found for ${picked.missing.join(', ')}`);
      if (picked.leftover > 1e-6) {
        notes.push(`${(picked.leftover * 100).toFixed(2)}% of connections run off the end of ${name}`);
      }
      break;
    }
    const following = nextOf(chain.rules, kind);
    if (!following) {
      // An empty KUBE-SVL/SVC chain, or an EXT/XLB chain whose only ways on are for pod or
      // LOCAL-source traffic: an external client's packet finds no endpoint here.
      noEndpoints = true;
      break;
    }
    next = following;
  }
  if (endpoints.length === 0 && endpointsKnown) noEndpoints = true;

  const masquerade: MasqueradeMode =
    masqRules.length === 0 ? 'never' : masqRules.some((r) => !hasConditions(r)) ? 'always' : 'conditional';
  const firstMasq = masqRules.find((r) => !hasConditions(r));
  if (firstMasq) {
    // Show the mark where it happens: just before the chain the walk leaves that chain for.
    const at = steps.findIndex((s) => s.chain === firstMasq.chain);
    steps.splice(at + 1, 0, stepVia('KUBE-MARK-MASQ', firstMasq));
  }
  endpoints.sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0));
  return {
    steps,
    ...(service === undefined ? {} : { service }),
    externalTrafficPolicyLocal: local,
    endpoints,
    endpointsKnown,
    noEndpoints,
    ...(noEndpointsRule ? { noEndpointsRule } : {}),
    masquerade,
    sessionAffinity: affinity,
    ...(clusterChain === undefined ? {} : { clusterChain }),
    notes,
  };
}
