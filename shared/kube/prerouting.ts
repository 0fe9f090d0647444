// nat PREROUTING as the guard sees it: where kube-proxy's `-j KUBE-SERVICES` stands, where our
// NPG entry jump stands, and which other rules in front of kube-proxy can change a NodePort's fate
// (a REDIRECT, a DNAT, an ACCEPT or RETURN that skips kube-proxy, a goto, a chain that does so).
import type { Rule } from '../netfilter/model';
import { ENTRY_CHAIN, type Protocol } from '../vocabulary';
import type { ChainIndex } from './chain-index';
import { chainKind, isKubeKind } from './chain-kind';
import { portConditions } from './port-match';
import { hasConditions } from './rule-facts';
import type { ForeignEffect, ForeignRule, GuardEntry } from './topology';

export interface PreroutingView {
  readonly rules: readonly Rule[];
  /** 0-based index of kube-proxy's jump, or undefined when PREROUTING has none. */
  readonly kubeJumpIndex?: number;
  readonly guard?: GuardEntry;
  readonly foreign: readonly ForeignRule[];
}

// Targets that neither rewrite the destination nor end the walk: the packet goes on to the next rule.
const PASS_THROUGH_TARGETS = new Set([
  'MARK',
  'CONNMARK',
  'LOG',
  'NFLOG',
  'ULOG',
  'TRACE',
  'AUDIT',
  'SET',
  'CONNSECMARK',
  'SECMARK',
  'NOTRACK',
  'CT',
  'TOS',
  'DSCP',
  'TTL',
  'HL',
]);

function builtinEffect(name: string): ForeignEffect | 'pass' {
  switch (name) {
    case 'REDIRECT':
      return 'redirect';
    case 'DNAT':
      return 'dnat';
    case 'ACCEPT':
      return 'accept';
    case 'DROP':
      return 'drop';
    case 'RETURN':
      return 'return';
    default:
      return PASS_THROUGH_TARGETS.has(name) ? 'pass' : 'unknown';
  }
}

/**
 * Rules reachable from a jumped-to chain that rewrite or end the walk. RETURN inside a jumped
 * chain only comes back to PREROUTING, so it is harmless; a missing chain is undecidable.
 */
function decisiveRulesOf(start: string, index: ChainIndex): { rules: Rule[]; effect?: ForeignEffect } {
  const rules: Rule[] = [];
  let effect: ForeignEffect | undefined;
  const seen = new Set<string>();
  const queue = [start];
  while (queue.length > 0) {
    const name = queue.shift() ?? '';
    if (seen.has(name)) continue;
    seen.add(name);
    const chain = index.get(name);
    if (!chain) {
      effect ??= 'unknown';
      continue;
    }
    for (const rule of chain.rules) {
      const t = rule.target;
      if (!t) continue;
      if (index.has(t.name)) {
        queue.push(t.name);
        continue;
      }
      const e = builtinEffect(t.name);
      if (e === 'pass' || e === 'return') continue;
      rules.push(rule);
      effect ??= e;
    }
  }
  return effect === undefined ? { rules } : { rules, effect };
}

function classifyForeign(rule: Rule, position: number, index: ChainIndex): ForeignRule | undefined {
  const t = rule.target;
  if (!t) return undefined;
  if (index.has(t.name)) {
    if (t.kind === 'goto') {
      // A goto from a built-in chain ends PREROUTING when the target chain runs out: kube-proxy's
      // jump after it is never reached.
      const inner = decisiveRulesOf(t.name, index);
      return {
        rule,
        position,
        effect: 'goto',
        decisive: [rule, ...inner.rules],
        conditional: hasConditions(rule),
      };
    }
    const inner = decisiveRulesOf(t.name, index);
    if (inner.effect === undefined) return undefined;
    const conditional = hasConditions(rule) || (inner.rules.length > 0 && inner.rules.every(hasConditions));
    return { rule, position, effect: inner.effect, decisive: inner.rules, conditional };
  }
  const effect = builtinEffect(t.name);
  if (effect === 'pass') return undefined;
  // A `-j NAME` with no chain of that name in the dump and no known meaning cannot be judged.
  return { rule, position, effect, decisive: [rule], conditional: hasConditions(rule) };
}

export function analyzePrerouting(index: ChainIndex): PreroutingView {
  const rules = index.get('PREROUTING')?.rules ?? [];
  const kubeJumpIndex = rules.findIndex((r) => r.target?.name === 'KUBE-SERVICES');
  const end = kubeJumpIndex < 0 ? rules.length : kubeJumpIndex;
  const jumps: { rule: Rule; position: number }[] = [];
  const foreign: ForeignRule[] = [];
  rules.forEach((rule, i) => {
    const name = rule.target?.name;
    if (name === undefined) return;
    if (name === ENTRY_CHAIN) {
      jumps.push({ rule, position: i + 1 });
      return;
    }
    if (i >= end) return;
    const kind = chainKind(name);
    if (kind === 'NPG' || isKubeKind(kind)) return;
    const f = classifyForeign(rule, i + 1, index);
    if (f) foreign.push(f);
  });
  const first = jumps[0];
  const guard: GuardEntry | undefined = first
    ? { chain: ENTRY_CHAIN, jumps, beforeKubeServices: first.position - 1 < end }
    : undefined;
  return {
    rules,
    ...(kubeJumpIndex >= 0 ? { kubeJumpIndex } : {}),
    ...(guard ? { guard } : {}),
    foreign,
  };
}

/**
 * Can this foreign rule touch NodePort `port`/`protocol`? Only protocol and port are judged (the
 * node's addresses and the client are unknown here): a rule for another port is left out, a rule
 * that may or may not hit is kept.
 */
export function foreignMayApply(f: ForeignRule, port: number, protocol: Protocol): boolean {
  if (portConditions(f.rule, protocol, port, undefined) === 'no') return false;
  const inner = f.decisive.filter((r) => r !== f.rule);
  if (inner.length === 0) return true;
  return f.effect === 'goto' || inner.some((r) => portConditions(r, protocol, port, undefined) !== 'no');
}
