// kube-proxy's rules as text, from a list of services: a pure function, so the benchmark can
// render thousands of services and the lab and fixture script can load them into real netfilter.
//
//   generateKubeProxyRules({ mode, layout, family, services, nodeName, nodeIp, clusterCidr })
//     -> { nat, filter, mangle, sync, jumps, ipsets?, ipvsadm? }

import { syncCurrentLayout } from './iptables-current';
import { syncLegacyLayout } from './iptables-legacy';
import { renderIpsetRestore, renderIpvsadm, syncIpvs } from './ipvs';
import { nftablesRuleset, renderNftDump } from './nftables';
import { builtinJumps, kubeletParts } from './node-base';
import { restoreLine } from './restore-text';
import { renderSync, type SyncParts } from './sync-parts';
import type { JumpRule, KubeProxyOptions, KubeProxyRules } from './types';

export { endpointChain, portProtoHash, serviceChain, servicePortName } from './chain-names';
export { ipsetName } from './ipvs';
export {
  NFT_BASE_CHAINS,
  NFT_TABLE,
  type NftFamily,
  type NftRuleset,
  nftablesRuleset,
  nftChainsOf,
  nftFamily,
  renderNftDeleteStale,
  renderNftDump,
  renderNftSync,
  staleChains,
} from './nftables';
export { hashAndTruncate, nftEndpointBase, nftServiceBase } from './nftables-names';
export { SERVICES_JUMP_ARGS } from './node-base';
export { restoreLine, restoreWord } from './restore-text';
export {
  POD_HTTP_PORT,
  POD_UDP_PORT,
  type SampleCluster,
  type SamplePod,
  sampleCluster,
  sampleServices,
  syntheticServices,
} from './samples';
export type * from './types';

const BUILTIN: Readonly<Record<'mangle' | 'nat' | 'filter', readonly string[]>> = {
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** kube-proxy's restore input for one sync (what `lab kube-proxy --resync` pipes to iptables-restore). */
export function kubeProxySyncParts(opts: KubeProxyOptions): SyncParts {
  if (opts.mode === 'ipvs') return syncIpvs(opts);
  // nftables mode writes no iptables rules at all (its sync is `nft -f`, see nftables.ts).
  if (opts.mode === 'nftables')
    return { order: [], filter: { chains: [], rules: [] }, nat: { chains: [], rules: [] } };
  return (opts.layout ?? 'current') === 'legacy' ? syncLegacyLayout(opts) : syncCurrentLayout(opts);
}

export function generateKubeProxyRules(opts: KubeProxyOptions): KubeProxyRules {
  const layout = opts.layout ?? 'current';
  const parts = kubeProxySyncParts(opts);
  const jumps = builtinJumps(opts.mode, layout);
  const kubelet = kubeletParts(opts.mode, layout, opts.family);
  const table = (name: 'mangle' | 'nat' | 'filter'): string => {
    const sync = name === 'mangle' ? { chains: [], rules: [] } : parts[name];
    const lines = [`*${name}`, ...BUILTIN[name].map((c) => `:${c} ACCEPT [0:0]`)];
    const declared = new Set<string>();
    for (const c of [...kubelet.chains[name], ...sync.chains.map((l) => l.slice(1, l.indexOf(' ')))]) {
      if (declared.has(c)) continue;
      declared.add(c);
      lines.push(`:${c} - [0:0]`);
    }
    for (const j of jumps) if (j.table === name) lines.push(restoreLine(j.chain, j.args));
    lines.push(...kubelet.rules[name], ...sync.rules, 'COMMIT');
    return `${lines.join('\n')}\n`;
  };
  const rules: KubeProxyRules = {
    nat: table('nat'),
    filter: table('filter'),
    mangle: table('mangle'),
    sync: renderSync(parts),
    jumps,
  };
  if (opts.mode === 'nftables') return { ...rules, nft: renderNftDump(nftablesRuleset(opts)) };
  if (opts.mode !== 'ipvs') return rules;
  return { ...rules, ipsets: renderIpsetRestore(opts), ipvsadm: renderIpvsadm(opts) };
}

/** The jumps of one table/chain, top first (e.g. nat PREROUTING: the KUBE-SERVICES jump). */
export function jumpsOf(rules: KubeProxyRules, table: JumpRule['table'], chain: string): readonly JumpRule[] {
  return rules.jumps.filter((j) => j.table === table && j.chain === chain);
}
