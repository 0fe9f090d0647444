// kube-proxy's nftables-mode table (`table ip kube-proxy` / `ip6 kube-proxy`) into the project's
// one Topology, so that everything downstream (inspect's table and --json, the views) reads
// nftables mode as it reads iptables mode. The walk follows what the kernel does:
//
//   nat prerouting hook chain -> (jump) services [-> nodeports, older layouts]
//     -> `meta l4proto . th dport vmap @service-nodeports` -> element `tcp . 30001 : goto external-…`
//     -> external-…: mark-for-masquerade, short-circuits, then goto service-… (Cluster) / local-… (Local)
//     -> service-…: `numgen random mod N vmap { 0 : goto endpoint-…, … }` -> endpoint-…: `dnat to`
//   filter input hook chain -> nodeport-endpoints-check -> `vmap @no-endpoint-nodeports` (drop/reject)
//
// Only chains reached from a hook are read: stale chains kube-proxy has flushed but not yet
// deleted (and their names) never produce an endpoint. Rule objects are iptables' (`via`, `dnat`
// stay undefined); each step carries the nft rule as text instead.

import type {
  ClusterIpPath,
  Endpoint,
  MasqueradeMode,
  MasqueradeStep,
  NodePort,
  PathStep,
  StepKind,
  Topology,
} from '../kube/topology';
import type { Counters } from '../netfilter/model';
import { type Family, isProtocol, type Protocol } from '../vocabulary';
import type {
  NftChain,
  NftElement,
  NftRule,
  NftSelector,
  NftSet,
  NftStatement,
  NftTable,
  NftVerdict,
} from './model';

/** kube-proxy's table name in both families. */
export const KUBE_PROXY_TABLE = 'kube-proxy';
const MARK_MASQ_CHAIN = 'mark-for-masquerade';
const MAX_HOPS = 8;

export function tableFamily(table: NftTable): Family | undefined {
  return table.family === 'ip' ? 'ipv4' : table.family === 'ip6' ? 'ipv6' : undefined;
}

/** The iptables-mode role that a kube-proxy nftables chain plays (the views know those). */
export function nftStepKind(chain: string, hook?: string): StepKind {
  if (hook === 'prerouting') return 'PREROUTING';
  if (hook === 'output') return 'OUTPUT';
  if (hook === 'postrouting') return 'POSTROUTING';
  if (hook === 'input') return 'INPUT';
  if (chain === 'services') return 'KUBE-SERVICES';
  if (chain === 'nodeports') return 'KUBE-NODEPORTS';
  if (chain === MARK_MASQ_CHAIN) return 'KUBE-MARK-MASQ';
  if (chain === 'masquerading') return 'KUBE-POSTROUTING';
  if (chain === 'nodeport-endpoints-check') return 'KUBE-EXTERNAL-SERVICES';
  if (chain.startsWith('external-')) return 'KUBE-EXT';
  if (chain.startsWith('service-')) return 'KUBE-SVC';
  if (chain.startsWith('local-')) return 'KUBE-SVL';
  if (chain.startsWith('endpoint-')) return 'KUBE-SEP';
  if (chain.startsWith('firewall-')) return 'KUBE-FW';
  return 'KUBE-OTHER';
}

// `service-HASH-ns/name/proto/port` (and external-, local-): the port name may be empty.
const SERVICE_CHAIN = /^(?:external|service|local)-[A-Z0-9]{8}-([^/]+)\/([^/]+)\/(tcp|udp|sctp)\/(.*)$/;
// kube-proxy's ServicePortName.String() in element comments: `ns/name:port` or `ns/name`.
const SERVICE_COMMENT = /^([a-z0-9][-a-z0-9.]*\/[a-z0-9][-a-z0-9.]*)(?::([-a-z0-9]*))?$/;

