// The guard's rules as netfilter model values (shared/netfilter/model.ts), written in exactly the shape
// `iptables-save` prints them back, so that desired rules and parsed rules compare field by field and the
// netfilter serializer prints them as iptables-restore input.
import type { Match, MatchOption, Rule, Target } from '../netfilter/model';
import type { Protocol } from '../vocabulary';
import { type ChainName, COMMENTS, ENTRY_CHAIN, HOOK_CHAIN, KUBE_SERVICES_CHAIN } from '../vocabulary';
import type { Cidr } from './cidr';

function option(name: string, ...values: string[]): MatchOption {
  return { name, negated: false, values };
}

function comment(text: string): Match {
  return { module: 'comment', options: [option('comment', text)] };
}

function jump(name: string, ...options: MatchOption[]): Target {
  return { kind: 'jump', name, options };
}

const proto = (p: Protocol) => ({ value: p, negated: false }) as const;

/** `-A PREROUTING -m comment --comment "nodeport-guard: entry" -j NPG-PREROUTING` */
export function entryJumpRule(): Rule {
  return { chain: HOOK_CHAIN, matches: [comment(COMMENTS.entry)], target: jump(ENTRY_CHAIN) };
}

/** `-A NPG-PREROUTING -p tcp -m tcp --dport 30001 -m addrtype --dst-type LOCAL -m comment ... -j NPG-TCP-30001` */
export function dispatchRule(
  protocol: Protocol,
  port: number,
  service: string | undefined,
  chain: ChainName,
): Rule {
  return {
    chain: ENTRY_CHAIN,
    protocol: proto(protocol),
    matches: [
      { module: protocol, options: [option('dport', String(port))] },
      // Only traffic addressed to the node itself is a NodePort hit (kube-proxy matches the same way).
      { module: 'addrtype', options: [option('dst-type', 'LOCAL')] },
      comment(COMMENTS.dispatch(protocol, port, service)),
    ],
    target: jump(chain),
  };
}

/** `-A NPG-TCP-30001 -s 203.0.113.0/24 -m comment --comment "nodeport-guard: allow office" -j RETURN` */
export function allowRule(chain: ChainName, cidr: Cidr, label: string | undefined): Rule {
  return {
    chain,
    source: { value: cidr, negated: false },
    matches: [comment(COMMENTS.allow(label))],
    target: jump('RETURN'),
  };
}

/** `-A NPG-TCP-30001 -p tcp -m comment --comment "nodeport-guard: block" -j REDIRECT --to-ports 65535` */
export function blockRule(chain: ChainName, protocol: Protocol, blackholePort: number): Rule {
  return {
    chain,
    protocol: proto(protocol),
    matches: [comment(COMMENTS.block)],
    target: jump('REDIRECT', option('to-ports', String(blackholePort))),
  };
}

/**
 * Audit mode's last rule: no target, so it only counts the first packet of every connection that would
 * have been blocked, and the packet carries on to kube-proxy. (Which sources they were is read from
 * conntrack by the engine: see audit.ts.)
 */
export function auditRule(chain: ChainName, protocol: Protocol): Rule {
  return { chain, protocol: proto(protocol), matches: [comment(COMMENTS.audit)] };
}

/** A PREROUTING rule that enters our chain, whatever its comment says. */
export function isEntryJump(rule: Rule): boolean {
  return rule.chain === HOOK_CHAIN && rule.target?.name === ENTRY_CHAIN;
}

/** kube-proxy's `-A PREROUTING ... -j KUBE-SERVICES`. */
export function isKubeServicesJump(rule: Rule): boolean {
  return rule.chain === HOOK_CHAIN && rule.target?.name === KUBE_SERVICES_CHAIN;
}

/** The text of the rule's `-m comment --comment`, if it has one. */
export function ruleComment(rule: Rule): string | undefined {
  for (const m of rule.matches) {
    if (m.module !== 'comment') continue;
    const o = m.options.find((x) => x.name === 'comment');
    if (o) return o.values.join(' ');
  }
  return undefined;
}
