// kube-proxy ipvs mode: the iptables rules of writeIptablesRules() in pkg/proxy/ipvs/proxier.go
// (v1.27-v1.30), the ipsets those rules match (filled as syncService would), and the virtual
// servers `ipvsadm -Ln` would list. NodePort traffic only gets marked for masquerade in nat
// KUBE-NODE-PORT; IPVS itself picks the backend at LOCAL_IN, which is why the guard's PREROUTING
// REDIRECT still works here.
import { joinHostPort } from './chain-names';
import { writeForwardAccepts, writeMasqueradeRules } from './common-rules';
import { categorize, isLocalPolicy } from './endpoints';
import { sortedServices } from './iptables-current';
import { chainLine, LineBuffer, markHex, quoted } from './line-buffer';
import type { SyncParts } from './sync-parts';
import type { KubeProxyOptions, ServiceEndpoint, ServiceProtocol } from './types';

type SetType = 'hash:ip,port,ip' | 'hash:ip,port' | 'hash:ip,port,net' | 'bitmap:port' | 'hash:ip';

interface SetInfo {
  readonly name: string;
  readonly type: SetType;
  readonly comment: string;
}

/** ipsetInfo, in kube-proxy's order. */
const SETS: readonly SetInfo[] = [
  {
    name: 'KUBE-LOOP-BACK',
    type: 'hash:ip,port,ip',
    comment: 'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose',
  },
  {
    name: 'KUBE-CLUSTER-IP',
    type: 'hash:ip,port',
    comment: 'Kubernetes service cluster ip + port for masquerade purpose',
  },
  {
    name: 'KUBE-EXTERNAL-IP',
    type: 'hash:ip,port',
    comment: 'Kubernetes service external ip + port for masquerade and filter purpose',
  },
  {
    name: 'KUBE-EXTERNAL-IP-LOCAL',
    type: 'hash:ip,port',
    comment: 'Kubernetes service external ip + port with externalTrafficPolicy=local',
  },
  { name: 'KUBE-LOAD-BALANCER', type: 'hash:ip,port', comment: 'Kubernetes service lb portal' },
  {
    name: 'KUBE-LOAD-BALANCER-FW',
    type: 'hash:ip,port',
    comment: 'Kubernetes service load balancer ip + port for load balancer with sourceRange',
  },
  {
    name: 'KUBE-LOAD-BALANCER-LOCAL',
    type: 'hash:ip,port',
    comment: 'Kubernetes service load balancer ip + port with externalTrafficPolicy=local',
  },
  {
    name: 'KUBE-LOAD-BALANCER-SOURCE-IP',
    type: 'hash:ip,port,ip',
    comment: 'Kubernetes service load balancer ip + port + source IP for packet filter purpose',
  },
  {
    name: 'KUBE-LOAD-BALANCER-SOURCE-CIDR',
    type: 'hash:ip,port,net',
    comment: 'Kubernetes service load balancer ip + port + source cidr for packet filter purpose',
  },
  {
    name: 'KUBE-NODE-PORT-TCP',
    type: 'bitmap:port',
    comment: 'Kubernetes nodeport TCP port for masquerade purpose',
  },
  {
    name: 'KUBE-NODE-PORT-LOCAL-TCP',
    type: 'bitmap:port',
    comment: 'Kubernetes nodeport TCP port with externalTrafficPolicy=local',
  },
  {
    name: 'KUBE-NODE-PORT-UDP',
    type: 'bitmap:port',
    comment: 'Kubernetes nodeport UDP port for masquerade purpose',
  },
  {
    name: 'KUBE-NODE-PORT-LOCAL-UDP',
    type: 'bitmap:port',
    comment: 'Kubernetes nodeport UDP port with externalTrafficPolicy=local',
  },
  {
    name: 'KUBE-NODE-PORT-SCTP-HASH',
    type: 'hash:ip,port',
    comment: "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'",
  },
  {
    name: 'KUBE-NODE-PORT-LOCAL-SCTP-HASH',
    type: 'hash:ip,port',
    comment: "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'",
  },
  { name: 'KUBE-HEALTH-CHECK-NODE-PORT', type: 'bitmap:port', comment: 'Kubernetes health check node port' },
  { name: 'KUBE-IPVS-IPS', type: 'hash:ip', comment: 'Addresses on the ipvs interface' },
];

