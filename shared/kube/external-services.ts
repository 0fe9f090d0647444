// filter KUBE-EXTERNAL-SERVICES: kube-proxy turns away NodePort traffic it has nowhere to send
// (REJECT "has no endpoints", DROP "has no local endpoints" for externalTrafficPolicy Local).
// Newer kube-proxy writes no nat rules at all for such a port, so these rules are where it shows.
import { ruleComment } from '../netfilter/decode';
import type { Rule } from '../netfilter/model';
import type { Protocol } from '../vocabulary';
import type { ChainIndex } from './chain-index';
import { hookStep, stepVia } from './path-steps';
import { protocolOf, serviceFromComment, singleDestinationPort } from './rule-facts';
import type { PathStep } from './topology';

export const EXTERNAL_SERVICES_CHAIN = 'KUBE-EXTERNAL-SERVICES';

/** The note on a port filter turns away while nat still sends it to endpoints. */
export const STALE_REJECT_NOTE =
  'filter KUBE-EXTERNAL-SERVICES rejects this port although nat has endpoints (stale rules?)';

export interface TurnedAway {
  readonly port: number;
  readonly protocol: Protocol;
  readonly service?: string;
  /** "has no local endpoints": the service has endpoints, none on this node. */
  readonly local: boolean;
  readonly rule: Rule;
}

export function readTurnedAway(filter: ChainIndex): ReadonlyMap<string, TurnedAway> {
  const out = new Map<string, TurnedAway>();
  for (const rule of filter.get(EXTERNAL_SERVICES_CHAIN)?.rules ?? []) {
    const target = rule.target?.name;
    if (target !== 'REJECT' && target !== 'DROP') continue;
    // `-d <external or load-balancer IP>` turns away that address's service port, not a NodePort
    // (kube-proxy marks the NodePort rule with addrtype LOCAL and no destination).
    if (rule.destination !== undefined) continue;
    const port = singleDestinationPort(rule);
    const protocol = protocolOf(rule);
    if (port === undefined || protocol === undefined) continue;
    const key = `${port}/${protocol}`;
    if (out.has(key)) continue;
    const comment = ruleComment(rule);
    const service = serviceFromComment(comment);
    out.set(key, {
      port,
      protocol,
      ...(service === undefined ? {} : { service }),
      local: comment?.includes('has no local endpoints') ?? false,
      rule,
    });
  }
  return out;
}

/** filter INPUT -> KUBE-EXTERNAL-SERVICES, where a packet nat left alone meets the REJECT/DROP. */
export function filterSteps(filter: ChainIndex): readonly PathStep[] {
  const jump = filter.get('INPUT')?.rules.find((r) => r.target?.name === EXTERNAL_SERVICES_CHAIN);
  return [
    hookStep('INPUT', filter, 'filter'),
    jump
      ? stepVia(EXTERNAL_SERVICES_CHAIN, jump, 'filter')
      : { kind: 'KUBE-EXTERNAL-SERVICES', table: 'filter', chain: EXTERNAL_SERVICES_CHAIN },
  ];
}
