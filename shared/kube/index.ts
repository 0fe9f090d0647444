// shared/kube: kube-proxy topology of a node (NodePorts, their walks, endpoints) and the parsers
// for the two non-iptables inputs of ipvs mode.
export { analyzeTopology } from './analyze';
export { type ChainIndex, indexChains } from './chain-index';
export { chainKind, isKubeKind } from './chain-kind';
export { joinHostPort, splitHostPort } from './host-port';
export {
  type InspectJson,
  type InspectJsonEndpoint,
  type InspectJsonNodePort,
  toInspectJson,
} from './inspect-json';
export {
  findIpset,
  type IpsetList,
  type IpsetMember,
  type IpsetParseResult,
  type IpsetSet,
  parseIpsetList,
} from './ipset-parse';
export {
  type IpvsParseResult,
  type IpvsRealServer,
  type IpvsTable,
  type IpvsVirtualService,
  parseIpvsadm,
} from './ipvs-parse';
export type {
  BackendInfo,
  ClusterIpPath,
  Endpoint,
  ForeignEffect,
  ForeignRule,
  GuardAllow,
  GuardBlock,
  GuardEntry,
  LayoutGeneration,
  MasqueradeMode,
  MasqueradeStep,
  NodePort,
  PathStep,
  PortGuard,
  StepKind,
  Topology,
  TopologyInput,
} from './topology';