/** ipsetWithIptablesChain, in kube-proxy's order (Local sets before their catch-all sets). */
const SET_RULES: readonly {
  set: string;
  table: 'nat' | 'filter';
  from: string;
  to: string;
  match: string;
  proto?: ServiceProtocol;
}[] = [
  { set: 'KUBE-LOOP-BACK', table: 'nat', from: 'KUBE-POSTROUTING', to: 'MASQUERADE', match: 'dst,dst,src' },
  {
    set: 'KUBE-LOAD-BALANCER',
    table: 'nat',
    from: 'KUBE-SERVICES',
    to: 'KUBE-LOAD-BALANCER',
    match: 'dst,dst',
  },
  {
    set: 'KUBE-LOAD-BALANCER-LOCAL',
    table: 'nat',
    from: 'KUBE-LOAD-BALANCER',
    to: 'RETURN',
    match: 'dst,dst',
  },
  {
    set: 'KUBE-NODE-PORT-LOCAL-TCP',
    table: 'nat',
    from: 'KUBE-NODE-PORT',
    to: 'RETURN',
    match: 'dst',
    proto: 'tcp',
  },
  {
    set: 'KUBE-NODE-PORT-TCP',
    table: 'nat',
    from: 'KUBE-NODE-PORT',
    to: 'KUBE-MARK-MASQ',
    match: 'dst',
    proto: 'tcp',
  },
  {
    set: 'KUBE-NODE-PORT-LOCAL-UDP',
    table: 'nat',
    from: 'KUBE-NODE-PORT',
    to: 'RETURN',
    match: 'dst',
    proto: 'udp',
  },
  {
    set: 'KUBE-NODE-PORT-UDP',
    table: 'nat',
    from: 'KUBE-NODE-PORT',
    to: 'KUBE-MARK-MASQ',
    match: 'dst',
    proto: 'udp',
  },
  {
    set: 'KUBE-NODE-PORT-LOCAL-SCTP-HASH',
    table: 'nat',
    from: 'KUBE-NODE-PORT',
    to: 'RETURN',
    match: 'dst,dst',
    proto: 'sctp',
  },
  {
    set: 'KUBE-NODE-PORT-SCTP-HASH',
    table: 'nat',
    from: 'KUBE-NODE-PORT',
    to: 'KUBE-MARK-MASQ',
    match: 'dst,dst',
    proto: 'sctp',
  },
  {
    set: 'KUBE-LOAD-BALANCER-FW',
    table: 'filter',
    from: 'KUBE-PROXY-FIREWALL',
    to: 'KUBE-SOURCE-RANGES-FIREWALL',
    match: 'dst,dst',
  },
  {
    set: 'KUBE-LOAD-BALANCER-SOURCE-CIDR',
    table: 'filter',
    from: 'KUBE-SOURCE-RANGES-FIREWALL',
    to: 'RETURN',
    match: 'dst,dst,src',
  },
  {
    set: 'KUBE-LOAD-BALANCER-SOURCE-IP',
    table: 'filter',
    from: 'KUBE-SOURCE-RANGES-FIREWALL',
    to: 'RETURN',
    match: 'dst,dst,src',
  },
];

/** NewIPSet: IPv6 sets are renamed KUBE-6-..., cut to ipset's 31 characters. */
export function ipsetName(base: string, family: KubeProxyOptions['family']): string {
  return family === 'ipv6' ? base.replace('KUBE-', 'KUBE-6-').slice(0, 31) : base;
}

/** Entries per (IPv4) set name, in insertion order without duplicates. */
export type IpsetEntries = ReadonlyMap<string, readonly string[]>;

