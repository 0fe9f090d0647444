// The fleet's public surface: what electron/engine and the CLI import. Anything not exported here
// is an implementation detail of electron/fleet.
export {
  ALLOWED_COMMANDS,
  type AllowedCommand,
  checkArgv,
  type ShippedScript,
  shippedScript,
} from './command-policy';
export type { CredentialSources } from './credentials';
export { type FleetError, type FleetErrorKind, fleetError } from './errors';
export {
  Fleet,
  type FleetOptions,
  type NodeResult,
  type NodeStep,
  type NodeStepContext,
  type RunOptions,
  type StepOutcome,
} from './fleet';
export { sha256Fingerprint } from './host-key';
export { MAX_STDERR_BYTES, MAX_STDOUT_BYTES, type OutputLimits } from './limits';
export { type OpenFleetOptions, type OpenFleetResult, openFleet } from './open-fleet';
export {
  type InventoryResolution,
  type ResolveOptions,
  type ResolveProblem,
  resolveInventory,
} from './resolve-inventory';
export { quoteShellArg, quoteShellArgv } from './shell-quote';
export type {
  AskRequest,
  HostKeyAccepted,
  HostKeyAcceptedListener,
  HostKeyDecision,
  HostKeySubject,
  ProgressEvent,
  ProgressListener,
  ResidentProgram,
  ResolvedNode,
  RunFailure,
  RunRequest,
  RunResult,
  RunSuccess,
  SshHop,
  UnknownHostKeyDecider,
} from './types';
