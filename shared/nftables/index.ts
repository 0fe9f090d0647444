// kube-proxy's nftables mode: one model for `nft list` text, `nft -f` input and `nft -j` JSON, and
// the walk that turns kube-proxy's table into the project's Topology.
export {
  type DumpSyntax,
  IPTABLES_NFT_MESSAGE,
  isIptablesNftKube,
  kubeProxyTables,
  mentionsIptablesKubeChains,
  sniffDumpSyntax,
} from './detect.js';
export { NFT_LIMITS } from './errors.js';
export {
  inspectNftDump,
  type NftDumpInput,
  type NftInspected,
  type NftInspectOutcome,
} from './inspect-dump.js';
export * from './model.js';
export { type NftReadResult, parseNftJson, parseNftRuleset, parseNftText } from './read.js';
export {
  analyzeNftTopology,
  KUBE_PROXY_TABLE,
  nftStepKind,
  serviceFromChain,
  tableFamily,
} from './topology.js';
