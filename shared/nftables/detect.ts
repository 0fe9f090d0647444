// What a pasted dump is, before any parser runs: iptables output (iptables-save, -S, an excerpt)
// or an nft ruleset (text or JSON). And, for an nft ruleset, whether it is kube-proxy's nftables
// mode or kube-proxy's iptables mode seen through iptables-nft (`table ip nat` with KUBE-*
// chains), which must be read from iptables-save instead.
import type { NftRuleset, NftTable } from './model';
import { KUBE_PROXY_TABLE } from './topology';

export type DumpSyntax = 'iptables' | 'nft-text' | 'nft-json';

const NFT_START = /^(table|chain|set|map|add|create|insert|replace|flush|delete|destroy)\s/;

/** Judged by the first line that is neither blank nor a `#` comment. */
export function sniffDumpSyntax(text: string): DumpSyntax {
  let start = 0;
  const limit = Math.min(text.length, 1 << 20);
  while (start < limit) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, Math.min(end, start + 200)).trim();
    start = end + 1;
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('{') || line.startsWith('[')) return 'nft-json';
    return NFT_START.test(line) ? 'nft-text' : 'iptables';
  }
  return 'iptables';
}

/** iptables' KUBE-* chains, as kube-proxy names them in iptables and ipvs mode. */
const KUBE_IPTABLES_CHAIN =
  /^KUBE-(SERVICES|NODEPORTS|NODE-PORT|POSTROUTING|MARK-MASQ|MARK-DROP|EXTERNAL-SERVICES|FIREWALL|FORWARD|PROXY-FIREWALL|PROXY-CANARY|IPTABLES-HINT|(SVC|SVL|SEP|EXT|XLB|FW)-[A-Z0-9]+)$/;

export const IPTABLES_NFT_MESSAGE =
  "this is kube-proxy's iptables mode written through iptables-nft (KUBE-* chains in nft syntax), not nftables mode: give `iptables-save` (or `iptables-save -t nat`) output instead";

/** The ruleset's kube-proxy nftables tables (ip, then ip6). */
export function kubeProxyTables(rs: NftRuleset): NftTable[] {
  return rs.tables
    .filter((t) => t.name === KUBE_PROXY_TABLE && (t.family === 'ip' || t.family === 'ip6'))
    .sort((a, b) => (a.family === b.family ? 0 : a.family === 'ip' ? -1 : 1));
}

/** The ruleset shows kube-proxy's iptables-mode chains (iptables-nft), and no nftables-mode table. */
export function isIptablesNftKube(rs: NftRuleset): boolean {
  if (kubeProxyTables(rs).length > 0) return false;
  if (rs.comments.some((c) => /managed by iptables-nft/i.test(c))) {
    return rs.tables.some((t) => t.chains.some((c) => KUBE_IPTABLES_CHAIN.test(c.name)));
  }
  return rs.tables.some((t) =>
    t.chains.some(
      (c) =>
        KUBE_IPTABLES_CHAIN.test(c.name) ||
        c.rules.some((r) =>
          r.statements.some(
            (s) =>
              s.kind === 'verdict' && 'target' in s.verdict && KUBE_IPTABLES_CHAIN.test(s.verdict.target),
          ),
        ),
    ),
  );
}

/** For text that did not parse: does it still name iptables-mode KUBE-* chains in nft syntax? */
export function mentionsIptablesKubeChains(text: string): boolean {
  return (
    /\b(?:chain|jump|goto)\s+KUBE-(?:SERVICES|NODEPORTS|SVC-|SEP-|EXT-|MARK-MASQ|POSTROUTING)/.test(
      text.slice(0, 1 << 22),
    ) && !/\btable\s+ip6?\s+kube-proxy\b/.test(text.slice(0, 1 << 22))
  );
}
