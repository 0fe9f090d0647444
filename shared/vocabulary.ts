// The domain's names, in one place: what a protocol, an address family and a proxy mode are, and
// how our own netfilter objects are named (DESIGN.md "The guard rules"). Every reader, planner,
// view and face takes these from here, so a new mode or protocol is one edit, and "is this chain
// ours?" has one answer.

/** The transport protocols a NodePort (and so a guard) can have. */
export const PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export function isProtocol(text: string): text is Protocol {
  return (PROTOCOLS as readonly string[]).includes(text);
}

export const FAMILIES = ['ipv4', 'ipv6'] as const;
export type Family = (typeof FAMILIES)[number];

/** `IPv4` / `IPv6`, as people write them in messages. */
export function familyName(family: Family): string {
  return family === 'ipv4' ? 'IPv4' : 'IPv6';
}

/**
 * How a node's Services are proxied, as far as we can tell: one of kube-proxy's modes, `none` when
 * the node shows no kube-proxy rules, `unknown` when it could not be read.
 */
export type ProxyMode = 'iptables' | 'ipvs' | 'nftables' | 'none' | 'unknown';

/**
 * What a netfilter dump alone can show. `nftables` comes only from an nft ruleset (shared/nftables),
 * never from iptables output.
 */
export type DumpProxyMode = Extract<ProxyMode, 'iptables' | 'ipvs' | 'nftables' | 'none'>;

/**
 * Which guard a node takes: our NPG- chains in iptables' nat PREROUTING, or our own nft table
 * (`inet nodeport-guard`). kube-proxy's nftables mode takes nft; elsewhere the workspace chooses
 * (policy.guardBackend, default iptables), on nodes that have nft.
 */
export const GUARD_BACKENDS = ['iptables', 'nft'] as const;
export type GuardBackend = (typeof GUARD_BACKENDS)[number];

// Our netfilter objects: every chain is `NPG-...` and every rule carries
// `-m comment --comment "nodeport-guard: ..."`, so state extraction, verify and removal find
// exactly our objects and never touch kube-proxy's.

declare const chainBrand: unique symbol;
/** A netfilter chain name we generated or found; not to be mixed with labels or comments. */
export type ChainName = string & { readonly [chainBrand]: 'ChainName' };

export const CHAIN_PREFIX = 'NPG-';
/** Our dispatch chain; PREROUTING's entry jump leads here. */
export const ENTRY_CHAIN = 'NPG-PREROUTING' as ChainName;
/** The built-in chain our entry jump lives in. */
export const HOOK_CHAIN = 'PREROUTING' as ChainName;
/** kube-proxy's jump from PREROUTING (iptables and ipvs modes); our entry jump must come before it. */
export const KUBE_SERVICES_CHAIN = 'KUBE-SERVICES' as ChainName;
export const COMMENT_PREFIX = 'nodeport-guard: ';

/** A chain name of ours, as iptables accepts it: what the engine may list, flush or delete. */
export const GUARD_CHAIN_PATTERN = /^NPG-[A-Z0-9-]+$/;

/** `NPG-TCP-30001`: at most 14 characters, well inside the 28-character chain name limit. */
export function portChainName(protocol: Protocol, port: number): ChainName {
  return `${CHAIN_PREFIX}${protocol.toUpperCase()}-${port}` as ChainName;
}

/** The protocol and port of a per-port guard chain (`NPG-TCP-30001`); undefined for any other name. */
export function parsePortChainName(name: string): { protocol: Protocol; port: number } | undefined {
  const m = /^NPG-(TCP|UDP|SCTP)-([1-9]\d{0,4})$/.exec(name);
  if (!m) return undefined;
  const port = Number(m[2]);
  return port <= 65_535 ? { protocol: m[1]!.toLowerCase() as Protocol, port } : undefined;
}

export function isGuardChainName(name: string): name is ChainName {
  return name.startsWith(CHAIN_PREFIX);
}

const LABEL_MAX = 64;
const SERVICE_MAX = 120;

/**
 * Text for inside a rule comment. Comments travel through iptables-restore files and back through
 * iptables-save, and show up in one-line messages; so only a plain, quote-free, escape-free alphabet is
 * kept (anything else becomes `_`), whitespace collapses to one space, and the length is capped well
 * below xt_comment's 255-byte limit. The workspace keeps the label as the user wrote it.
 */
export function sanitiseCommentText(text: string, max = LABEL_MAX): string {
  const plain = text
    .replace(/\s+/g, ' ')
    .replace(/[^A-Za-z0-9 ._:/@+,=()#-]+/g, '_')
    .trim();
  return plain.length > max ? plain.slice(0, max).trimEnd() : plain;
}

export const COMMENTS = {
  entry: `${COMMENT_PREFIX}entry`,
  block: `${COMMENT_PREFIX}block`,
  audit: `${COMMENT_PREFIX}audit`,
  allow: (label: string | undefined): string => {
    const clean = label === undefined ? '' : sanitiseCommentText(label, LABEL_MAX);
    return clean ? `${COMMENT_PREFIX}allow ${clean}` : `${COMMENT_PREFIX}allow`;
  },
  /** The dispatch rule names the service (kube-proxy's `namespace/name:port`) or else `tcp/30001`. */
  dispatch: (protocol: Protocol, port: number, service: string | undefined): string => {
    const clean = service === undefined ? '' : sanitiseCommentText(service, SERVICE_MAX);
    return `${COMMENT_PREFIX}${clean || `${protocol}/${port}`}`;
  },
} as const;