export function ipvsSetEntries(opts: KubeProxyOptions): IpsetEntries {
  const entries = new Map<string, string[]>(SETS.map((s) => [s.name, []]));
  const add = (set: string, entry: string) => {
    const list = entries.get(set)!;
    if (!list.includes(entry)) list.push(entry);
  };
  for (const svc of sortedServices(opts.services)) {
    const proto = svc.protocol;
    const eps = categorize(svc, opts.nodeName);
    const local = isLocalPolicy(svc);
    add('KUBE-CLUSTER-IP', `${svc.clusterIP},${proto}:${svc.port}`);
    add('KUBE-IPVS-IPS', svc.clusterIP);
    for (const ep of eps.local) add('KUBE-LOOP-BACK', `${ep.ip},${proto}:${ep.port},${ep.ip}`);
    for (const lbip of svc.loadBalancerIPs ?? []) {
      add('KUBE-IPVS-IPS', lbip);
      add('KUBE-LOAD-BALANCER', `${lbip},${proto}:${svc.port}`);
      if (local) add('KUBE-LOAD-BALANCER-LOCAL', `${lbip},${proto}:${svc.port}`);
      const ranges = svc.loadBalancerSourceRanges ?? [];
      if (ranges.length > 0) add('KUBE-LOAD-BALANCER-FW', `${lbip},${proto}:${svc.port}`);
      for (const cidr of ranges)
        add('KUBE-LOAD-BALANCER-SOURCE-CIDR', `${lbip},${proto}:${svc.port},${cidr}`);
    }
    if (svc.nodePort !== undefined) {
      const np = String(svc.nodePort);
      switch (proto) {
        case 'tcp':
        case 'udp': {
          const upper = proto.toUpperCase();
          add(`KUBE-NODE-PORT-${upper}`, np);
          if (local) add(`KUBE-NODE-PORT-LOCAL-${upper}`, np);
          break;
        }
        case 'sctp':
          add('KUBE-NODE-PORT-SCTP-HASH', `${opts.nodeIp},sctp:${np}`);
          if (local) add('KUBE-NODE-PORT-LOCAL-SCTP-HASH', `${opts.nodeIp},sctp:${np}`);
          break;
      }
    }
    if (svc.healthCheckNodePort !== undefined)
      add('KUBE-HEALTH-CHECK-NODE-PORT', String(svc.healthCheckNodePort));
  }
  return entries;
}

export function syncIpvs(opts: KubeProxyOptions): SyncParts {
  const mark = markHex(opts.masqueradeBit ?? 14);
  const entries = ipvsSetEntries(opts);
  const name = (base: string) => ipsetName(base, opts.family);
  const comment = (base: string) => quoted(SETS.find((s) => s.name === base)!.comment);
  const nonEmpty = (base: string) => (entries.get(base) ?? []).length > 0;
  const natChains = new LineBuffer();
  const natRules = new LineBuffer();
  const filterChains = new LineBuffer();
  const filterRules = new LineBuffer();

  for (const c of [
    'KUBE-SERVICES',
    'KUBE-POSTROUTING',
    'KUBE-NODE-PORT',
    'KUBE-LOAD-BALANCER',
    'KUBE-MARK-MASQ',
  ])
    natChains.write(chainLine(c));
  for (const c of [
    'KUBE-FORWARD',
    'KUBE-NODE-PORT',
    'KUBE-PROXY-FIREWALL',
    'KUBE-SOURCE-RANGES-FIREWALL',
    'KUBE-IPVS-FILTER',
    'KUBE-IPVS-OUT-FILTER',
  ])
    filterChains.write(chainLine(c));

  natRules.write(
    '-A',
    'KUBE-SERVICES',
    '-s',
    opts.family === 'ipv6' ? '::1/128' : '127.0.0.0/8',
    '-j',
    'RETURN',
  );
  for (const r of SET_RULES) {
    if (!nonEmpty(r.set)) continue;
    const out = r.table === 'filter' ? filterRules : natRules;
    out.write(
      '-A',
      r.from,
      r.proto ? ['-p', r.proto] : [],
      '-m',
      'comment',
      '--comment',
      comment(r.set),
      '-m',
      'set',
      '--match-set',
      name(r.set),
      r.match,
      '-j',
      r.to,
    );
  }
  if (nonEmpty('KUBE-CLUSTER-IP')) {
    natRules.write(
      '-A',
      'KUBE-SERVICES',
      '-m',
      'comment',
      '--comment',
      comment('KUBE-CLUSTER-IP'),
      '-m',
      'set',
      '--match-set',
      name('KUBE-CLUSTER-IP'),
      'dst,dst',
      '!',
      '-s',
      opts.clusterCidr,
      '-j',
      'KUBE-MARK-MASQ',
    );
  }
  natRules.write('-A', 'KUBE-SERVICES', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'KUBE-NODE-PORT');
  natRules.write('-A', 'KUBE-LOAD-BALANCER', '-j', 'KUBE-MARK-MASQ');
  filterRules.write('-A', 'KUBE-SOURCE-RANGES-FIREWALL', '-j', 'DROP');
  for (const set of ['KUBE-CLUSTER-IP', 'KUBE-LOAD-BALANCER']) {
    if (nonEmpty(set))
      natRules.write('-A', 'KUBE-SERVICES', '-m', 'set', '--match-set', name(set), 'dst,dst', '-j', 'ACCEPT');
  }
  writeForwardAccepts(filterRules, mark);
  filterRules.write(
    '-A',
    'KUBE-NODE-PORT',
    '-m',
    'comment',
    '--comment',
    comment('KUBE-HEALTH-CHECK-NODE-PORT'),
    '-m',
    'set',
    '--match-set',
    name('KUBE-HEALTH-CHECK-NODE-PORT'),
    'dst',
    '-j',
    'ACCEPT',
  );
  for (const set of ['KUBE-LOAD-BALANCER', 'KUBE-CLUSTER-IP', 'KUBE-EXTERNAL-IP', 'KUBE-EXTERNAL-IP-LOCAL']) {
    filterRules.write(
      '-A',
      'KUBE-IPVS-FILTER',
      '-m',
      'set',
      '--match-set',
      name(set),
      'dst,dst',
      '-j',
      'RETURN',
    );
  }
  filterRules.write(
    '-A',
    'KUBE-IPVS-FILTER',
    '-m',
    'set',
    '--match-set',
    name('KUBE-HEALTH-CHECK-NODE-PORT'),
    'dst',
    '-j',
    'RETURN',
  );
  filterRules.write(
    '-A',
    'KUBE-IPVS-FILTER',
    '-m',
    'conntrack',
    '--ctstate',
    'NEW',
    '-m',
    'set',
    '--match-set',
    name('KUBE-IPVS-IPS'),
    'dst',
    '-j',
    'REJECT',
  );
  writeMasqueradeRules(natRules, mark, opts.randomFully);

  return {
    order: ['nat', 'filter'],
    nat: { chains: natChains.lines, rules: natRules.lines },
    filter: { chains: filterChains.lines, rules: filterRules.lines },
  };
}

