// Which kube-proxy wrote this table: the proxy mode (iptables, ipvs, none), the iptables layout
// generation (KUBE-EXT-* since 1.24, KUBE-XLB-* before), and the iptables backend it writes to.
import { ruleTargetName } from '../netfilter/rule-view';
import type { DumpProxyMode } from '../vocabulary';
import type { ChainIndex, ChainView } from './chain-index';
import { indexChains } from './chain-index';
import { setMatches } from './rule-facts';
import type { BackendInfo, LayoutGeneration, TopologyInput } from './topology';

export function detectMode(nat: ChainIndex, warnings: string[]): DumpProxyMode {
  const services = nat.get('KUBE-SERVICES')?.rules ?? [];
  const ipvs =
    nat.has('KUBE-NODE-PORT') ||
    services.some((r) => setMatches(r).some((s) => /^KUBE-(6-)?CLUSTER-IP$/.test(s.setName)));
  let iptables = nat.has('KUBE-NODEPORTS');
  if (!iptables) {
    for (const name of nat.keys()) {
      if (name.startsWith('KUBE-SVC-') || name.startsWith('KUBE-SEP-') || name.startsWith('KUBE-EXT-')) {
        iptables = true;
        break;
      }
    }
  }
  if (ipvs && iptables) {
    // Left-overs of a mode switch: the chain KUBE-SERVICES actually jumps to is the live one.
    const live = services.some((r) => ruleTargetName(r) === 'KUBE-NODE-PORT') ? 'ipvs' : 'iptables';
    warnings.push(`both iptables-mode and ipvs-mode kube-proxy chains are present; reading ${live} mode`);
    return live;
  }
  if (ipvs) return 'ipvs';
  if (iptables) return 'iptables';
  if (nat.has('KUBE-SERVICES'))
    warnings.push('KUBE-SERVICES exists but neither KUBE-NODEPORTS nor KUBE-NODE-PORT');
  return 'none';
}

export function detectLayout(nat: ChainIndex, view: ChainView, filter: ChainIndex): LayoutGeneration {
  let ext = false;
  let legacy = false;
  // The kinds by chain id: KUBE-EXT and KUBE-XLB are exactly the names with those prefixes.
  for (const kind of view.kinds) {
    if (kind === 'KUBE-EXT') ext = true;
    else if (kind === 'KUBE-XLB') legacy = true;
  }
  if (ext) return 'ext';
  if (legacy) return 'legacy';
  // Before 1.24 KUBE-NODEPORTS marked for masquerade and jumped to KUBE-SVC-* itself.
  for (const rule of nat.get('KUBE-NODEPORTS')?.rules ?? []) {
    const t = ruleTargetName(rule) ?? '';
    if (t === 'KUBE-MARK-MASQ' || t.startsWith('KUBE-SVC-')) return 'legacy';
  }
  // No NodePort to tell by; 1.24+ also added filter KUBE-PROXY-FIREWALL.
  return filter.has('KUBE-PROXY-FIREWALL') ? 'ext' : 'unknown';
}

export function detectBackend(input: TopologyInput, warnings: string[]): BackendInfo {
  const backend = input.backend ?? 'unknown';
  const otherBackendPresent = (input.headerComments ?? []).some((c) =>
    /iptables-legacy tables present/i.test(c),
  );
  const hint = input.mangle ? indexChains(input.mangle).has('KUBE-IPTABLES-HINT') : false;
  if (otherBackendPresent && !hint) {
    warnings.push(
      'iptables-legacy tables are present too and this dump has no KUBE-IPTABLES-HINT: kube-proxy may write there',
    );
  }
  return {
    backend,
    source: hint ? 'kube-iptables-hint' : backend === 'unknown' ? 'none' : 'header',
    otherBackendPresent,
  };
}
