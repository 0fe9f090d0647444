// kube-proxy nftables mode: a transcription of setupNFTables() and syncProxyRules() in
// pkg/proxy/nftables/proxier.go, in the layout of kube-proxy's own TestOverallNFTablesRules
// (filter-*-pre-dnat at -110, filter-input/forward/output at 0, cluster-ips-check,
// service-/nodeport-endpoints-check, nodeport-ips), for the features the lab uses (ClusterIP,
// NodePort, LoadBalancer with source ranges, externalIPs, ClientIP affinity, externalTrafficPolicy
// Local, services without endpoints). Not modelled: internalTrafficPolicy Local, topology hints,
// terminating endpoints, masqueradeAll, partial syncs, a source range that holds the node IP.
//
// The output is the list of statements of ONE transaction, as knftables writes it for one full
// sync (`add table`, `add chain` + `flush chain`, `add rule`, `add map` + `flush map`, `add element`);
// `renderNftDump` leaves out the flushes, which gives the text of knftables' Fake.Dump() that the
// proxier tests compare (e2e/lab/fixtures/corpus/nftables-k8s-test-*.nft-f.txt).
import { joinHostPort, servicePortName } from './chain-names';
import { categorize, isLocalPolicy } from './endpoints';
import { sortedServices } from './iptables-current';
import { markHex } from './line-buffer';
import { isNftServiceChain, nftEndpointBase, nftServiceBase } from './nftables-names';
import type { IpFamily, KubeProxyOptions, ServiceEndpoint, ServicePortSpec } from './types';

export const NFT_TABLE = 'kube-proxy';

export type NftFamily = 'ip' | 'ip6';

export function nftFamily(family: IpFamily): NftFamily {
  return family === 'ipv6' ? 'ip6' : 'ip';
}

interface BaseChain {
  readonly name: string;
  readonly type: 'filter' | 'nat';
  readonly hook: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
  /** As knftables' Fake prints it (dstnat = -100, srcnat = 100; "dstnat-10" = -110). */
  readonly priority: number;
}

/** nftablesBaseChains: the chains hooked into netfilter, with their priorities. */
export const NFT_BASE_CHAINS: readonly BaseChain[] = [
  { name: 'filter-prerouting-pre-dnat', type: 'filter', hook: 'prerouting', priority: -110 },
  { name: 'filter-output-pre-dnat', type: 'filter', hook: 'output', priority: -110 },
  { name: 'filter-forward', type: 'filter', hook: 'forward', priority: 0 },
  { name: 'filter-input', type: 'filter', hook: 'input', priority: 0 },
  { name: 'filter-output', type: 'filter', hook: 'output', priority: 0 },
  { name: 'nat-prerouting', type: 'nat', hook: 'prerouting', priority: -100 },
  { name: 'nat-output', type: 'nat', hook: 'output', priority: -100 },
  { name: 'nat-postrouting', type: 'nat', hook: 'postrouting', priority: 100 },
];

/** nftablesJumpChains: [to, from, extra], in the order kube-proxy adds the jump rules. */
const JUMP_CHAINS: readonly (readonly [string, string, string])[] = [
  ['nodeport-endpoints-check', 'filter-input', 'ct state new'],
  ['service-endpoints-check', 'filter-input', 'ct state new'],
  ['service-endpoints-check', 'filter-forward', 'ct state new'],
  ['service-endpoints-check', 'filter-output', 'ct state new'],
  ['firewall-check', 'filter-prerouting-pre-dnat', 'ct state new'],
  ['firewall-check', 'filter-output-pre-dnat', 'ct state new'],
  ['services', 'nat-output', ''],
  ['services', 'nat-prerouting', ''],
  ['masquerading', 'nat-postrouting', ''],
  ['cluster-ips-check', 'filter-forward', 'ct state new'],
  ['cluster-ips-check', 'filter-output', 'ct state new'],
];

/** The sets and maps kube-proxy refills on every full sync (nftElementStorage.reset). */
const REFILLED: readonly (readonly ['set' | 'map', string])[] = [
  ['set', 'cluster-ips'],
  ['map', 'service-ips'],
  ['map', 'firewall-ips'],
  ['map', 'no-endpoint-services'],
  ['map', 'no-endpoint-nodeports'],
  ['map', 'service-nodeports'],
];

export interface NftRuleset {
  readonly family: NftFamily;
  /** The statements of one full sync, in kube-proxy's order (flushes included). */
  readonly statements: readonly string[];
  /** Service, external, firewall, local and endpoint chains this sync uses (names with a '/'). */
  readonly serviceChains: readonly string[];
}

class Tx {
  readonly lines: string[] = [];
  readonly created = new Set<string>();
  constructor(readonly prefix: string) {}

