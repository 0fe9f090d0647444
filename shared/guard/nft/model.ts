// The nft guard as data: what the node's table holds (NftGuardState, read by parse.ts) and what it
// must hold (NftDesired, from desired.ts). Both print their rules through ruleText, which is also the
// exact nft syntax render.ts writes, so "same rule" is "same text".
import type { Counters } from '../../netfilter/model';
import type { Family, Protocol } from '../../vocabulary';
import type { Cidr } from '../cidr';
import { addressKeyword, NFT_CHAIN, NFT_GUARD_PRIORITY } from './names';

declare const handleBrand: unique symbol;
/** The kernel's handle of a rule or set: what `delete rule ... handle N` takes. Never a position. */
export type NftHandle = number & { readonly [handleBrand]: 'NftHandle' };

/** Enforce redirects to the blackhole port; audit only counts (the rule has no verdict). */
export type NftAction = { readonly kind: 'redirect'; readonly port: number } | { readonly kind: 'count' };

/** One guard rule: `tcp dport 30001 fib daddr type local ip saddr != @allow-tcp-30001-v4 counter ...`. */
export interface NftRuleSpec {
  readonly protocol: Protocol;
  readonly port: number;
  readonly family: Family;
  readonly set: string;
  readonly action: NftAction;
  readonly comment: string;
}

export interface NftDesiredSet {
  readonly name: string;
  readonly family: Family;
  /** Normalised, sorted (compareCidrs), no entry covered by another (allow-list.ts). */
  readonly elements: readonly Cidr[];
}

/** The base chain every guard rule lives in. */
export interface NftChainSpec {
  readonly name: string;
  readonly type: string;
  readonly hook: string;
  readonly prio: number;
  readonly policy: string;
}

export const GUARD_CHAIN: NftChainSpec = {
  name: NFT_CHAIN,
  type: 'nat',
  hook: 'prerouting',
  prio: NFT_GUARD_PRIORITY,
  policy: 'accept',
};

export interface NftDesired {
  /** False: no port is guarded, the table must not exist. */
  readonly present: boolean;
  /** Sorted by name. */
  readonly sets: readonly NftDesiredSet[];
  /** In (port, protocol, family) order. */
  readonly rules: readonly NftRuleSpec[];
}

export const NFT_ABSENT: NftDesired = { present: false, sets: [], rules: [] };

export interface NftStateSet {
  readonly name: string;
  readonly handle?: NftHandle;
  /** nft's type (`ipv4_addr`); a concatenation reads as its parts joined by ` . `. */
  readonly type: string;
  /** Sorted. */
  readonly flags: readonly string[];
  /** Normalised CIDRs where the element is an address or prefix, else the element as text (ranges). Sorted. */
  readonly elements: readonly string[];
}

export type NftStateRule =
  | (NftRuleSpec & {
      readonly kind: 'guard';
      readonly handle?: NftHandle;
      readonly counters?: Counters;
    })
  | {
      readonly kind: 'foreign';
      readonly handle?: NftHandle;
      readonly comment?: string;
      /** The rule's expressions as compact JSON, cut to a readable length: for messages and hashing. */
      readonly text: string;
    };

export interface NftStateChain {
  readonly name: string;
  readonly handle?: NftHandle;
  /** Base chains only; a regular chain has none of these. */
  readonly type?: string;
  readonly hook?: string;
  readonly prio?: number;
  readonly policy?: string;
  /** In the chain's order. */
  readonly rules: readonly NftStateRule[];
}

export type NftGuardState =
  | { readonly table: 'absent' }
  | {
      readonly table: 'present';
      /** Sorted by name. */
      readonly chains: readonly NftStateChain[];
      /** Sorted by name. */
      readonly sets: readonly NftStateSet[];
      /** Other objects in our table (maps, named counters, flowtables...): `map foo`. Sorted. */
      readonly others: readonly string[];
    };

export const NFT_STATE_ABSENT: NftGuardState = { table: 'absent' };

/** The rule as nft syntax (without `add rule ...`): what render writes and what compares rules. */
export function ruleText(r: NftRuleSpec): string {
  const action = r.action.kind === 'redirect' ? ` redirect to :${r.action.port}` : '';
  return `${r.protocol} dport ${r.port} fib daddr type local ${addressKeyword(r.family)} saddr != @${r.set} counter${action} comment ${quote(r.comment)}`;
}

/** What a state rule does, as one comparable line (counters and handle left out). */
export function stateRuleText(r: NftStateRule): string {
  return r.kind === 'guard' ? ruleText(r) : `foreign ${r.text}`;
}

/**
 * An nft string literal on one line. Our comments hold no quote, backslash or control character
 * (sanitised), so for them this is exact; a comment read from a node is made safe the same way.
 */
export function quote(text: string): string {
  return `"${text.replace(/["\\\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '_')}"`;
}

export function chainSpecText(c: Pick<NftStateChain, 'type' | 'hook' | 'prio' | 'policy'>): string {
  return c.type === undefined
    ? 'regular chain'
    : `type ${c.type} hook ${c.hook ?? '?'} priority ${c.prio ?? '?'}; policy ${c.policy ?? '?'}`;
}