/**
 * `ipset restore` input: every set kube-proxy creates (util/ipset CreateSet with its defaults),
 * then the entries. Sets of both families can live in one namespace (KUBE-6-* names).
 */
export function renderIpsetRestore(opts: KubeProxyOptions): string {
  const entries = ipvsSetEntries(opts);
  const family = opts.family === 'ipv6' ? 'inet6' : 'inet';
  let out = '';
  for (const s of SETS) {
    const opt = s.type === 'bitmap:port' ? 'range 0-65535' : `family ${family} hashsize 1024 maxelem 65536`;
    out += `create ${ipsetName(s.name, opts.family)} ${s.type} ${opt}\n`;
  }
  for (const s of SETS) {
    for (const e of entries.get(s.name) ?? []) out += `add ${ipsetName(s.name, opts.family)} ${e}\n`;
  }
  return out;
}

interface VirtualServer {
  readonly proto: ServiceProtocol;
  readonly ip: string;
  readonly port: number;
  readonly reals: readonly ServiceEndpoint[];
}

/** The virtual servers kube-proxy would program: cluster IP, load-balancer IPs, node IP:NodePort. */
export function virtualServers(opts: KubeProxyOptions): VirtualServer[] {
  const out: VirtualServer[] = [];
  for (const svc of sortedServices(opts.services)) {
    const eps = categorize(svc, opts.nodeName);
    const external = isLocalPolicy(svc) ? eps.local : eps.cluster;
    out.push({ proto: svc.protocol, ip: svc.clusterIP, port: svc.port, reals: eps.cluster });
    for (const lbip of svc.loadBalancerIPs ?? [])
      out.push({ proto: svc.protocol, ip: lbip, port: svc.port, reals: external });
    if (svc.nodePort !== undefined)
      out.push({ proto: svc.protocol, ip: opts.nodeIp, port: svc.nodePort, reals: external });
  }
  return out;
}

/** `ipvsadm -Ln` text (rr scheduler, masquerading forwarder, weight 1, no connections). */
export function renderIpvsadm(opts: KubeProxyOptions): string {
  let out = 'IP Virtual Server version 1.2.1 (size=4096)\n';
  out += 'Prot LocalAddress:Port Scheduler Flags\n';
  out += '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
  for (const vs of virtualServers(opts)) {
    out += `${vs.proto.toUpperCase()}  ${joinHostPort(vs.ip, vs.port)} rr\n`;
    for (const r of vs.reals) {
      out += `  -> ${joinHostPort(r.ip, r.port).padEnd(28)} ${'Masq'.padEnd(7)} ${'1'.padEnd(6)} ${'0'.padEnd(10)} ${'0'.padEnd(10)}\n`;
    }
  }
  return out;
}
