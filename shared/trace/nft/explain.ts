// Why a branch ended as it did, in kube-proxy's and our own words: the chains it passed name the
// reason (kube-proxy's nodeport-endpoints-check is "no endpoints", our table is "the guard"). Pure
// reading of the hops; nothing here changes a verdict.
import { KUBE_PROXY_TABLE } from '../../nftables/topology';
import { lookupNote } from './rule-eval';
import type { NftTraceBranch } from './types';

/** Our guard's table (shared/guard/nft/names.ts), named here so the tracer imports no guard code. */
export const GUARD_TABLE = { family: 'inet', name: 'nodeport-guard' } as const;

const KUBE_REASONS: readonly (readonly [RegExp, string])[] = [
  [
    /^nodeport-endpoints-check$/,
    "the NodePort has no endpoints for this traffic (kube-proxy's @no-endpoint-nodeports)",
  ],
  [/^service-endpoints-check$/, "the service has no endpoints (kube-proxy's @no-endpoint-services)"],
  [
    /^(firewall-check|firewall-.*)$/,
    "the source is outside the service's loadBalancerSourceRanges (kube-proxy's firewall)",
  ],
  [/^cluster-ips-check$/, "a ClusterIP port no service serves (kube-proxy's cluster-ips-check)"],
];

export function isGuardTable(at: { readonly family: string; readonly table: string }): boolean {
  return at.family === GUARD_TABLE.family && at.table === GUARD_TABLE.name;
}

export function branchReason(b: NftTraceBranch): string | undefined {
  const v = b.verdict;
  if (v.kind === 'redirect' || v.kind === 'dnat') {
    if (isGuardTable(v.rule)) return 'our guard blocks it: the source is not in the allow-list';
    return undefined;
  }
  if (v.kind === 'drop') {
    for (let i = b.hops.length - 1; i >= 0; i--) {
      const at = b.hops[i]!.rule;
      if (at.table !== KUBE_PROXY_TABLE) continue;
      const hit = KUBE_REASONS.find(([re]) => re.test(at.chain));
      if (hit) return hit[1];
    }
    return undefined;
  }
  if (v.kind === 'accept' && b.notes.includes(lookupNote('@service-nodeports')))
    return "not a NodePort: kube-proxy's @service-nodeports has no entry for it";
  return undefined;
}
