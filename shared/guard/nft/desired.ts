// Desired nft state from the same DesiredGuard the iptables guard is planned from (../desired.ts):
// per guarded port and planned family one interval set of allowed prefixes and one rule. A family
// whose allow-list is empty still gets its (empty) set and rule: `saddr != @empty` matches every
// source, so that family is blocked, not left open (the iptables guard's v6 chain does the same).
import { assertNever } from '../../netfilter/model';
import type { Family } from '../../vocabulary';
import { allowRulesOf } from '../allow-list';
import type { DesiredGuard, GuardedPort } from '../desired';
import { NFT_ABSENT, type NftAction, type NftDesired, type NftDesiredSet, type NftRuleSpec } from './model';
import { nftRuleComment, nftSetName } from './names';

export function nftDesired(desired: DesiredGuard): NftDesired {
  const families = desired.families.map((f) => f.family);
  if (desired.ports.length === 0 || families.length === 0) return NFT_ABSENT;
  const sets: NftDesiredSet[] = [];
  const rules: NftRuleSpec[] = [];
  for (const p of desired.ports) {
    for (const family of orderFamilies(families)) {
      const set = nftSetName(p.protocol, p.port, family);
      sets.push({ name: set, family, elements: allowRulesOf(p.allow, family).map((a) => a.value.cidr) });
      rules.push({
        protocol: p.protocol,
        port: p.port,
        family,
        set,
        action: actionOf(p),
        comment: nftRuleComment(p.protocol, p.port, p.service, p.mode === 'audit'),
      });
    }
  }
  sets.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { present: true, sets, rules };
}

function orderFamilies(families: readonly Family[]): Family[] {
  return (['ipv4', 'ipv6'] as const).filter((f) => families.includes(f));
}

function actionOf(p: GuardedPort): NftAction {
  switch (p.mode) {
    case 'enforce':
      return { kind: 'redirect', port: p.blackholePort };
    case 'audit':
      return { kind: 'count' };
    default:
      return assertNever(p.mode, 'guard mode');
  }
}
