// What a plan should tell the operator before anything is applied: sources the allow-list leaves out
// that they probably did not mean to block (this machine, the nodes, pods, load-balancer health checks),
// and conditions under which the guard would not work (a listener on the blackhole port, kube-proxy in
// nftables mode, an empty list). All inputs are parameters; the engine discovers them.
import type { Backend } from '../netfilter/model';
import { type Family, familyName, type Protocol, type ProxyMode } from '../vocabulary';
import { allowRulesOf, coverage } from './allow-list';
import { type CidrValue, parseCidr } from './cidr';
import type { DesiredGuard, GuardedPort } from './desired';
import type { FamilyGuardState } from './state';

/**
 * Load-balancer health-check sources that must reach a NodePort of a `type: LoadBalancer` service with
 * externalTrafficPolicy Cluster (with Local they probe the separate healthCheckNodePort instead).
 * GCP: documented probe ranges. Azure: the platform address 168.63.129.16. AWS NLB/CLB probe from
 * the load balancer's own addresses inside the VPC, so pass the VPC (or LB subnet) CIDR for AWS.
 */
export const KNOWN_HEALTH_CHECK_RANGES: Readonly<Record<'gcp' | 'azure', readonly string[]>> = {
  gcp: ['35.191.0.0/16', '130.211.0.0/22'],
  azure: ['168.63.129.16/32'],
};

export interface ListeningPort {
  readonly protocol: Protocol;
  readonly port: number;
}

export interface PlanChecks {
  /** Guard an empty allow-list anyway (it blocks every source). */
  readonly allowEmpty?: boolean;
  /** Addresses this machine (the app host) reaches the nodes from. */
  readonly appHostAddresses?: readonly string[];
  /** Every node's addresses (node-to-node and hairpin traffic uses them as source). */
  readonly nodeAddresses?: readonly string[];
  /** Pod CIDRs: pods reaching a NodePort through a node IP keep their pod address as source. */
  readonly podCidrs?: readonly string[];
  /** LB health-check sources (KNOWN_HEALTH_CHECK_RANGES, or the VPC CIDR on AWS). */
  readonly healthCheckRanges?: readonly string[];
  /** The node's listening sockets (`ss -Hltn` / `ss -Hlun`). Unknown when absent. */
  readonly listeningPorts?: readonly ListeningPort[];
  /** NodePorts kube-proxy serves over IPv6 on this node (from ip6tables-save). Unknown when absent. */
  readonly ipv6NodePorts?: readonly ListeningPort[];
  /** Every NodePort kube-proxy serves on this node, either family. Unknown when absent. */
  readonly nodePorts?: readonly ListeningPort[];
  /** The SSH port of each node of the workspace: guarding one cuts SSH off. */
  readonly sshPorts?: readonly NodeSshPort[];
  /** The cluster's NodePort range (kube-apiserver --service-node-port-range); default 30000-32767. */
  readonly nodePortRange?: PortRange;
}

export interface NodeSshPort {
  readonly node: string;
  readonly port: number;
}

export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/** kube-apiserver's default --service-node-port-range. */
export const DEFAULT_NODE_PORT_RANGE: PortRange = { from: 30000, to: 32767 };

export type PortIssueKind = 'port-is-ssh' | 'port-outside-nodeport-range' | 'port-not-a-nodeport';

/**
 * Why a guarded port is probably not the one meant: it is a node's SSH port (the REDIRECT matches
 * any local destination port, so the guard would cut SSH off for every source it does not allow),
 * it lies outside the cluster's NodePort range, or the node's kube-proxy serves no such NodePort.
 * `nodePorts` known (plan): the range is not checked, the node's own list says more. `node`: the
 * node planned, named "this node" in the SSH line. One line per problem, naming the port.
 */
export function portIssues(
  port: { readonly port: number; readonly protocol: Protocol },
  checks: Pick<PlanChecks, 'nodePorts' | 'sshPorts' | 'nodePortRange'>,
  node?: string,
): { readonly kind: PortIssueKind; readonly text: string }[] {
  const out: { kind: PortIssueKind; text: string }[] = [];
  const at = `${port.protocol}/${port.port}`;
  const ssh = port.protocol === 'tcp' ? (checks.sshPorts ?? []).filter((s) => s.port === port.port) : [];
  if (ssh.length > 0) {
    const names = ssh.map((s) => (s.node === node ? 'this node' : s.node));
    const shown =
      names.length > SHOWN
        ? `${names.slice(0, SHOWN).join(', ')} and ${names.length - SHOWN} more`
        : names.join(', ');
    out.push({
      kind: 'port-is-ssh',
      text: `${at}: ${port.port} is the SSH port of ${shown}: the guard would cut off SSH from every source it does not allow`,
    });
  }
  if (checks.nodePorts !== undefined) {
    if (!checks.nodePorts.some((n) => n.protocol === port.protocol && n.port === port.port))
      out.push({
        kind: 'port-not-a-nodeport',
        text: `${at}: ${port.port} is not a NodePort on ${node === undefined ? 'the node' : 'this node'}`,
      });
  } else {
    const range = checks.nodePortRange ?? DEFAULT_NODE_PORT_RANGE;
    if (port.port < range.from || port.port > range.to)
      out.push({
        kind: 'port-outside-nodeport-range',
        text: `${at}: ${port.port} is outside the NodePort range ${range.from}-${range.to}, so no Service can expose it as a NodePort`,
      });
  }
  return out;
}