  add(what: string): void {
    this.lines.push(`add ${what.replace('%', this.prefix)}`);
  }
  flush(what: string): void {
    this.lines.push(`flush ${what.replace('%', this.prefix)}`);
  }
  /** ensureChain: add + flush once per transaction. */
  chain(name: string): void {
    if (this.created.has(name)) return;
    this.created.add(name);
    this.add(`chain % ${name}`);
    this.flush(`chain % ${name}`);
  }
  rule(chain: string, rule: string, comment?: string): void {
    this.add(`rule % ${chain} ${rule}${comment === undefined ? '' : ` comment "${comment}"`}`);
  }
  element(container: string, key: string, value?: string, comment?: string): void {
    const c = comment === undefined ? '' : ` comment "${comment}"`;
    this.add(`element % ${container} { ${key}${c}${value === undefined ? '' : ` : ${value}`} }`);
  }
}

interface Ctx {
  readonly tx: Tx;
  readonly ipX: NftFamily;
  readonly addrType: 'ipv4_addr' | 'ipv6_addr';
  readonly opts: KubeProxyOptions;
  readonly active: Set<string>;
}

function setup(ctx: Ctx): void {
  const { tx, ipX, addrType, opts } = ctx;
  // 0x4000 as the proxier tests' fake proxier has it; a real kube-proxy formats `%#08x`
  // (0x00004000): the same mark, and `nft list` prints 0x00004000 for both.
  const mark = markHex(opts.masqueradeBit ?? 14);
  tx.add('table % { comment "rules for kube-proxy" ; }');
  for (const bc of NFT_BASE_CHAINS) {
    tx.add(`chain % ${bc.name} { type ${bc.type} hook ${bc.hook} priority ${bc.priority} ; }`);
    tx.flush(`chain % ${bc.name}`);
  }
  for (const [to, from, extra] of JUMP_CHAINS) {
    tx.chain(to);
    tx.rule(from, `${extra ? `${extra} ` : ''}jump ${to}`);
  }
  for (const c of ['services', 'cluster-ips-check', 'masquerading', 'mark-for-masquerade']) tx.chain(c);
  tx.rule('mark-for-masquerade', `mark set mark or ${mark}`);
  tx.rule('masquerading', `mark and ${mark} == 0 return`);
  tx.rule('masquerading', `mark set mark xor ${mark}`);
  tx.rule('masquerading', 'masquerade fully-random');

  tx.add(`set % cluster-ips { type ${addrType} ; comment "Active ClusterIPs" ; }`);
  tx.rule(
    'cluster-ips-check',
    `${ipX} daddr @cluster-ips reject`,
    'Reject traffic to invalid ports of ClusterIPs',
  );
  if (opts.serviceCidr)
    tx.rule(
      'cluster-ips-check',
      `${ipX} daddr { ${opts.serviceCidr} } drop`,
      'Drop traffic to unallocated ClusterIPs',
    );

  // --nodeport-addresses "primary" (the default since 1.31): the node's IP of this family.
  tx.add(`set % nodeport-ips { type ${addrType} ; comment "IPs that accept NodePort traffic" ; }`);
  tx.flush('set % nodeport-ips');
  tx.element('nodeport-ips', opts.nodeIp);

  tx.add(
    `map % no-endpoint-services { type ${addrType} . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }`,
  );
  tx.add(
    'map % no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }',
  );
  tx.add('chain % reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }');
  tx.flush('chain % reject-chain');
  tx.rule('reject-chain', 'reject');
  tx.rule('service-endpoints-check', `${ipX} daddr . meta l4proto . th dport vmap @no-endpoint-services`);
  tx.rule(
    'nodeport-endpoints-check',
    `${ipX} daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports`,
  );

  tx.add(
    `map % firewall-ips { type ${addrType} . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }`,
  );
  tx.chain('firewall-check');
  tx.rule('firewall-check', `${ipX} daddr . meta l4proto . th dport vmap @firewall-ips`);

  tx.add(
    `map % service-ips { type ${addrType} . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
  );
  tx.add(
    'map % service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }',
  );
  tx.rule('services', `${ipX} daddr . meta l4proto . th dport vmap @service-ips`);
  tx.rule('services', `${ipX} daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports`);
  for (const [kind, name] of REFILLED) tx.flush(`${kind} % ${name}`);
}

function ensureActive(ctx: Ctx, chain: string): void {
  ctx.active.add(chain);
  ctx.tx.chain(chain);
}

function writeService(ctx: Ctx, svc: ServicePortSpec): void {
  const { tx, ipX, addrType, opts } = ctx;
  const proto = svc.protocol;
  const name = servicePortName(svc);
  const base = nftServiceBase(svc);
  const clusterChain = `service-${base}`;
  const localChain = `local-${base}`;
  const externalChain = `external-${base}`;
  const firewallChain = `firewall-${base}`;
  const eps = categorize(svc, opts.nodeName);
  const local = isLocalPolicy(svc);
  const hasEndpoints = eps.hasEndpoints;
  const epChain = (ep: ServiceEndpoint) => `endpoint-${nftEndpointBase(svc, ep.ip, ep.port)}`;
  const affinitySet = (ep: ServiceEndpoint) => `affinity-${nftEndpointBase(svc, ep.ip, ep.port)}`;
  const externalIPs = svc.externalIPs ?? [];
  const lbIPs = svc.loadBalancerIPs ?? [];
  const externallyAccessible = svc.nodePort !== undefined || externalIPs.length > 0 || lbIPs.length > 0;
  const affinity = svc.sessionAffinityTimeoutSeconds;

  for (const ep of eps.reachable) ensureActive(ctx, epChain(ep));
  const usesClusterChain = eps.cluster.length > 0; // internalTrafficPolicy is always Cluster here
  if (usesClusterChain) ensureActive(ctx, clusterChain);
  const usesLocalChain = eps.local.length > 0 && local;
  if (usesLocalChain) ensureActive(ctx, localChain);
  const hasInternalEndpoints = hasEndpoints;
  const hasExternalEndpoints = hasEndpoints && (!local || eps.local.length > 0);
  const externalPolicyChain = local ? localChain : clusterChain;
  const usesExternalChain = hasEndpoints && externallyAccessible;
  if (usesExternalChain) ensureActive(ctx, externalChain);
  const internalVerdict = hasEndpoints ? 'drop' : 'goto reject-chain';
  const externalVerdict = hasEndpoints ? 'drop' : 'goto reject-chain';
  const key = (ip: string, port: number) => `${ip} . ${proto} . ${port}`;

  tx.element('cluster-ips', svc.clusterIP);
  if (hasInternalEndpoints) tx.element('service-ips', key(svc.clusterIP, svc.port), `goto ${clusterChain}`);
  else tx.element('no-endpoint-services', key(svc.clusterIP, svc.port), internalVerdict, name);

  for (const ip of externalIPs) {
    if (hasEndpoints) tx.element('service-ips', key(ip, svc.port), `goto ${externalChain}`);
    if (!hasExternalEndpoints) tx.element('no-endpoint-services', key(ip, svc.port), externalVerdict, name);
  }

  const sourceRanges = svc.loadBalancerSourceRanges ?? [];
  const usesFirewall = lbIPs.length > 0 && sourceRanges.length > 0;
  if (usesFirewall) ensureActive(ctx, firewallChain);
  for (const ip of lbIPs) {
    if (hasEndpoints) tx.element('service-ips', key(ip, svc.port), `goto ${externalChain}`);
    if (usesFirewall) tx.element('firewall-ips', key(ip, svc.port), `goto ${firewallChain}`);
  }
  if (!hasExternalEndpoints)
    for (const ip of lbIPs) tx.element('no-endpoint-services', key(ip, svc.port), externalVerdict, name);

  if (svc.nodePort !== undefined) {
    const np = `${proto} . ${svc.nodePort}`;
    if (hasEndpoints) tx.element('service-nodeports', np, `goto ${externalChain}`);
    if (!hasExternalEndpoints) tx.element('no-endpoint-nodeports', np, externalVerdict, name);
  }

  if (hasInternalEndpoints)
    tx.rule(
      clusterChain,
      `${ipX} daddr ${svc.clusterIP} ${ipX} saddr != ${opts.clusterCidr} jump mark-for-masquerade`,
    );

  if (usesExternalChain) {
    if (!local) tx.rule(externalChain, 'jump mark-for-masquerade');
    else {
      tx.rule(
        externalChain,
        `${ipX} saddr ${opts.clusterCidr} goto ${clusterChain}`,
        'short-circuit pod traffic',
      );
      tx.rule(externalChain, 'fib saddr type local jump mark-for-masquerade', 'masquerade local traffic');
      tx.rule(externalChain, `fib saddr type local goto ${clusterChain}`, 'short-circuit local traffic');
    }
    if (hasExternalEndpoints) tx.rule(externalChain, `goto ${externalPolicyChain}`);
  }

  if (usesFirewall) tx.rule(firewallChain, `${ipX} saddr != { ${sourceRanges.join(' , ')} } drop`);

  if (affinity !== undefined)
    for (const ep of eps.reachable)
      tx.add(
        `set % ${affinitySet(ep)} { type ${addrType} ; flags dynamic,timeout ; timeout ${affinity}s ; }`,
      );

  const balance = (chain: string, endpoints: readonly ServiceEndpoint[]) => {
    if (affinity !== undefined)
      for (const ep of endpoints) tx.rule(chain, `${ipX} saddr @${affinitySet(ep)} goto ${epChain(ep)}`);
    const vmap = endpoints.map((ep, i) => `${i} : goto ${epChain(ep)}`).join(' , ');
    tx.rule(chain, `numgen random mod ${endpoints.length} vmap { ${vmap} }`);
  };
  if (usesClusterChain) balance(clusterChain, eps.cluster);
  if (usesLocalChain) balance(localChain, eps.local);

  for (const ep of eps.reachable) {
    const chain = epChain(ep);
    tx.rule(chain, `${ipX} saddr ${ep.ip} jump mark-for-masquerade`);
    if (affinity !== undefined) tx.rule(chain, `update @${affinitySet(ep)} { ${ipX} saddr }`);
    tx.rule(chain, `meta l4proto ${proto} dnat to ${joinHostPort(ep.ip, ep.port)}`);
  }
}

/** One full sync of kube-proxy's table for these services on this node. */
export function nftablesRuleset(opts: KubeProxyOptions): NftRuleset {
  const family = nftFamily(opts.family);
  const ctx: Ctx = {
    tx: new Tx(`${family} ${NFT_TABLE}`),
    ipX: family,
    addrType: family === 'ip6' ? 'ipv6_addr' : 'ipv4_addr',
    opts,
    active: new Set(),
  };
  setup(ctx);
  for (const svc of sortedServices(opts.services)) writeService(ctx, svc);
  return { family, statements: ctx.tx.lines, serviceChains: [...ctx.active] };
}

/**
 * The table as knftables' Fake.Dump() shows it after this sync (no flush statements); `stale`
 * chains still exist, flushed, until a later sync deletes them (as in TestSyncProxyRulesRepeated).
 */
export function renderNftDump(r: NftRuleset, stale: readonly string[] = []): string {
  const lines = r.statements.filter((l) => !l.startsWith('flush '));
  for (const c of stale) lines.push(`add chain ${r.family} ${NFT_TABLE} ${c}`);
  return `${lines.join('\n')}\n`;
}

export interface NftSyncOptions {
  /**
   * kube-proxy's first sync after it starts (proxier.flushed false): every base chain is added
   * and deleted first, so it is re-created with kube-proxy's type, hook and priority.
   */
  readonly restart?: boolean;
  /** Service chains that exist but this sync does not use: flushed now, deleted by a later sync. */
  readonly stale?: readonly string[];
}

/** The `nft -f` input of one sync: one transaction. */
export function renderNftSync(r: NftRuleset, o: NftSyncOptions = {}): string {
  const t = `${r.family} ${NFT_TABLE}`;
  const out: string[] = [];
  const [table, ...rest] = r.statements;
  out.push(table!);
  if (o.restart)
    for (const bc of NFT_BASE_CHAINS) out.push(`add chain ${t} ${bc.name}`, `delete chain ${t} ${bc.name}`);
  out.push(...rest);
  for (const c of o.stale ?? []) out.push(`flush chain ${t} ${c}`);
  return `${out.join('\n')}\n`;
}

/** The transaction a sync runs first: delete the chains an earlier sync left flushed. */
export function renderNftDeleteStale(family: NftFamily, chains: readonly string[]): string {
  return chains.map((c) => `delete chain ${family} ${NFT_TABLE} ${c}\n`).join('');
}

export interface NftChainState {
  readonly name: string;
  readonly rules: number;
}

/**
 * From `nft -j list table FAMILY kube-proxy`: each chain with its rule count. Pure, so the stale
 * logic is tested without a kernel.
 */
export function nftChainsOf(json: string): NftChainState[] {
  const parsed = JSON.parse(json) as {
    nftables?: readonly Record<string, { name?: string; chain?: string }>[];
  };
  const counts = new Map<string, number>();
  for (const item of parsed.nftables ?? []) {
    if (item.chain?.name !== undefined && !counts.has(item.chain.name)) counts.set(item.chain.name, 0);
    const rule = item.rule;
    if (rule?.chain !== undefined) counts.set(rule.chain, (counts.get(rule.chain) ?? 0) + 1);
  }
  return [...counts].map(([name, rules]) => ({ name, rules }));
}

/**
 * What kube-proxy does with service chains the new sync no longer uses: those still holding rules
 * are flushed in this sync (`flush`), those an earlier sync already emptied are deleted first
 * (`remove`): kube-proxy waits a second between the two, because before kernel 6.2 a chain a map
 * element just stopped pointing at cannot be deleted in the same breath.
 */
export function staleChains(
  existing: readonly NftChainState[],
  active: readonly string[],
): { readonly flush: string[]; readonly remove: string[] } {
  const keep = new Set(active);
  const flush: string[] = [];
  const remove: string[] = [];
  for (const c of existing) {
    if (!isNftServiceChain(c.name) || keep.has(c.name)) continue;
    (c.rules > 0 ? flush : remove).push(c.name);
  }
  return { flush, remove };
}
