// Several nft listings of one node (kube-proxy's ip and ip6 tables, our inet table, each from its
// own `nft -j list table`) as one ruleset, so the walk sees every table that hooks prerouting.
import type { NftRuleset } from '../../nftables/model';

/** A table listed twice is kept once, from its first listing. */
export function mergeRulesets(rulesets: readonly NftRuleset[]): NftRuleset {
  const seen = new Set<string>();
  const tables = rulesets
    .flatMap((r) => r.tables)
    .filter((t) => {
      const key = `${t.family} ${t.name}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  return {
    format: rulesets[0]?.format ?? 'json',
    tables,
    comments: rulesets.flatMap((r) => r.comments),
  };
}