export type PlanIssueKind =
  | 'kube-proxy-nftables'
  | 'kube-proxy-unknown'
  | 'kube-proxy-none'
  | 'backend-unknown'
  | 'empty-allow-list'
  | 'family-blocked'
  | 'ipv6-unguarded'
  | 'app-host-not-allowed'
  | 'node-addresses-not-allowed'
  | 'pod-cidr-not-allowed'
  | 'health-check-not-allowed'
  | 'blackhole-listener'
  | 'foreign-reference'
  | 'family-not-planned'
  | 'check-input-invalid'
  | 'nat-chain-before-guard'
  | 'nft-guard-unreadable'
  | PortIssueKind;

export interface PlanIssue {
  readonly kind: PlanIssueKind;
  readonly severity: 'warning' | 'error';
  readonly node: string;
  readonly port?: number;
  readonly protocol?: Protocol;
  readonly family?: Family;
  /** One line naming node, port and the problem. */
  readonly message: string;
}

const SHOWN = 5;

/**
 * What planIssues reads of a node's plan (plan.ts's PlanNodeInput and FamilyPlan fit it): stated
 * here so that the planner depends on its warnings and not the other way round.
 */
export interface IssueInput {
  readonly node: string;
  readonly current: readonly FamilyGuardState[];
  readonly desired: DesiredGuard;
  readonly kubeProxy: { readonly mode: ProxyMode; readonly backend: Backend };
  readonly checks?: PlanChecks;
}

export interface IssueFamily {
  readonly family: Family;
  readonly current: FamilyGuardState;
  readonly edits: readonly { readonly kind: string; readonly chain?: string }[];
}