/** `ns/name:port` (or `ns/name` for an unnamed port) from a service chain's name. */
export function serviceFromChain(chain: string): string | undefined {
  const m = SERVICE_CHAIN.exec(chain);
  if (!m) return undefined;
  return m[4] ? `${m[1]}/${m[2]}:${m[4]}` : `${m[1]}/${m[2]}`;
}

function serviceFromComment(comment: string | undefined): string | undefined {
  const m = comment === undefined ? null : SERVICE_COMMENT.exec(comment);
  if (!m) return undefined;
  return m[2] ? `${m[1]}:${m[2]}` : m[1];
}

const isPortKey = (k: NftSelector): boolean =>
  k.parts.length === 2 && /(^| )l4proto$/.test(k.parts[0]!) && /^(th|tcp|udp|sctp) dport$/.test(k.parts[1]!);
const isAddrPortKey = (k: NftSelector): boolean =>
  k.parts.length === 3 &&
  /^ip6? daddr$/.test(k.parts[0]!) &&
  /(^| )l4proto$/.test(k.parts[1]!) &&
  /^(th|tcp|udp|sctp) dport$/.test(k.parts[2]!);

function verdictOfRule(rule: NftRule): NftVerdict | undefined {
  let v: NftVerdict | undefined;
  for (const s of rule.statements) if (s.kind === 'verdict') v = s.verdict;
  return v;
}

/** The rule tests something (a match, a set lookup): it applies to some packets only. */
function conditional(rule: NftRule): boolean {
  return rule.statements.some((s) => s.kind === 'match' || s.kind === 'other');
}

function elementText(e: NftElement): string {
  const v = e.verdict;
  const value = v
    ? v.kind === 'jump' || v.kind === 'goto'
      ? `${v.kind} ${v.target}`
      : v.kind
    : (e.data ?? []).join(' . ');
  return `${e.key.join(' . ')}${value ? ` : ${value}` : ''}`;
}

interface Hop {
  readonly chain: NftChain;
  /** The rule that jumps here (absent for the hook chain). */
  readonly via?: NftRule;
}

interface Lookup {
  /** Hook chain first, the chain holding the lookup last. */
  readonly hops: readonly Hop[];
  readonly rule: NftRule;
  readonly key: NftSelector;
  readonly set?: NftSet;
  readonly mapName: string;
}

class Walk {
  readonly chains: ReadonlyMap<string, NftChain>;
  readonly sets: ReadonlyMap<string, NftSet>;
  readonly warnings: string[] = [];

  constructor(readonly table: NftTable) {
    this.chains = new Map(table.chains.map((c) => [c.name, c]));
    this.sets = new Map(table.sets.map((s) => [s.name, s]));
  }

  hookChains(type: string, hook: string): NftChain[] {
    return this.table.chains
      .filter((c) => c.base?.type === type && c.base.hook === hook)
      .sort((a, b) => a.base!.priority - b.base!.priority);
  }

  /**
   * Every named-map vmap lookup reachable by jump/goto from the hook chains, each with the
   * shortest chain path to it. Breadth first, every chain read once: linear in the rules, whatever
   * the ruleset's jumps look like.
   */
  lookups(hooks: readonly NftChain[]): Lookup[] {
    const found: Lookup[] = [];
    const seen = new Set<string>(hooks.map((h) => h.name));
    let queue: Hop[][] = hooks.map((h) => [{ chain: h }]);
    while (queue.length > 0) {
      const next: Hop[][] = [];
      for (const hops of queue) {
        const chain = hops[hops.length - 1]!.chain;
        for (const rule of chain.rules) {
          for (const s of rule.statements) {
            if (s.kind === 'vmap' && s.map.kind === 'named') {
              const set = this.sets.get(s.map.name);
              found.push({ hops, rule, key: s.key, mapName: s.map.name, ...(set ? { set } : {}) });
            }
            if (s.kind !== 'verdict' || (s.verdict.kind !== 'jump' && s.verdict.kind !== 'goto')) continue;
            const target = this.chains.get(s.verdict.target);
            if (!target || seen.has(target.name) || target.name === MARK_MASQ_CHAIN) continue;
            if (hops.length >= MAX_HOPS) continue;
            seen.add(target.name);
            next.push([...hops, { chain: target, via: rule }]);
          }
        }
      }
      queue = next;
    }
    return found;
  }

