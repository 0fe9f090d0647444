// The mistake that starts many NodePort incidents: a filter INPUT rule (the admin's own, firewalld's,
// ufw's) that drops, rejects or accepts a NodePort's port. In iptables and nftables mode kube-proxy
// DNATs the packet in nat PREROUTING first: it is then for a pod, goes through FORWARD, and filter
// INPUT never sees it. In ipvs mode the packet is still for a local address at filter INPUT (IPVS
// picks the backend after it, at LOCAL_IN), so the rule does take effect. Each such rule is named
// on the NodePort it touches, with whether it takes effect here and why.

import type { Rule } from '../netfilter/model';
import { serializeRule } from '../netfilter/serialize';
import type { DumpProxyMode, Protocol } from '../vocabulary';
import type { ChainIndex } from './chain-index';
import { portConditions } from './port-match';

export interface InputPortRule {
  readonly rule: Rule;
  /** The chain it stands in (INPUT, or a chain INPUT jumps to). */
  readonly chain: string;
  readonly verdict: 'DROP' | 'REJECT' | 'ACCEPT';
}

const VERDICTS = new Set(['DROP', 'REJECT', 'ACCEPT']);
const PORT_MODULES = new Set(['tcp', 'udp', 'sctp', 'multiport']);
/** firewalld nests INPUT -> INPUT_ZONES -> IN_public -> IN_public_allow: a few levels, bounded. */
const MAX_DEPTH = 6;
const MAX_RULES = 10_000;

/**
 * filter INPUT's rules, and those of the chains it jumps to (not kube-proxy's own KUBE-* chains),
 * that name a destination port and end in a verdict: the candidates, read once per dump.
 */
export function inputPortRules(filter: ChainIndex): readonly InputPortRule[] {
  const out: InputPortRule[] = [];
  const seen = new Set<string>();
  let budget = MAX_RULES;
  const walk = (name: string, depth: number) => {
    if (seen.has(name) || depth > MAX_DEPTH) return;
    seen.add(name);
    for (const rule of filter.get(name)?.rules ?? []) {
      if (--budget < 0) return;
      const target = rule.target?.name;
      if (target === undefined) continue;
      if (VERDICTS.has(target)) {
        if (rule.matches.some((m) => PORT_MODULES.has(m.module)))
          out.push({ rule, chain: name, verdict: target as InputPortRule['verdict'] });
      } else if (!target.startsWith('KUBE-') && filter.get(target)) walk(target, depth + 1);
    }
  };
  walk('INPUT', 0);
  return out;
}

/** The note on a NodePort for each candidate rule that matches its port, or none. */
export function inputRuleNotes(
  rules: readonly InputPortRule[],
  port: number,
  protocol: Protocol,
  mode: DumpProxyMode,
): string[] {
  const notes: string[] = [];
  for (const r of rules) {
    if (portConditions(r.rule, protocol, port, undefined) !== 'yes') continue;
    const what = `filter ${r.chain} rule \`${serializeRule(r.rule)}\` (${r.verdict} ${protocol}/${port})`;
    notes.push(
      mode === 'ipvs'
        ? `${what} takes effect: in ipvs mode the packet is still for this node at filter INPUT (IPVS picks the pod after it)`
        : `${what} never sees this NodePort's traffic: kube-proxy DNATs it in nat PREROUTING first, so it goes to the pod through FORWARD, not INPUT; the guard belongs in nat PREROUTING`,
    );
  }
  return notes;
}
