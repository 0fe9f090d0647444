// kube-proxy's iptables mode as `nft list` prints it on iptables-nft nodes, read back into the
// iptables model.
export {
  type ReadOptions,
  readXtablesNft,
  type XtablesNftError,
  type XtablesNftRead,
  type XtablesNftResult,
} from './read.js';
export { probabilityOf } from './rule.js';
