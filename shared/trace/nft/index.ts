// shared/trace/nft: the packet tracer for kube-proxy's nftables mode (and our nft guard table).

export { chainLabel } from './branch';
export { branchReason, GUARD_TABLE, isGuardTable } from './explain';
export { type HookedChain, hookedChains, type TracedHook } from './hooks';
export { mergeRulesets } from './merge';
export type {
  NftRuleAt,
  NftTrace,
  NftTraceBranch,
  NftTraceHop,
  NftTraceInput,
  NftTraceOutcome,
  NftTraceVerdict,
} from './types';
export { traceNftPacket } from './walk';
