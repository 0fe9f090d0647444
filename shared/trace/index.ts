// shared/trace: where one new connection's first packet goes: a node's nat PREROUTING (iptables),
// or every prerouting base chain of its nft ruleset (nft/, kube-proxy's nftables mode and our table).
export {
  cidrContains,
  type ParsedAddress,
  type ParsedCidr,
  parseAddress,
  parseCidr,
} from './cidr';
export {
  branchReason,
  chainLabel,
  isGuardTable,
  mergeRulesets,
  type NftRuleAt,
  type NftTrace,
  type NftTraceBranch,
  type NftTraceHop,
  type NftTraceInput,
  type NftTraceOutcome,
  type NftTraceVerdict,
  traceNftPacket,
} from './nft';
export { summarize } from './outcomes';
export type {
  MarkState,
  Packet,
  Trace,
  TraceBranch,
  TracedRule,
  TraceHop,
  TraceInput,
  TraceLimits,
  TraceOutcome,
  Verdict,
  VerdictKind,
} from './types';
export { tracePacket } from './walk';