  step(chain: string, table: PathStep['table'], via: NftRule | undefined, extra?: string): PathStep {
    const c = this.chains.get(chain);
    const base = c?.base;
    const text = base
      ? `type ${base.type} hook ${base.hook} priority ${base.priorityText}${/^-?\d+$/.test(base.priorityText) ? '' : ` (${base.priority})`}${base.policy ? `; policy ${base.policy}` : ''}`
      : via
        ? `${via.text}${extra ? ` -> ${extra}` : ''}`
        : undefined;
    const counters: Counters | undefined = via?.counters;
    return {
      kind: nftStepKind(chain, base?.hook),
      table,
      chain,
      ...(text === undefined ? {} : { text }),
      ...(counters ? { counters } : {}),
    };
  }

  hopSteps(hops: readonly Hop[], table: PathStep['table']): PathStep[] {
    return hops.map((h) => this.step(h.chain.name, table, h.via));
  }
}

interface PolicyRead {
  readonly endpoints: Endpoint[];
  readonly sessionAffinity: boolean;
  readonly known: boolean;
  readonly notes: string[];
}

function endpointOf(
  walk: Walk,
  chainName: string,
  probability: number,
  notes: string[],
): Endpoint | undefined {
  const chain = walk.chains.get(chainName);
  if (!chain) {
    notes.push(`endpoint chain ${chainName} is not in the ruleset`);
    return undefined;
  }
  for (const rule of chain.rules) {
    for (const s of rule.statements) {
      if (s.kind !== 'dnat' || s.addr === undefined) continue;
      const v6 = s.addr.includes(':');
      const endpoint = s.port === undefined ? s.addr : v6 ? `[${s.addr}]:${s.port}` : `${s.addr}:${s.port}`;
      return {
        endpoint,
        address: s.addr,
        probability,
        sepChain: chainName,
        ...(s.port === undefined ? {} : { port: s.port }),
      };
    }
  }
  notes.push(`endpoint chain ${chainName} has no dnat rule`);
  return undefined;
}

/** The endpoints a service-… / local-… chain picks from, each with its share. */
function readPolicyChain(walk: Walk, chainName: string): PolicyRead {
  const notes: string[] = [];
  const chain = walk.chains.get(chainName);
  if (!chain)
    return {
      endpoints: [],
      sessionAffinity: false,
      known: false,
      notes: [`chain ${chainName} is not in the ruleset`],
    };
  let sessionAffinity = false;
  const shares = new Map<string, number>();
  let mod = 0;
  for (const rule of chain.rules) {
    const v = verdictOfRule(rule);
    const usesAffinity = rule.statements.some(
      (s) => s.kind === 'match' && s.right.kind === 'set' && s.right.name.startsWith('affinity-'),
    );
    if (usesAffinity && v && (v.kind === 'goto' || v.kind === 'jump')) {
      sessionAffinity = true;
      continue;
    }
    const pick = rule.statements.find(
      (s): s is Extract<NftStatement, { kind: 'vmap' }> => s.kind === 'vmap' && s.key.numgen !== undefined,
    );
    if (pick && pick.map.kind === 'anon' && mod === 0) {
      const ng = pick.key.numgen!;
      mod = ng.mod;
      for (const e of pick.map.elements) {
        const n = Number(e.key[0]);
        if (e.verdict?.kind !== 'goto' && e.verdict?.kind !== 'jump') continue;
        if (!Number.isInteger(n) || n < ng.offset || n >= ng.offset + ng.mod) {
          notes.push(`numgen element ${elementText(e)} is outside mod ${ng.mod}: never picked`);
          continue;
        }
        shares.set(e.verdict.target, (shares.get(e.verdict.target) ?? 0) + 1);
      }
      continue;
    }
    // One endpoint written as a plain goto (no numgen).
    if (
      mod === 0 &&
      v &&
      (v.kind === 'goto' || v.kind === 'jump') &&
      v.target.startsWith('endpoint-') &&
      !conditional(rule)
    ) {
      mod = 1;
      shares.set(v.target, 1);
    }
  }
  const endpoints: Endpoint[] = [];
  for (const [target, count] of shares) {
    const ep = endpointOf(walk, target, count / mod, notes);
    if (ep) endpoints.push(ep);
  }
  endpoints.sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0));
  return { endpoints, sessionAffinity, known: true, notes };
}

