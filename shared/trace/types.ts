// What the packet tracer takes and gives: one new connection's first packet, walked through nat
// PREROUTING rule by rule, forked at every statistic match, with a verdict per branch.
import type { IpsetList } from '../kube/ipset-parse';
import type { PortRange } from '../netfilter/decode-values';
import type { Rule, Table } from '../netfilter/model';
import type { Family, Protocol } from '../vocabulary';

/**
 * The first packet of a new connection: the only packet the nat table ever sees (later packets
 * follow the connection's conntrack entry). So a TCP packet here is a SYN and its conntrack
 * state is NEW.
 */
export interface Packet {
  readonly src: string;
  readonly dst: string;
  readonly protocol: Protocol;
  readonly dport: number;
  /** Unknown when absent: a rule that tests it becomes `unknown`. */
  readonly sport?: number;
  /** Unknown when absent: a rule with `-i` becomes `unknown`. */
  readonly inInterface?: string;
  /** The packet's nfmark on entry (mangle may have set it); unknown when absent. */
  readonly mark?: number;
}

export interface TraceLimits {
  /** Nested jumps; the kernel rejects deeper rule sets anyway. */
  readonly maxDepth?: number;
  /** Statistic forks multiply; past this many branches the rest is reported unknown. */
  readonly maxBranches?: number;
  /** Rules evaluated over all branches. */
  readonly maxSteps?: number;
}

export interface TraceInput {
  readonly nat: Table;
  readonly packet: Packet;
  /** The node's own addresses: `-m addrtype --dst-type LOCAL` and friends. Loopback counts too. */
  readonly localAddresses: readonly string[];
  /** `ipset list` output, to evaluate `-m set`; without it such a match is unknown. */
  readonly ipsets?: IpsetList;
  /** `Ruleset.family`; read from the table's addresses when absent. A packet of the other family is unknown. */
  readonly family?: Family;
  readonly limits?: TraceLimits;
}

/**
 * What a trace names as "the rule": iptables' `Rule` (the default), or a located nft rule
 * (shared/trace/nft). Only its line is read here, to keep unknown verdicts of different rules apart.
 */
export interface TracedRule {
  readonly line?: number;
}

/** One rule the packet matched, in walk order. */
export interface TraceHop<R extends TracedRule = Rule> {
  readonly chain: string;
  /** 1-based position in the chain (`iptables -L --line-numbers`). */
  readonly position: number;
  readonly rule: R;
  /** What the rule did: entered a chain, left one, set a mark, ended the walk, or nothing (LOG, a counter). */
  readonly action: 'jump' | 'goto' | 'return' | 'mark' | 'continue' | 'verdict';
  /** For a statistic match: the share of packets that match here (this branch took the match). */
  readonly probability?: number;
}

export type Verdict<R extends TracedRule = Rule> =
  /** Rewritten to a local port: `toPort` is the first of `toPorts` (the destination port when absent). */
  | { readonly kind: 'redirect'; readonly toPort: number; readonly toPorts?: PortRange; readonly rule: R }
  /** Rewritten to `destination` (`ip:port`, `[ip6]:port`; a range as written). */
  | {
      readonly kind: 'dnat';
      readonly destination: string;
      readonly address: string;
      readonly port: number;
      readonly rule: R;
    }
  /** Leaves nat PREROUTING unchanged: an ACCEPT rule... */
  | { readonly kind: 'accept'; readonly by: 'rule'; readonly rule: R }
  /** ...or the end of PREROUTING; `policyKnown` is false when the dump does not declare the policy. */
  | {
      readonly kind: 'accept';
      readonly by: 'policy';
      readonly policyKnown: boolean;
      readonly rule?: undefined;
    }
  /** `reject` (nft's `reject [with ...]`, as written) when the packet is refused with an answer, not dropped. */
  | { readonly kind: 'drop'; readonly by: 'rule'; readonly rule: R; readonly reject?: string }
  /** `chain` names the base chain whose policy dropped it, where the walk knows (nft). */
  | { readonly kind: 'drop'; readonly by: 'policy'; readonly rule?: undefined; readonly chain?: string }
  /** A rule that could not be evaluated (or a limit): the walk stops there, nothing is guessed. */
  | { readonly kind: 'unknown'; readonly reason: string; readonly rule?: R; readonly chain?: string };

export type VerdictKind = Verdict['kind'];

export interface MarkState {
  /** The mark's bits where `known` has ones. */
  readonly value: number;
  readonly known: number;
}

export interface TraceBranch<R extends TracedRule = Rule> {
  /** Share of new connections with these fields that take this branch; all branches sum to 1. */
  readonly probability: number;
  readonly hops: readonly TraceHop<R>[];
  readonly verdict: Verdict<R>;
  readonly mark: MarkState;
  readonly notes: readonly string[];
}

/** Branches with the same verdict merged (e.g. one per endpoint for a DNAT to a service). */
export interface TraceOutcome<R extends TracedRule = Rule> {
  readonly verdict: Verdict<R>;
  readonly probability: number;
  /** Indexes into `branches`. */
  readonly branches: readonly number[];
}

export interface Trace<R extends TracedRule = Rule> {
  readonly packet: Packet;
  readonly branches: readonly TraceBranch<R>[];
  /** Sorted by probability, highest first. */
  readonly outcomes: readonly TraceOutcome<R>[];
  /** The one verdict kind of every branch, or `mixed`. */
  readonly summary: VerdictKind | 'mixed';
  readonly warnings: readonly string[];
}
