// What the nft tracer takes and gives. It answers with the iptables tracer's own types (Trace,
// Verdict, TraceHop), so a caller renders both the same way; only "the rule" differs: here a rule
// located in its table and chain, because nft rule text alone does not say where it sits.
import type { NftFamily, NftRule, NftRuleset } from '../../nftables/model';
import type { Packet, Trace, TraceBranch, TraceHop, TraceLimits, TraceOutcome, Verdict } from '../types';

/** One nft rule and where it sits: `table inet nodeport-guard`, chain `prerouting`, rule 1. */
export interface NftRuleAt {
  readonly family: NftFamily;
  readonly table: string;
  readonly chain: string;
  /** 1-based position in the chain (the order `nft list` prints). */
  readonly position: number;
  readonly rule: NftRule;
  /** The rule's line in the dump (text forms). */
  readonly line?: number;
}

export type NftTrace = Trace<NftRuleAt>;
export type NftTraceBranch = TraceBranch<NftRuleAt>;
export type NftTraceHop = TraceHop<NftRuleAt>;
export type NftTraceOutcome = TraceOutcome<NftRuleAt>;
export type NftTraceVerdict = Verdict<NftRuleAt>;

export interface NftTraceInput {
  /** The node's whole ruleset: every table hooked at prerouting takes part (ours, kube-proxy's, others). */
  readonly ruleset: NftRuleset;
  readonly packet: Packet;
  /** The node's own addresses: `fib daddr type local`. Loopback counts too. */
  readonly localAddresses: readonly string[];
  readonly limits?: TraceLimits;
}