interface NoEndpointEntry {
  readonly element: NftElement;
  readonly lookup: Lookup;
}

function portKey(protocol: string, port: number): string {
  return `${protocol}/${port}`;
}

/** `tcp . 3001` into protocol and port, or undefined (with a warning) for anything else. */
function parsePortElement(
  e: NftElement,
  mapName: string,
  warnings: string[],
): [Protocol, number] | undefined {
  const [proto, portText] = e.key;
  const port = Number(portText);
  if (
    e.key.length !== 2 ||
    !proto ||
    !isProtocol(proto) ||
    !Number.isInteger(port) ||
    port < 1 ||
    port > 65535
  ) {
    warnings.push(`${mapName}: element ${elementText(e)} is not PROTOCOL . PORT; skipped`);
    return undefined;
  }
  return [proto, port];
}

function noEndpointAction(walk: Walk, v: NftVerdict | undefined): string {
  if (v?.kind !== 'goto' && v?.kind !== 'jump') return '';
  const rejects = walk.chains.get(v.target)?.rules.some((r) => r.statements.some((s) => s.kind === 'reject'));
  return rejects ? ' (rejected)' : '';
}

/** The Topology of one kube-proxy nftables table. */
export function analyzeNftTopology(table: NftTable): Topology {
  const walk = new Walk(table);
  const warnings = walk.warnings;
  const natHooks = walk.hookChains('nat', 'prerouting');
  const natLookups = walk.lookups(natHooks);
  const portLookups = natLookups.filter((l) => isPortKey(l.key));
  const filterLookups = walk.lookups(walk.hookChains('filter', 'input')).filter((l) => isPortKey(l.key));
  const serviceIps = [...natLookups, ...walk.lookups(walk.hookChains('nat', 'output'))].filter((l) =>
    isAddrPortKey(l.key),
  );

  if (natHooks.length === 0)
    warnings.push(`table ${table.family} ${table.name} has no nat prerouting hook chain`);
  else if (portLookups.length === 0 && walk.sets.has('service-nodeports'))
    warnings.push('no chain reached from nat prerouting looks up @service-nodeports: NodePorts not read');

  const noEndpoint = new Map<string, NoEndpointEntry>();
  for (const lookup of filterLookups) {
    for (const element of lookup.set?.elements ?? []) {
      const key = parsePortElement(element, lookup.mapName, warnings);
      if (key && !noEndpoint.has(portKey(...key))) noEndpoint.set(portKey(...key), { element, lookup });
    }
  }

  const outputHook = walk.hookChains('nat', 'output')[0];
  const outputLookups = outputHook ? walk.lookups([outputHook]) : [];
  // service chain + protocol -> the service-ips element that sends ClusterIP traffic there.
  const byService = new Map<string, { element: NftElement; lookup: Lookup }>();
  for (const lookup of serviceIps) {
    for (const element of lookup.set?.elements ?? []) {
      const v = element.verdict;
      if (v?.kind !== 'goto' && v?.kind !== 'jump') continue;
      const key = `${v.target} ${element.key[1]}`;
      if (!byService.has(key)) byService.set(key, { element, lookup });
    }
  }
  const clusterIpOf = (serviceChain: string, protocol: Protocol): ClusterIpPath | undefined => {
    const hit = byService.get(`${serviceChain} ${protocol}`);
    if (!hit) return undefined;
    const { element: e, lookup: l } = hit;
    const port = Number(e.key[2]);
    const fromOutput = outputLookups.find((o) => o.mapName === l.mapName);
    const path = [
      ...walk.hopSteps((fromOutput ?? l).hops, 'nat'),
      walk.step(serviceChain, 'nat', (fromOutput ?? l).rule, elementText(e)),
    ];
    return { address: e.key[0]!, ...(Number.isInteger(port) ? { port } : {}), path };
  };

  const filterSteps = (entry: NoEndpointEntry): PathStep[] => {
    const steps = walk.hopSteps(entry.lookup.hops, 'filter');
    const last = steps[steps.length - 1];
    if (last)
      steps[steps.length - 1] = {
        ...last,
        text: `${entry.lookup.rule.text} -> ${elementText(entry.element)}`,
      };
    return steps;
  };

  const nodePorts: NodePort[] = [];
  const seen = new Set<string>();
  for (const lookup of portLookups) {
    for (const element of lookup.set?.elements ?? []) {
      const key = parsePortElement(element, lookup.mapName, warnings);
      if (!key) continue;
      const [protocol, port] = key;
      const id = portKey(protocol, port);
      if (seen.has(id)) continue;
      seen.add(id);
      const notes: string[] = [];
      const path = walk.hopSteps(lookup.hops, 'nat');
      const v = element.verdict;
      if (v?.kind !== 'goto' && v?.kind !== 'jump') {
        notes.push(`${lookup.mapName}: ${elementText(element)} is not a jump to a service chain`);
        nodePorts.push(bare(protocol, port, path, notes, serviceFromComment(element.comment)));
        continue;
      }
      const target = v.target;
      path.push(walk.step(target, 'nat', lookup.rule, elementText(element)));
      const service = serviceFromChain(target) ?? serviceFromComment(noEndpoint.get(id)?.element.comment);
      let masquerade: MasqueradeMode = 'never';
      let etpLocal = false;
      let policy: string | undefined;
      let policyVia: NftRule | undefined;
      const shortCircuits: string[] = [];
      const ext = walk.chains.get(target);
      if (!ext) {
        warnings.push(
          `${lookup.mapName}: ${elementText(element)} goes to chain ${target}, which is not in the ruleset`,
        );
      } else if (target.startsWith('external-')) {
        for (const rule of ext.rules) {
          const rv = verdictOfRule(rule);
          if (rv?.kind !== 'jump' && rv?.kind !== 'goto') continue;
          const cond = conditional(rule);
          if (rv.target === MARK_MASQ_CHAIN) {
            masquerade = !cond ? 'always' : masquerade === 'always' ? 'always' : 'conditional';
            continue;
          }
          if (cond) {
            shortCircuits.push(rule.comment ? `${rule.comment}: ${rule.text}` : rule.text);
            continue;
          }
          policy = rv.target;
          policyVia = rule;
          break;
        }
        etpLocal = shortCircuits.length > 0 || (policy?.startsWith('local-') ?? false);
      } else {
        policy = target;
        etpLocal = target.startsWith('local-');
        if (ext.rules.some((r) => verdictOfRule(r)?.kind === 'jump' && conditional(r)))
          masquerade = 'conditional';
      }
      let endpoints: Endpoint[] = [];
      let known = ext !== undefined;
      let sessionAffinity = false;
      if (policy && policy !== target) path.push(walk.step(policy, 'nat', policyVia));
      if (policy) {
        const read = readPolicyChain(walk, policy);
        endpoints = read.endpoints;
        known = read.known;
        sessionAffinity = read.sessionAffinity;
        notes.push(...read.notes);
      }
      const ne = noEndpoint.get(id);
      let noEndpoints = known && endpoints.length === 0;
      if (ne) {
        noEndpoints = true;
        endpoints = [];
        path.push(...filterSteps(ne));
        notes.push(
          `external traffic to this port finds no endpoint here: ${ne.lookup.mapName} ${elementText(ne.element)}${noEndpointAction(walk, ne.element.verdict)}`,
        );
      } else if (ext && !policy) {
        noEndpoints = true;
        notes.push(`${target} has no rule that sends external traffic on: it falls through`);
      }
      if (etpLocal && shortCircuits.length > 0 && (ne || !policy)) {
        const cluster = target.replace(/^external-/, 'service-');
        const inner = readPolicyChain(walk, cluster).endpoints.map((e) => e.endpoint);
        notes.push(
          `pod and node-local clients are short-circuited to ${cluster}${inner.length ? ` (${inner.join(', ')})` : ''}`,
        );
      }
      const clusterChain = policy?.startsWith('service-')
        ? policy
        : target.replace(/^(external|local)-/, 'service-');
      const clusterIp = clusterIpOf(clusterChain, protocol);
      nodePorts.push({
        port,
        protocol,
        ...(service === undefined ? {} : { service }),
        path,
        externalTrafficPolicyLocal: etpLocal,
        endpoints,
        endpointsKnown: known,
        noEndpoints,
        masquerade,
        sessionAffinity,
        foreign: [],
        ...(clusterIp ? { clusterIp } : {}),
        notes,
      });
    }
  }

  // NodePorts of services without any endpoint are only in the no-endpoint map (reject).
  const lookupHops = portLookups[0]?.hops;
  for (const [id, ne] of noEndpoint) {
    if (seen.has(id)) continue;
    const key = parsePortElement(ne.element, ne.lookup.mapName, []);
    if (!key) continue;
    const path = [...(lookupHops ? walk.hopSteps(lookupHops, 'nat') : []), ...filterSteps(ne)];
    nodePorts.push(
      bare(
        key[0],
        key[1],
        path,
        [
          `no endpoints: ${ne.lookup.mapName} ${elementText(ne.element)}${noEndpointAction(walk, ne.element.verdict)}`,
        ],
        serviceFromComment(ne.element.comment),
      ),
    );
  }

  nodePorts.sort(
    (a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0),
  );
  const masquerade = readMasquerade(walk);
  return {
    mode: 'nftables',
    layout: 'unknown',
    backend: { backend: 'unknown', source: 'none', otherBackendPresent: false },
    nodePorts,
    foreign: [],
    ...(masquerade ? { masquerade } : {}),
    warnings,
  };
}

