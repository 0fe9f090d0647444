// The nft guard's own names, in one place: the table, its one base chain and its priority, the set
// names, and the rule comments. Everything the guard writes lives in `table inet nodeport-guard`, so
// "is this ours?" is "is it in our table?"; the `nodeport-guard:` comments are for people reading
// `nft list ruleset`.
import { NFT_PRIORITY } from '../../nftables/model';
import { COMMENT_PREFIX, COMMENTS, type Family, PROTOCOLS, type Protocol } from '../../vocabulary';

/** `inet`: one table holds both families; `ip saddr` / `ip6 saddr` rules only ever see their family. */
export const NFT_TABLE_FAMILY = 'inet';
export const NFT_TABLE = 'nodeport-guard';
/** `inet nodeport-guard`, as nft commands take it. */
export const NFT_TABLE_REF = `${NFT_TABLE_FAMILY} ${NFT_TABLE}`;
export const NFT_CHAIN = 'prerouting';

// nft's symbolic priorities are defined once, with the nftables model both JSON and text readers share.
export { NFT_PRIORITY };

/**
 * `dstnat - 10`: before kube-proxy's nat chains (nftables mode: `dstnat`; iptables-nft's nat
 * PREROUTING: -100; iptables-legacy's nat table: NF_IP_PRI_NAT_DST, also -100). Written as the
 * number, which every nft version reads (symbolic priorities need nft >= 0.9.1).
 */
export const NFT_GUARD_PRIORITY = NFT_PRIORITY.dstnat - 10;

/** nft's limit for a rule comment (NFTNL_UDATA_COMMENT_MAXLEN); longer ones are refused. */
export const NFT_COMMENT_MAX = 128;

/** `allow-tcp-30001-v4`: the allowed sources of one port and family (an interval set). */
export function nftSetName(protocol: Protocol, port: number, family: Family): string {
  return `allow-${protocol}-${port}-${family === 'ipv4' ? 'v4' : 'v6'}`;
}

export interface SetNameParts {
  readonly protocol: Protocol;
  readonly port: number;
  readonly family: Family;
}

/** The port and family a set of ours is for; undefined for any other name. */
export function parseNftSetName(name: string): SetNameParts | undefined {
  const m = /^allow-([a-z]+)-([1-9]\d{0,4})-v([46])$/.exec(name);
  if (!m || !(PROTOCOLS as readonly string[]).includes(m[1]!)) return undefined;
  const port = Number(m[2]);
  if (port > 65_535) return undefined;
  return { protocol: m[1] as Protocol, port, family: m[3] === '4' ? 'ipv4' : 'ipv6' };
}

/**
 * The rule comment: the service (`nodeport-guard: default/web:http`) or `nodeport-guard: tcp/30001`,
 * with `audit ` before it for a rule that only counts, in the sanitised alphabet of vocabulary.ts (no
 * quotes), cut to nft's limit.
 */
export function nftRuleComment(
  protocol: Protocol,
  port: number,
  service: string | undefined,
  audit = false,
): string {
  const text = COMMENTS.dispatch(protocol, port, service);
  const full = audit ? text.replace(COMMENT_PREFIX, `${COMMENT_PREFIX}audit `) : text;
  return full.slice(0, NFT_COMMENT_MAX).trimEnd();
}

/** The nft keyword of a family's source address (`ip saddr`, `ip6 saddr`) and its set type. */
export function addressKeyword(family: Family): 'ip' | 'ip6' {
  return family === 'ipv4' ? 'ip' : 'ip6';
}

export function setType(family: Family): 'ipv4_addr' | 'ipv6_addr' {
  return family === 'ipv4' ? 'ipv4_addr' : 'ipv6_addr';
}
