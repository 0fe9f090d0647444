// One model for kube-proxy's nftables rulesets, whichever way they were printed: `nft list
// ruleset` text, the `nft -f` input kube-proxy's tests compare (`add rule ...` lines), or
// `nft -j list ruleset` JSON. Readonly data; the readers (read-text.ts, read-json.ts) build it and
// the walk (topology.ts) and the guard's read of its own table
// (shared/guard/nft/parse.ts) read it. Only the statements kube-proxy writes are parsed into a typed
// form; anything else is kept as `other` with its text, never guessed at.
import type { Counters } from '../netfilter/model';

export type NftFamily = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';

export const NFT_FAMILIES: readonly NftFamily[] = ['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev'];

export function isNftFamily(text: string): text is NftFamily {
  return (NFT_FAMILIES as readonly string[]).includes(text);
}

/** Which printed form the ruleset came from. */
export type NftFormat = 'nft-list' | 'nft-f' | 'json';

export type NftVerdict =
  | { readonly kind: 'jump' | 'goto'; readonly target: string }
  | { readonly kind: 'accept' | 'drop' | 'return' | 'continue' | 'queue' };

/**
 * An expression that names a packet field, as nft prints it: `ip daddr`, `meta l4proto`,
 * `th dport`, `fib saddr type`, `numgen random mod 2`, `meta mark & 0x00004000`. A concatenation
 * (`ip daddr . meta l4proto . th dport`) has one part per member.
 */
export interface NftSelector {
  readonly parts: readonly string[];
  /** Set for `numgen MODE mod N [offset K]`. */
  readonly numgen?: { readonly mode: string; readonly mod: number; readonly offset: number };
}

/** One element of a set or map, or of an anonymous set/vmap in a rule. */
export interface NftElement {
  /** One atom per concatenation member, as written (`tcp`, `3001`, `10.0.0.0/8`, `0`). */
  readonly key: readonly string[];
  readonly comment?: string;
  /** A verdict map's value. */
  readonly verdict?: NftVerdict;
  /** A data map's value, one atom per member. */
  readonly data?: readonly string[];
}

export type NftValue =
  | { readonly kind: 'set'; readonly name: string }
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'anon'; readonly elements: readonly NftElement[] };

export type NftMapRef =
  | { readonly kind: 'named'; readonly name: string }
  | { readonly kind: 'anon'; readonly elements: readonly NftElement[] };

export type NftMatchOp = '==' | '!=' | '<' | '>' | '<=' | '>=';

export type NftStatement =
  | { readonly kind: 'match'; readonly left: NftSelector; readonly op: NftMatchOp; readonly right: NftValue }
  | { readonly kind: 'verdict'; readonly verdict: NftVerdict }
  /** `KEY vmap @map` / `KEY vmap { ... }` (`map` lookups that yield data are `other`). */
  | { readonly kind: 'vmap'; readonly key: NftSelector; readonly map: NftMapRef }
  | {
      readonly kind: 'dnat' | 'snat';
      /** The address as written, without brackets (`10.180.0.1`, `fd00:10:180::1`). */
      readonly addr?: string;
      readonly port?: number;
      readonly text: string;
    }
  | { readonly kind: 'masquerade' | 'reject' | 'redirect'; readonly text: string; readonly port?: number }
  | { readonly kind: 'counter'; readonly counters: Counters }
  /** `meta mark set ...`, `mark set ...`, `ct mark set ...`. */
  | { readonly kind: 'mark-set'; readonly text: string }
  /** `update @set { ip saddr }`, `add @set { ... }`. */
  | { readonly kind: 'set-update'; readonly set: string; readonly text: string }
  | { readonly kind: 'other'; readonly text: string };

export interface NftRule {
  /** The rule as written (text readers), or as nft would print it (JSON reader). */
  readonly text: string;
  readonly handle?: number;
  readonly counters?: Counters;
  readonly comment?: string;
  readonly statements: readonly NftStatement[];
  /** 1-based line (text readers). */
  readonly line?: number;
}

export interface NftBaseChain {
  readonly type: string;
  readonly hook: string;
  /** Numeric priority (`dstnat` = -100, `dstnat - 10` = -110). */
  readonly priority: number;
  /** The priority as written (`dstnat - 10`, `-100`). */
  readonly priorityText: string;
  readonly policy?: string;
}

export interface NftChain {
  readonly name: string;
  readonly base?: NftBaseChain;
  readonly comment?: string;
  readonly handle?: number;
  readonly rules: readonly NftRule[];
  readonly line?: number;
}

export interface NftSet {
  readonly name: string;
  readonly kind: 'set' | 'map';
  /** Key type, one per concatenation member (`inet_proto`, `inet_service`). */
  readonly type: readonly string[];
  /** A map's value type (`verdict`, `ipv4_addr`). */
  readonly dataType?: string;
  readonly flags: readonly string[];
  readonly comment?: string;
  readonly handle?: number;
  readonly elements: readonly NftElement[];
  readonly line?: number;
}

export interface NftTable {
  readonly family: NftFamily;
  /** Empty for chains pasted without their `table` wrapper (`nft list chain` excerpts). */
  readonly name: string;
  readonly comment?: string;
  readonly handle?: number;
  readonly chains: readonly NftChain[];
  readonly sets: readonly NftSet[];
  /**
   * Objects of kinds the model does not read (`counter`, `quota`, `flowtable`, `ct helper`...), by
   * kind and name, so that a reader of one table can tell it holds more than chains and sets. Only
   * the JSON reader fills it; absent means none.
   */
  readonly others?: readonly NftObjectRef[];
  readonly line?: number;
}

export interface NftObjectRef {
  /** The object's key in `nft -j` output: `counter`, `quota`, `flowtable`, `ct helper`. */
  readonly kind: string;
  readonly name: string;
}

export interface NftRuleset {
  readonly format: NftFormat;
  readonly tables: readonly NftTable[];
  /** `# Warning: table ip nat is managed by iptables-nft, do not touch!` and like header lines. */
  readonly comments: readonly string[];
}

export function findNftTable(rs: NftRuleset, family: NftFamily, name: string): NftTable | undefined {
  return rs.tables.find((t) => t.family === family && t.name === name);
}

/**
 * Standard priority names (nft(8) "CHAIN PRIORITIES") for the ip, ip6 and inet families. JSON output
 * gives the number; text output, and JSON that people wrote, may give the name (`dstnat - 10`).
 */
export const NFT_PRIORITY = {
  raw: -300,
  mangle: -150,
  dstnat: -100,
  filter: 0,
  security: 50,
  srcnat: 100,
} as const;

export const PRIORITY_NAMES: ReadonlyMap<string, number> = new Map(Object.entries(NFT_PRIORITY));

/** `dstnat - 10`, `-110`, `filter`, `srcnat + 5`: the number, or undefined. */
export function parsePriority(text: string): number | undefined {
  const m = /^\s*(-?\d{1,6}|[a-z]+)\s*(?:([+-])\s*(\d{1,6}))?\s*$/.exec(text);
  if (!m) return undefined;
  const base = /^-?\d/.test(m[1]!) ? Number(m[1]) : PRIORITY_NAMES.get(m[1]!);
  if (base === undefined) return undefined;
  if (!m[2]) return base;
  return m[2] === '+' ? base + Number(m[3]) : base - Number(m[3]);
}
