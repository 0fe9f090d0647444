// The ClusterIP walk of a NodePort's service (nat OUTPUT -> KUBE-SERVICES -> KUBE-SVC-*), the path
// node-local clients and pods take, shown beside the NodePort path in the diagram.
import { ruleComment } from '../netfilter/decode';
import type { Rule } from '../netfilter/model';
import { ruleDestination, ruleTargetId, ruleTargetName } from '../netfilter/rule-view';
import type { ChainIndex, ChainView } from './chain-index';
import { hookStep, stepVia } from './path-steps';
import { singleDestinationPort } from './rule-facts';
import type { ClusterIpPath, PathStep } from './topology';

/**
 * KUBE-SERVICES rules by the KUBE-SVC-* chain they jump to, built in one pass: by chain id, and
 * by name for a target no chain of the table has.
 */
interface ClusterIpRules {
  readonly byId: (Rule | undefined)[];
  readonly byName: Map<string, Rule>;
}

function indexClusterIpRules(nat: ChainIndex, view: ChainView): ClusterIpRules {
  const out: ClusterIpRules = {
    byId: new Array<Rule | undefined>(view.ids.chains.length).fill(undefined),
    byName: new Map(),
  };
  for (const rule of nat.get('KUBE-SERVICES')?.rules ?? []) {
    const id = ruleTargetId(rule, view.ids);
    let target: string | undefined;
    if (id >= 0) {
      if (view.kinds[id] !== 'KUBE-SVC') continue;
    } else {
      target = ruleTargetName(rule);
      if (target === undefined || !target.startsWith('KUBE-SVC-')) continue;
    }
    const destination = ruleDestination(rule);
    if (!destination || destination.negated) continue;
    const prev = target === undefined ? out.byId[id] : out.byName.get(target);
    // External-IP and load-balancer rules may jump to the same chain; the cluster IP one says so.
    if (!prev || (!ruleComment(prev)?.endsWith('cluster IP') && ruleComment(rule)?.endsWith('cluster IP'))) {
      if (target === undefined) out.byId[id] = rule;
      else out.byName.set(target, rule);
    }
  }
  return out;
}

/** The address of a host route (`/32`, `/128`); other CIDRs as written. */
function hostOf(cidr: string): string {
  if (cidr.endsWith('/32')) return cidr.slice(0, -3);
  return cidr.endsWith('/128') ? cidr.slice(0, -4) : cidr;
}

/**
 * ClusterIP paths by KUBE-SVC-* chain (its name, and its id in `view` or -1); the nat OUTPUT front
 * they share is built once.
 */
export function clusterIpPaths(
  nat: ChainIndex,
  view: ChainView,
): (svcChain: string, svcChainId: number) => ClusterIpPath | undefined {
  const rules = indexClusterIpRules(nat, view);
  const front: PathStep[] = [hookStep('OUTPUT', nat)];
  const outputJump = nat.get('OUTPUT')?.rules.find((r) => r.target?.name === 'KUBE-SERVICES');
  if (outputJump) front.push(stepVia('KUBE-SERVICES', outputJump));
  return (svcChain, svcChainId) => {
    const rule = svcChainId >= 0 ? rules.byId[svcChainId] : rules.byName.get(svcChain);
    const destination = rule && ruleDestination(rule);
    if (!rule || !destination) return undefined;
    const port = singleDestinationPort(rule);
    const path = front.concat(stepVia(svcChain, rule));
    const address = hostOf(destination.value);
    // No conditional spread: this runs once per NodePort.
    return port === undefined ? { address, path } : { address, port, path };
  };
}