function bare(
  protocol: Protocol,
  port: number,
  path: PathStep[],
  notes: string[],
  service: string | undefined,
): NodePort {
  return {
    port,
    protocol,
    ...(service === undefined ? {} : { service }),
    path,
    externalTrafficPolicyLocal: false,
    endpoints: [],
    endpointsKnown: true,
    noEndpoints: true,
    masquerade: 'never',
    sessionAffinity: false,
    foreign: [],
    notes,
  };
}

/** nat postrouting -> masquerading, and the mark that mark-for-masquerade sets. */
function readMasquerade(walk: Walk): MasqueradeStep | undefined {
  const hook = walk.hookChains('nat', 'postrouting')[0];
  if (!hook) return undefined;
  const path: PathStep[] = [walk.step(hook.name, 'nat', undefined)];
  const jump = hook.rules.find((r) => verdictOfRule(r)?.kind === 'jump');
  const target = jump ? verdictOfRule(jump) : undefined;
  if (jump && target && (target.kind === 'jump' || target.kind === 'goto'))
    path.push(walk.step(target.target, 'nat', jump));
  const markRule = walk.chains
    .get(MARK_MASQ_CHAIN)
    ?.rules.find((r) => r.statements.some((s) => s.kind === 'mark-set'));
  const m = markRule ? /(?:\bor\b|\|)\s*(0x[0-9a-f]+|\d+)/i.exec(markRule.text) : null;
  const mark = m ? `0x${Number(m[1]).toString(16)}` : undefined;
  return { path, ...(mark ? { mark: `${mark}/${mark}` } : {}) };
}
