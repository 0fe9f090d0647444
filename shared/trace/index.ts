// shared/trace: where one new connection's first packet goes in a node's nat PREROUTING.
export {
  cidrContains,
  type ParsedAddress,
  type ParsedCidr,
  parseAddress,
  parseCidr,
} from './cidr';
export { summarize } from './outcomes';
export type {
  MarkState,
  Packet,
  Trace,
  TraceBranch,
  TraceHop,
  TraceInput,
  TraceLimits,
  TraceOutcome,
  Verdict,
  VerdictKind,
} from './types';
export { tracePacket } from './walk';