export function planIssues(
  input: IssueInput,
  families: readonly IssueFamily[],
): { warnings: PlanIssue[]; errors: PlanIssue[] } {
  const issues: PlanIssue[] = [];
  const node = input.node;
  const checks = input.checks ?? {};
  const add = (issue: Omit<PlanIssue, 'node' | 'message'>, text: string) => {
    const where = issue.port === undefined ? '' : ` ${issue.protocol}/${issue.port}:`;
    issues.push({ ...issue, node, message: `${node}:${where} ${text}` });
  };

  switch (input.kubeProxy.mode) {
    case 'nftables':
      add(
        { kind: 'kube-proxy-nftables', severity: 'error' },
        'kube-proxy runs in nftables mode; an iptables guard would not reliably run before its dstnat chain (not supported yet)',
      );
      break;
    case 'unknown':
      add(
        { kind: 'kube-proxy-unknown', severity: 'warning' },
        'kube-proxy mode unknown; the guard is placed before any KUBE-SERVICES jump anyway',
      );
      break;
    case 'none':
      add({ kind: 'kube-proxy-none', severity: 'warning' }, 'no kube-proxy rules found on this node');
      break;
    case 'iptables':
    case 'ipvs':
      break;
  }
  if (input.kubeProxy.backend === 'unknown') {
    add(
      { kind: 'backend-unknown', severity: 'warning' },
      "kube-proxy's iptables backend (legacy or nft) is unknown; using the node's default iptables",
    );
  }

  const planned = new Set(families.map((f) => f.family));
  for (const c of input.current) {
    if (!planned.has(c.family) && (c.chains.length > 0 || c.entryJumps.length > 0)) {
      add(
        { kind: 'family-not-planned', severity: 'warning', family: c.family },
        `${familyName(c.family)} guard chains exist but ${familyName(c.family)} is not planned; left untouched`,
      );
    }
  }
  for (const f of families) {
    const removed = new Set(f.edits.filter((e) => e.kind === 'chain-remove').map((e) => e.chain));
    for (const ref of f.current.foreignReferences) {
      const fatal = removed.has(ref.target);
      add(
        { kind: 'foreign-reference', severity: fatal ? 'error' : 'warning', family: f.family },
        `${familyName(f.family)} ${ref.chain} rule ${ref.position} jumps to ${ref.target}, which is ours${fatal ? ' and must be removed: delete that rule first' : ''}`,
      );
    }
  }

  const addresses = (list: readonly string[] | undefined, what: string): CidrValue[] =>
    (list ?? []).flatMap((text, i) => {
      const r = parseCidr(text, `${what}[${i}]`);
      if (r.ok) return [r.value];
      add({ kind: 'check-input-invalid', severity: 'warning' }, `${r.error.message}; not checked`);
      return [];
    });
  const appHost = addresses(checks.appHostAddresses, 'appHostAddresses');
  const nodes = addresses(checks.nodeAddresses, 'nodeAddresses');
  const pods = addresses(checks.podCidrs, 'podCidrs');
  const probes = addresses(checks.healthCheckRanges, 'healthCheckRanges');

  // Only a node whose kube-proxy rules list its NodePorts can say a port is not one of them.
  const listsNodePorts = input.kubeProxy.mode === 'iptables' || input.kubeProxy.mode === 'ipvs';
  const portChecks = listsNodePorts ? checks : { ...checks, nodePorts: undefined };
  for (const p of input.desired.ports) {
    const at = { port: p.port, protocol: p.protocol } as const;
    for (const issue of portIssues(p, portChecks, node))
      issues.push({ kind: issue.kind, severity: 'warning', node, ...at, message: `${node}: ${issue.text}` });
    const v4 = p.allow.ipv4.length;
    const v6 = p.allow.ipv6.length;
    if (v4 + v6 === 0) {
      if (p.mode === 'audit') {
        add(
          { kind: 'empty-allow-list', severity: 'warning', ...at },
          'the allow-list is empty: audit will list every source',
        );
      } else {
        const allowed = checks.allowEmpty === true;
        add(
          { kind: 'empty-allow-list', severity: allowed ? 'warning' : 'error', ...at },
          `the allow-list is empty: every source will be blocked${allowed ? '' : ' (confirm with the allow-empty option)'}`,
        );
      }
    } else {
      for (const f of families) {
        if (allowRulesOf(p.allow, f.family).length > 0) continue;
        if (f.family === 'ipv6' && checks.ipv6NodePorts && !servesV6(checks.ipv6NodePorts, p)) continue;
        add(
          { kind: 'family-blocked', severity: 'warning', family: f.family, ...at },
          `the allow-list has no ${familyName(f.family)} entry: every ${familyName(f.family)} client will be ${p.mode === 'audit' ? 'listed' : 'blocked'}`,
        );
      }
    }
    if (!planned.has('ipv6') && checks.ipv6NodePorts && servesV6(checks.ipv6NodePorts, p)) {
      add(
        { kind: 'ipv6-unguarded', severity: 'warning', family: 'ipv6', ...at },
        'the NodePort is served over IPv6 but IPv6 is not guarded on this node: it stays open over IPv6',
      );
    }
    if (p.mode !== 'enforce') continue;

    for (const a of appHost.filter((x) => planned.has(x.family) && coverage(p.allow, x) !== 'all')) {
      add(
        { kind: 'app-host-not-allowed', severity: 'warning', ...at },
        `this machine's address ${a.address} is not allowed: probes from here will be refused`,
      );
    }
    const missingNodes = nodes.filter((x) => planned.has(x.family) && coverage(p.allow, x) !== 'all');
    if (missingNodes.length > 0) {
      add(
        { kind: 'node-addresses-not-allowed', severity: 'warning', ...at },
        `node addresses not allowed (node-to-node and hairpin traffic will be blocked): ${list(missingNodes)}`,
      );
    }
    for (const c of pods) {
      if (!planned.has(c.family)) continue;
      const how = coverage(p.allow, c);
      if (how === 'all') continue;
      add(
        { kind: 'pod-cidr-not-allowed', severity: 'warning', ...at },
        `pod CIDR ${c.cidr} is ${how === 'part' ? 'only partly' : 'not'} allowed: pods reaching the NodePort via a node address will be blocked`,
      );
    }
    for (const c of probes) {
      if (!planned.has(c.family) || coverage(p.allow, c) === 'all') continue;
      add(
        { kind: 'health-check-not-allowed', severity: 'warning', ...at },
        `load-balancer health-check range ${c.cidr} is not (fully) allowed: the LB may mark this node unhealthy`,
      );
    }
    if (checks.listeningPorts?.some((l) => l.protocol === p.protocol && l.port === p.blackholePort)) {
      add(
        { kind: 'blackhole-listener', severity: 'error', ...at },
        `something listens on blackhole port ${p.protocol}/${p.blackholePort}: blocked clients would reach it; pick another blackholePort`,
      );
    }
  }
  return {
    warnings: issues.filter((i) => i.severity === 'warning'),
    errors: issues.filter((i) => i.severity === 'error'),
  };
}

function servesV6(ports: readonly ListeningPort[], p: GuardedPort): boolean {
  return ports.some((x) => x.protocol === p.protocol && x.port === p.port);
}

function list(values: readonly CidrValue[]): string {
  const shown = values
    .slice(0, SHOWN)
    .map((v) => (v.prefix === (v.family === 'ipv4' ? 32 : 128) ? v.address : v.cidr));
  return values.length > SHOWN ? `${shown.join(', ')} and ${values.length - SHOWN} more` : shown.join(', ');
}
