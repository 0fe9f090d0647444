// Recognising dataplanes a netfilter guard may not protect (Cilium kube-proxy replacement, Calico
// eBPF, kube-router's IPVS proxy) from what a node shows. See README.md.
export {
  iptablesSignsFromSave,
  nftTablesFromText,
  signsFromIptablesSave,
  signsFromRuleset,
} from './from-dumps.js';
export { DATAPLANE_SIGNS_SCRIPT, MAX_SIGN_LINES } from './node-script.js';
export { parseSignEvents, parseSignLines } from './parse-signs.js';
export { type Dataplane, type DataplaneVerdict, type Guardable, recognizeDataplane } from './recognize.js';
export { type IptablesSigns, mergeNodeSigns, type NodeSigns } from './signs.js';
