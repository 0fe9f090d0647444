// ipvs mode: the nat table only marks NodePort traffic for masquerade; which ports are NodePorts is
// in the ipsets KUBE-NODE-PORT-{TCP,UDP,SCTP-HASH} (and -LOCAL- variants for
// externalTrafficPolicy Local), and the backends are IPVS real servers of a virtual service on the
// node's addresses at that port.
import type { Rule } from '../netfilter/model';
import type { Protocol } from '../vocabulary';
import type { ChainIndex } from './chain-index';
import { sortEndpoints } from './endpoint-order';
import { joinHostPort } from './host-port';
import type { IpsetList } from './ipset-parse';
import type { IpvsTable } from './ipvs-parse';
import { stepVia } from './path-steps';
import { setMatches } from './rule-facts';
import type { ServiceWalk } from './service-chains';
import type { Endpoint, MasqueradeMode, PathStep } from './topology';

// IPv6 sets carry a `KUBE-6-` prefix, and ipset names stop at 31 characters
// (KUBE-6-NODE-PORT-LOCAL-SCTP-HAS), so the protocol is read from the front of the suffix.
const NODE_PORT_SET = /^KUBE-(?:6-)?NODE-PORT-(LOCAL-)?(TCP|UDP|SCTP)/;

export interface IpvsNodePort {
  readonly port: number;
  readonly protocol: Protocol;
  readonly local: boolean;
  /** The KUBE-NODE-PORT rule that marks this port's packets for masquerade. */
  readonly masqRule?: Rule;
  /** Read from `ipvsadm -Ln` alone (no `ipset list`): see inferIpvsNodePorts. */
  readonly inferred?: boolean;
}

/** `30001`, `tcp:30001`, `198.18.0.2,sctp:30005`: the port is the number after the last `:` or `,`. */
function memberPort(entry: string): number | undefined {
  const m = /(?:^|[:,])(\d{1,5})$/.exec(entry);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n >= 1 && n <= 65535 ? n : undefined;
}

interface SetRef {
  readonly name: string;
  readonly protocol: Protocol;
  readonly local: boolean;
  readonly rule?: Rule;
}

function refOf(name: string, rule?: Rule): SetRef | undefined {
  const m = NODE_PORT_SET.exec(name);
  if (!m) return undefined;
  const protocol = (m[2] ?? '').toLowerCase() as Protocol;
  return { name, protocol, local: m[1] !== undefined, ...(rule ? { rule } : {}) };
}

/**
 * The node-port sets this table uses: the ones its KUBE-NODE-PORT chain names (that also picks
 * the family's sets out of a dual-stack `ipset list`); for an excerpt without that chain, every
 * node-port set listed.
 */
function setRefs(index: ChainIndex, ipsets: IpsetList): SetRef[] {
  const refs: SetRef[] = [];
  for (const rule of index.get('KUBE-NODE-PORT')?.rules ?? []) {
    for (const s of setMatches(rule)) {
      const ref = s.negated ? undefined : refOf(s.setName, rule);
      if (ref) refs.push(ref);
    }
  }
  if (refs.length > 0) return refs;
  return ipsets.sets.flatMap((s) => refOf(s.name) ?? []);
}

/** Kubernetes' default --service-node-port-range: where an inferred NodePort must lie. */
const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

/**
 * Without `ipset list`: the NodePorts `ipvsadm -Ln` shows. kube-proxy makes a virtual server for a
 * NodePort on every node address (one on a one-address node), so a virtual port in the NodePort
 * range is taken for one: a ClusterIP, external or LB port there is rare, and the warning says the
 * list was inferred. ETP Local cannot be seen.
 */
export function inferIpvsNodePorts(index: ChainIndex, ipvs: IpvsTable): readonly IpvsNodePort[] {
  const addresses = new Map<string, { port: number; protocol: Protocol; seen: Set<string> }>();
  for (const vs of ipvs.services) {
    if (vs.kind !== 'address' || vs.port < NODE_PORT_RANGE.min || vs.port > NODE_PORT_RANGE.max) continue;
    const key = `${vs.port}/${vs.protocol}`;
    const entry = addresses.get(key) ?? { port: vs.port, protocol: vs.protocol, seen: new Set<string>() };
    entry.seen.add(vs.address);
    addresses.set(key, entry);
  }
  // The masquerade rule of each protocol's (not -LOCAL-) set, as the ipset path finds it.
  const masq = new Map<Protocol, Rule>();
  for (const rule of index.get('KUBE-NODE-PORT')?.rules ?? []) {
    if (rule.target?.name !== 'KUBE-MARK-MASQ') continue;
    for (const s of setMatches(rule)) {
      const ref = s.negated ? undefined : refOf(s.setName, rule);
      if (ref && !ref.local && !masq.has(ref.protocol)) masq.set(ref.protocol, rule);
    }
  }
  return [...addresses.values()].map((a) => {
    const m = masq.get(a.protocol);
    return {
      port: a.port,
      protocol: a.protocol,
      local: false,
      inferred: true,
      ...(m ? { masqRule: m } : {}),
    };
  });
}

