// The words of parse errors: how offending text is shown, and what to tell someone who pasted
// the output of a different tool. Kept apart from the parser so its hot path stays small.

import { visibleText } from '../text/visible.js';

export const TEXT_LIMIT = 80;

/** Offending text as one readable line: invisible characters escaped, cut to TEXT_LIMIT. */
export function displayText(raw: string): string {
  return visibleText(raw, TEXT_LIMIT);
}

export const UNSUPPORTED_COMMANDS: Readonly<Record<string, string>> = {
  '-I': 'insert',
  '-D': 'delete',
  '-R': 'replace',
  '-F': 'flush',
  '-Z': 'zero',
  '-E': 'rename',
  '-C': 'check',
  '-L': 'list',
  '-S': 'list',
};

/** The first thing an on-call engineer needs when the paste is not what we read. */
export function explainUnknownLine(line: string): string {
  if (/^Chain \S+ \(/.test(line)) {
    return 'this is `iptables -L` output, which loses rule details: paste `iptables-save` or `iptables -t nat -S`';
  }
  if (/^table (ip|ip6|inet) /.test(line) || line === '}') {
    return 'this is nftables syntax (`nft list ruleset`): paste `iptables-save` output';
  }
  if (/^Name: \S+$/.test(line))
    return 'this is `ipset list` output: give it to the topology as ipset data, not as rules';
  if (line.startsWith('IP Virtual Server version')) {
    return 'this is `ipvsadm -Ln` output: give it to the topology as IPVS data, not as rules';
  }
  if (/^(sudo )?(ip6?tables)(-nft|-legacy)? /.test(line)) {
    return 'this is an iptables command line: paste `iptables-save` output, or the rule from `-A` on';
  }
  return 'not iptables-save syntax: expected *table, :CHAIN, -A/-N/-P, COMMIT or a # comment';
}
