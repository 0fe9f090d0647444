// The nft guard's pure core (DESIGN.md "The guard in a table of our own"): read, plan, render, verify.
// See README.md in this folder for the decisions the engine relies on.
export { nftDesired } from './desired';
export {
  GUARD_CHAIN,
  NFT_ABSENT,
  NFT_STATE_ABSENT,
  type NftAction,
  type NftChainSpec,
  type NftDesired,
  type NftDesiredSet,
  type NftGuardState,
  type NftHandle,
  type NftRuleSpec,
  type NftStateChain,
  type NftStateRule,
  type NftStateSet,
  ruleText,
} from './model';
export {
  NFT_CHAIN,
  NFT_GUARD_PRIORITY,
  NFT_PRIORITY,
  NFT_TABLE,
  NFT_TABLE_FAMILY,
  NFT_TABLE_REF,
  nftSetName,
  parseNftSetName,
} from './names';
export {
  isNoSuchTableError,
  NFT_READ_LIMITS,
  type NftBaseChain,
  type NftReadError,
  type NftReadErrorKind,
  type NftReadResult,
  parseNftBaseChains,
  parseNftGuardTable,
} from './parse';
export {
  isNftPlanStale,
  type NftEdit,
  type NftEditKind,
  type NftNodePlan,
  type NftPlanInput,
  planNftNode,
  planNftState,
} from './plan';
export { planNftRemoveAll, planNftRestore, renderNftConfirmTimer, renderNftPlan } from './render';
export { parseNftSavedState, serializeNftSavedState } from './saved-state';
export { nftDesiredFromState, nftStateAfter, nftStateHash, nftStateMatches, nftStateText } from './state';
export {
  type NftFinding,
  type NftFindingKind,
  type NftNodeVerify,
  type NftPortVerify,
  type NftVerifyInput,
  type NftVerifyStatus,
  shadowingChains,
  verifyNftNode,
} from './verify';
