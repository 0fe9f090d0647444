// Names and comments that mark netfilter objects as ours: every chain is `NPG-...` and every rule carries
// `-m comment --comment "nodeport-guard: ..."`, so state extraction, verify and removal can find exactly
// our objects and never touch kube-proxy's.
import type { Protocol } from '../workspace/schema';

declare const chainBrand: unique symbol;
/** A netfilter chain name we generated or found; not to be mixed with labels or comments. */
export type ChainName = string & { readonly [chainBrand]: 'ChainName' };

export const CHAIN_PREFIX = 'NPG-';
export const ENTRY_CHAIN = 'NPG-PREROUTING' as ChainName;
/** The built-in chain our entry jump lives in. */
export const HOOK_CHAIN = 'PREROUTING' as ChainName;
/** kube-proxy's jump from PREROUTING (iptables and ipvs modes); our entry jump must come before it. */
export const KUBE_SERVICES_CHAIN = 'KUBE-SERVICES' as ChainName;
export const COMMENT_PREFIX = 'nodeport-guard: ';

/** `NPG-TCP-30001`: at most 14 characters, well inside the 28-character chain name limit. */
export function portChainName(protocol: Protocol, port: number): ChainName {
  return `${CHAIN_PREFIX}${protocol.toUpperCase()}-${port}` as ChainName;
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