/** Every NodePort listed in kube-proxy's ipsets, with whether it is in a -LOCAL- set. */
export function ipvsNodePorts(
  index: ChainIndex,
  ipsets: IpsetList,
  warnings: string[],
): readonly IpvsNodePort[] {
  const byName = new Map(ipsets.sets.map((s) => [s.name, s] as const));
  const found = new Map<string, { port: number; protocol: Protocol; local: boolean; masqRule?: Rule }>();
  for (const ref of setRefs(index, ipsets)) {
    const set = byName.get(ref.name);
    if (!set) {
      warnings.push(`ipset ${ref.name} (named by KUBE-NODE-PORT) is not in the ipset list`);
      continue;
    }
    const masqRule = !ref.local && ref.rule?.target?.name === 'KUBE-MARK-MASQ' ? ref.rule : undefined;
    for (const member of set.members) {
      const port = memberPort(member.entry);
      if (port === undefined) {
        warnings.push(`ipset ${set.name} line ${member.line}: member "${member.entry}" has no port`);
        continue;
      }
      const key = `${port}/${ref.protocol}`;
      const prev = found.get(key);
      const local = ref.local || (prev?.local ?? false);
      const masq = prev?.masqRule ?? masqRule;
      found.set(key, { port, protocol: ref.protocol, local, ...(masq ? { masqRule: masq } : {}) });
    }
  }
  return [...found.values()];
}

function ipvsEndpoints(
  table: IpvsTable,
  port: number,
  protocol: Protocol,
): { endpoints: Endpoint[]; persistent: boolean } {
  const byEndpoint = new Map<string, { address: string; port: number; weight: number }>();
  let persistent = false;
  for (const vs of table.services) {
    if (vs.kind !== 'address' || vs.protocol !== protocol || vs.port !== port) continue;
    persistent ||= /\bpersistent\b/.test(vs.flags);
    // One virtual service per node address, each with the same real servers: list each once.
    for (const rs of vs.realServers) {
      const endpoint = joinHostPort(rs.address, rs.port);
      if (!byEndpoint.has(endpoint))
        byEndpoint.set(endpoint, { address: rs.address, port: rs.port, weight: rs.weight });
    }
  }
  const total = [...byEndpoint.values()].reduce((sum, e) => sum + Math.max(0, e.weight), 0);
  const endpoints = [...byEndpoint.entries()].map(([endpoint, e]) => ({
    endpoint,
    address: e.address,
    port: e.port,
    // IPVS schedulers other than (w)rr do not pick by weight alone; the weight share is the best
    // static estimate and the one the diagram shows.
    probability: total > 0 ? Math.max(0, e.weight) / total : 0,
    weight: e.weight,
  }));
  return { endpoints, persistent };
}

export function walkIpvsNodePort(
  np: IpvsNodePort,
  nodePortStep: PathStep,
  ipvs: IpvsTable | undefined,
): ServiceWalk {
  const steps: PathStep[] = [nodePortStep];
  const notes: string[] = [];
  // kube-proxy puts the -LOCAL- RETURN before the masquerade rule: local-policy ports keep the
  // client address.
  const masqRule = np.local ? undefined : np.masqRule;
  let masquerade: MasqueradeMode = 'never';
  if (masqRule) {
    masquerade = 'always';
    steps.push(stepVia('KUBE-MARK-MASQ', masqRule));
  }
  steps.push({ kind: 'IPVS', table: 'ipvs', chain: 'IPVS' });
  const picked = ipvs ? ipvsEndpoints(ipvs, np.port, np.protocol) : { endpoints: [], persistent: false };
  const endpoints = picked.endpoints;
  sortEndpoints(endpoints);
  if (!ipvs) notes.push('ipvs mode: endpoints need `ipvsadm -Ln` output');
  if (np.inferred)
    notes.push(
      'inferred from `ipvsadm -Ln` (a virtual port in the NodePort range), not from kube-proxy’s ipsets; externalTrafficPolicy not known',
    );
  return {
    steps,
    externalTrafficPolicyLocal: np.local,
    endpoints,
    endpointsKnown: ipvs !== undefined,
    noEndpoints: ipvs !== undefined && endpoints.every((e) => e.probability === 0),
    masquerade,
    sessionAffinity: picked.persistent,
    notes,
  };
}
