// Our own guard chains as found in a dump (DESIGN.md "The guard rules"): NPG-PREROUTING dispatches
// by port to one NPG-<PROTO>-<PORT> chain whose RETURN rules allow sources and whose last rule
// blocks. Read back so the diagram shows the guard in front of kube-proxy and verify can compare.
import { ruleComment } from '../netfilter/decode';
import type { Rule } from '../netfilter/model';
import { ENTRY_CHAIN, type Protocol } from '../vocabulary';
import type { ChainIndex } from './chain-index';
import { protocolOf, redirectPort, singleDestinationPort } from './rule-facts';
import type { GuardAllow, GuardBlock, PortGuard } from './topology';

const GUARD_COMMENT = 'nodeport-guard: ';

function guardLabel(rule: Rule): string | undefined {
  const c = ruleComment(rule);
  if (c === undefined || !c.startsWith(GUARD_COMMENT)) return undefined;
  const label = c.slice(GUARD_COMMENT.length);
  return label.startsWith('allow ') ? label.slice('allow '.length) : label;
}

function blockOf(rule: Rule): GuardBlock | undefined {
  const name = rule.target?.name;
  if (name === 'REDIRECT') {
    const toPort = redirectPort(rule);
    return toPort === undefined ? { action: 'redirect', rule } : { action: 'redirect', toPort, rule };
  }
  if (name === 'DROP') return { action: 'drop', rule };
  return undefined;
}

function readGuardChain(chainName: string, dispatch: Rule, index: ChainIndex, effective: boolean): PortGuard {
  const allow: GuardAllow[] = [];
  let block: GuardBlock | undefined;
  for (const rule of index.get(chainName)?.rules ?? []) {
    if (rule.target?.name === 'RETURN' && rule.source) {
      const label = guardLabel(rule);
      allow.push({
        source: rule.source.value,
        negated: rule.source.negated,
        ...(label === undefined ? {} : { label }),
        rule,
      });
      continue;
    }
    // The first rule that is not an allow ends what the chain can do for a blocked source.
    block ??= blockOf(rule) ?? (rule.target ? { action: 'other', rule } : undefined);
  }
  return { chain: chainName, dispatch, allow, ...(block ? { block } : {}), effective };
}

export function guardKey(port: number, protocol: Protocol): string {
  return `${port}/${protocol}`;
}

/** Port guards by `port/protocol`, from NPG-PREROUTING's dispatch rules. */
export function readPortGuards(
  index: ChainIndex,
  effective: boolean,
  warnings: string[],
): ReadonlyMap<string, PortGuard> {
  const guards = new Map<string, PortGuard>();
  for (const dispatch of index.get(ENTRY_CHAIN)?.rules ?? []) {
    const target = dispatch.target?.name;
    if (target === undefined || !index.has(target)) continue;
    const port = singleDestinationPort(dispatch);
    const protocol = protocolOf(dispatch);
    if (port === undefined || protocol === undefined) {
      warnings.push(`${ENTRY_CHAIN} rule to ${target} names no single port and protocol; not attributed`);
      continue;
    }
    const key = guardKey(port, protocol);
    if (guards.has(key)) {
      warnings.push(`${ENTRY_CHAIN} dispatches ${key} twice; the first rule wins`);
      continue;
    }
    guards.set(key, readGuardChain(target, dispatch, index, effective));
  }
  return guards;
}
