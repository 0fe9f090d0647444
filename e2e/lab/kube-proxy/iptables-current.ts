// kube-proxy iptables mode, v1.24+ layout: a transcription of syncProxyRules() in
// pkg/proxy/iptables/proxier.go (v1.28-v1.30) for the features the lab uses (ClusterIP, NodePort,
// LoadBalancer with source ranges, externalTrafficPolicy Local). Returns the chains and rules of one
// full sync, in the order kube-proxy writes them.
import { endpointChain, joinHostPort, serviceChain, servicePortName } from './chain-names';
import { writeForwardAccepts, writeMasqueradeRules } from './common-rules';
import { categorize, isLocalPolicy, LARGE_CLUSTER_ENDPOINTS, totalEndpoints } from './endpoints';
import { chainLine, LineBuffer, markHex, probability, quoted } from './line-buffer';
import type { SyncParts } from './sync-parts';
import type { KubeProxyOptions, ServiceEndpoint, ServicePortSpec } from './types';

export function syncCurrentLayout(opts: KubeProxyOptions): SyncParts {
  const mark = markHex(opts.masqueradeBit ?? 14);
  const isIPv6 = opts.family === 'ipv6';
  const filterChains = new LineBuffer();
  const filterRules = new LineBuffer();
  const natChains = new LineBuffer();
  const natRules = new LineBuffer();

  for (const c of [
    'KUBE-SERVICES',
    'KUBE-EXTERNAL-SERVICES',
    'KUBE-FORWARD',
    'KUBE-NODEPORTS',
    'KUBE-PROXY-FIREWALL',
  ])
    filterChains.write(chainLine(c));
  for (const c of ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ'])
    natChains.write(chainLine(c));

  writeMasqueradeRules(natRules, mark, opts.randomFully);

  // localhostNodePorts defaults to true for IPv4: kube-proxy then carries kubelet's anti-martian rule.
  if (!isIPv6) {
    filterChains.write(chainLine('KUBE-FIREWALL'));
    filterRules.write(
      '-A',
      'KUBE-FIREWALL',
      '-m',
      'comment',
      '--comment',
      quoted('block incoming localnet connections'),
      '-d',
      '127.0.0.0/8',
      '!',
      '-s',
      '127.0.0.0/8',
      '-m',
      'conntrack',
      '!',
      '--ctstate',
      'RELATED,ESTABLISHED,DNAT',
      '-j',
      'DROP',
    );
  }

  const largeCluster = totalEndpoints(opts.services) > LARGE_CLUSTER_ENDPOINTS;
  const ctx = { opts, largeCluster, filterRules, natChains, natRules };
  for (const svc of sortedServices(opts.services)) writeService(ctx, svc);

  // Finally, tail-call to the nodePorts chain (nodePortAddresses unset: match all local addresses).
  natRules.write(
    '-A',
    'KUBE-SERVICES',
    '-m',
    'comment',
    '--comment',
    quoted('kubernetes service nodeports; NOTE: this must be the last rule in this chain'),
    '-m',
    'addrtype',
    '--dst-type',
    'LOCAL',
    isIPv6 ? ['!', '-d', '::1/128'] : [],
    '-j',
    'KUBE-NODEPORTS',
  );

  filterRules.write('-A', 'KUBE-FORWARD', '-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP');
  writeForwardAccepts(filterRules, mark);

  return {
    order: ['filter', 'nat'],
    filter: { chains: filterChains.lines, rules: filterRules.lines },
    nat: { chains: natChains.lines, rules: natRules.lines },
  };
}

/** kube-proxy walks a Go map (random order); we sort by service port name to stay deterministic. */
export function sortedServices(services: readonly ServicePortSpec[]): ServicePortSpec[] {
  return [...services].sort((a, b) => {
    const x = `${servicePortName(a)}/${a.protocol}`;
    const y = `${servicePortName(b)}/${b.protocol}`;
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

interface Ctx {
  readonly opts: KubeProxyOptions;
  readonly largeCluster: boolean;
  readonly filterRules: LineBuffer;
  readonly natChains: LineBuffer;
  readonly natRules: LineBuffer;
}

function writeService(ctx: Ctx, svc: ServicePortSpec): void {
  const { opts, filterRules, natChains, natRules } = ctx;
  const proto = svc.protocol;
  const name = servicePortName(svc);
  const eps = categorize(svc, opts.nodeName);
  const clusterPolicyChain = serviceChain('KUBE-SVC-', name, proto);
  const localPolicyChain = serviceChain('KUBE-SVL-', name, proto);
  const externalTrafficChain = serviceChain('KUBE-EXT-', name, proto);
  const fwChain = serviceChain('KUBE-FW-', name, proto);
  const localPolicy = isLocalPolicy(svc);
  const usesClusterPolicyChain = eps.cluster.length > 0;
  const usesLocalPolicyChain = eps.local.length > 0 && localPolicy;
  const hasInternalEndpoints = eps.hasEndpoints;
  const externalPolicyChain = localPolicy ? localPolicyChain : clusterPolicyChain;
  const hasExternalEndpoints = eps.hasEndpoints && (!localPolicy || eps.local.length > 0);
  const lbIPs = svc.loadBalancerIPs ?? [];
  const sourceRanges = svc.loadBalancerSourceRanges ?? [];
  const externallyAccessible = svc.nodePort !== undefined || lbIPs.length > 0;
  const usesExternalTrafficChain = eps.hasEndpoints && externallyAccessible;
  const usesFWChain = eps.hasEndpoints && lbIPs.length > 0 && sourceRanges.length > 0;
  const loadBalancerTrafficChain = usesFWChain ? fwChain : externalTrafficChain;

  let externalFilterTarget = '';
  let externalFilterComment = '';
  const internalFilterComment = quoted(`${name} has no endpoints`);
  if (!eps.hasEndpoints) {
    externalFilterTarget = 'REJECT';
    externalFilterComment = internalFilterComment;
  } else if (!hasExternalEndpoints) {
    externalFilterTarget = 'DROP';
    externalFilterComment = quoted(`${name} has no local endpoints`);
  }

  const portMatch = ['-m', proto, '-p', proto];
  if (hasInternalEndpoints) {
    natRules.write(
      '-A',
      'KUBE-SERVICES',
      '-m',
      'comment',
      '--comment',
      quoted(`${name} cluster IP`),
      portMatch,
      '-d',
      svc.clusterIP,
      '--dport',
      String(svc.port),
      '-j',
      clusterPolicyChain,
    );
  } else {
    filterRules.write(
      '-A',
      'KUBE-SERVICES',
      '-m',
      'comment',
      '--comment',
      internalFilterComment,
      portMatch,
      '-d',
      svc.clusterIP,
      '--dport',
      String(svc.port),
      '-j',
      'REJECT',
    );
  }

  for (const lbip of lbIPs) {
    if (eps.hasEndpoints) {
      natRules.write(
        '-A',
        'KUBE-SERVICES',
        '-m',
        'comment',
        '--comment',
        quoted(`${name} loadbalancer IP`),
        portMatch,
        '-d',
        lbip,
        '--dport',
        String(svc.port),
        '-j',
        loadBalancerTrafficChain,
      );
    }
    if (usesFWChain) {
      filterRules.write(
        '-A',
        'KUBE-PROXY-FIREWALL',
        '-m',
        'comment',
        '--comment',
        quoted(`${name} traffic not accepted by ${fwChain}`),
        portMatch,
        '-d',
        lbip,
        '--dport',
        String(svc.port),
        '-j',
        'DROP',
      );
    }
  }
  if (!hasExternalEndpoints) {
    for (const lbip of lbIPs) {
      filterRules.write(
        '-A',
        'KUBE-EXTERNAL-SERVICES',
        '-m',
        'comment',
        '--comment',
        externalFilterComment,
        portMatch,
        '-d',
        lbip,
        '--dport',
        String(svc.port),
        '-j',
        externalFilterTarget,
      );
    }
  }

  if (svc.nodePort !== undefined) {
    if (eps.hasEndpoints) {
      natRules.write(
        '-A',
        'KUBE-NODEPORTS',
        '-m',
        'comment',
        '--comment',
        name,
        portMatch,
        '--dport',
        String(svc.nodePort),
        '-j',
        externalTrafficChain,
      );
    }
    if (!hasExternalEndpoints) {
      filterRules.write(
        '-A',
        'KUBE-EXTERNAL-SERVICES',
        '-m',
        'comment',
        '--comment',
        externalFilterComment,
        '-m',
        'addrtype',
        '--dst-type',
        'LOCAL',
        portMatch,
        '--dport',
        String(svc.nodePort),
        '-j',
        externalFilterTarget,
      );
    }
  }

  if (svc.healthCheckNodePort !== undefined) {
    filterRules.write(
      '-A',
      'KUBE-NODEPORTS',
      '-m',
      'comment',
      '--comment',
      quoted(`${name} health check node port`),
      '-m',
      'tcp',
      '-p',
      'tcp',
      '--dport',
      String(svc.healthCheckNodePort),
      '-j',
      'ACCEPT',
    );
  }

  if (hasInternalEndpoints) {
    natRules.write(
      '-A',
      clusterPolicyChain,
      '-m',
      'comment',
      '--comment',
      quoted(`${name} cluster IP`),
      portMatch,
      '-d',
      svc.clusterIP,
      '--dport',
      String(svc.port),
      '!',
      '-s',
      opts.clusterCidr,
      '-j',
      'KUBE-MARK-MASQ',
    );
  }

  if (usesExternalTrafficChain) {
    natChains.write(chainLine(externalTrafficChain));
    if (!localPolicy) {
      natRules.write(
        '-A',
        externalTrafficChain,
        '-m',
        'comment',
        '--comment',
        quoted(`masquerade traffic for ${name} external destinations`),
        '-j',
        'KUBE-MARK-MASQ',
      );
    } else {
      natRules.write(
        '-A',
        externalTrafficChain,
        '-m',
        'comment',
        '--comment',
        quoted(`pod traffic for ${name} external destinations`),
        '-s',
        opts.clusterCidr,
        '-j',
        clusterPolicyChain,
      );
      natRules.write(
        '-A',
        externalTrafficChain,
        '-m',
        'comment',
        '--comment',
        quoted(`masquerade LOCAL traffic for ${name} external destinations`),
        '-m',
        'addrtype',
        '--src-type',
        'LOCAL',
        '-j',
        'KUBE-MARK-MASQ',
      );
      natRules.write(
        '-A',
        externalTrafficChain,
        '-m',
        'comment',
        '--comment',
        quoted(`route LOCAL traffic for ${name} external destinations`),
        '-m',
        'addrtype',
        '--src-type',
        'LOCAL',
        '-j',
        clusterPolicyChain,
      );
    }
    if (hasExternalEndpoints) natRules.write('-A', externalTrafficChain, '-j', externalPolicyChain);
  }

  if (usesFWChain) {
    natChains.write(chainLine(fwChain));
    const fwArgs = ['-A', fwChain, '-m', 'comment', '--comment', quoted(`${name} loadbalancer IP`)];
    for (const cidr of sourceRanges) natRules.write(fwArgs, '-s', cidr, '-j', externalTrafficChain);
    natRules.write(
      '-A',
      fwChain,
      '-m',
      'comment',
      '--comment',
      quoted(`other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL`),
    );
  }

  if (usesClusterPolicyChain) {
    natChains.write(chainLine(clusterPolicyChain));
    writeServiceToEndpointRules(ctx, name, svc, clusterPolicyChain, eps.cluster);
  }
  if (usesLocalPolicyChain) {
    natChains.write(chainLine(localPolicyChain));
    writeServiceToEndpointRules(ctx, name, svc, localPolicyChain, eps.local);
  }

  for (const ep of eps.reachable) {
    const hostPort = joinHostPort(ep.ip, ep.port);
    const sep = endpointChain(name, proto, hostPort);
    natChains.write(chainLine(sep));
    const args = ['-A', sep, ...(ctx.largeCluster ? [] : ['-m', 'comment', '--comment', name])];
    natRules.write(args, '-s', ep.ip, '-j', 'KUBE-MARK-MASQ');
    natRules.write(args, portMatch, '-j', 'DNAT', '--to-destination', hostPort);
  }
}

function writeServiceToEndpointRules(
  ctx: Ctx,
  name: string,
  svc: ServicePortSpec,
  svcChain: string,
  endpoints: readonly ServiceEndpoint[],
): void {
  const n = endpoints.length;
  endpoints.forEach((ep, i) => {
    const hostPort = joinHostPort(ep.ip, ep.port);
    const args: string[] = ['-A', svcChain];
    if (!ctx.largeCluster) args.push('-m', 'comment', '--comment', quoted(`${name} -> ${hostPort}`));
    if (i < n - 1) args.push('-m', 'statistic', '--mode', 'random', '--probability', probability(n - i));
    ctx.natRules.write(args, '-j', endpointChain(name, svc.protocol, hostPort));
  });
}
