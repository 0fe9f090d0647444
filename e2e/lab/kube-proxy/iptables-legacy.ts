// kube-proxy iptables mode, pre-v1.24 layout: a transcription of syncProxyRules() in
// pkg/proxy/iptables/proxier.go of v1.21-v1.23 for ClusterIP, NodePort, LoadBalancer and
// externalTrafficPolicy Local. Differences from the current layout that matter to readers of a dump:
// KUBE-NODEPORTS jumps to KUBE-MARK-MASQ and then KUBE-SVC-* directly (no KUBE-EXT-*), Local
// policy goes through KUBE-XLB-*, every load-balancer IP gets a KUBE-FW-* chain, addresses are
// written with a prefix length, and a Local service without local endpoints jumps to KUBE-MARK-DROP.
import { endpointChain, joinHostPort, serviceChain, servicePortName } from './chain-names';
import { writeMasqueradeRules } from './common-rules';
import { categorize, isLocalPolicy, LARGE_CLUSTER_ENDPOINTS, totalEndpoints } from './endpoints';
import { sortedServices } from './iptables-current';
import { chainLine, hostCidr, LineBuffer, markHex, probability, quoted } from './line-buffer';
import type { SyncParts } from './sync-parts';
import type { KubeProxyOptions, ServicePortSpec } from './types';

export function syncLegacyLayout(opts: KubeProxyOptions): SyncParts {
  const mark = markHex(opts.masqueradeBit ?? 14);
  const filterChains = new LineBuffer();
  const filterRules = new LineBuffer();
  const natChains = new LineBuffer();
  const natRules = new LineBuffer();

  for (const c of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-NODEPORTS'])
    filterChains.write(chainLine(c));
  for (const c of ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ'])
    natChains.write(chainLine(c));

  writeMasqueradeRules(natRules, mark, opts.randomFully);

  const largeCluster = totalEndpoints(opts.services) > LARGE_CLUSTER_ENDPOINTS;
  for (const svc of sortedServices(opts.services)) {
    writeService({ opts, largeCluster, filterRules, natChains, natRules }, svc);
  }

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
    '-j',
    'KUBE-NODEPORTS',
  );

  filterRules.write('-A', 'KUBE-FORWARD', '-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP');
  filterRules.write(
    '-A',
    'KUBE-FORWARD',
    '-m',
    'comment',
    '--comment',
    quoted('kubernetes forwarding rules'),
    '-m',
    'mark',
    '--mark',
    `${mark}/${mark}`,
    '-j',
    'ACCEPT',
  );
  // v1.21-v1.23 write these two identical-looking rules (their CIDR matches were dropped when
  // detect-local-mode arrived); real dumps of those versions show both.
  for (const which of ['source', 'destination']) {
    filterRules.write(
      '-A',
      'KUBE-FORWARD',
      '-m',
      'comment',
      '--comment',
      quoted(`kubernetes forwarding conntrack pod ${which} rule`),
      '-m',
      'conntrack',
      '--ctstate',
      'RELATED,ESTABLISHED',
      '-j',
      'ACCEPT',
    );
  }

  return {
    order: ['filter', 'nat'],
    filter: { chains: filterChains.lines, rules: filterRules.lines },
    nat: { chains: natChains.lines, rules: natRules.lines },
  };
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
  const hasEndpoints = eps.hasEndpoints;
  const local = isLocalPolicy(svc);
  const svcChain = serviceChain('KUBE-SVC-', name, proto);
  const xlbChain = serviceChain('KUBE-XLB-', name, proto);
  const fwChain = serviceChain('KUBE-FW-', name, proto);
  const portMatch = ['-m', proto, '-p', proto];
  const comment = (text: string) => ['-m', 'comment', '--comment', text];

  if (hasEndpoints) natChains.write(chainLine(svcChain));
  if (local) natChains.write(chainLine(xlbChain));

  const clusterArgs = [
    '-A',
    'KUBE-SERVICES',
    comment(quoted(`${name} cluster IP`)),
    portMatch,
    '-d',
    hostCidr(svc.clusterIP),
    '--dport',
    String(svc.port),
  ].flat();
  if (hasEndpoints) {
    natRules.write(clusterArgs, '!', '-s', opts.clusterCidr, '-j', 'KUBE-MARK-MASQ');
    natRules.write(clusterArgs, '-j', svcChain);
  } else {
    filterRules.write(
      '-A',
      'KUBE-SERVICES',
      comment(quoted(`${name} has no endpoints`)),
      portMatch,
      '-d',
      hostCidr(svc.clusterIP),
      '--dport',
      String(svc.port),
      '-j',
      'REJECT',
    );
  }

  for (const lbip of svc.loadBalancerIPs ?? []) {
    if (hasEndpoints) {
      natChains.write(chainLine(fwChain));
      natRules.write(
        '-A',
        'KUBE-SERVICES',
        comment(quoted(`${name} loadbalancer IP`)),
        portMatch,
        '-d',
        hostCidr(lbip),
        '--dport',
        String(svc.port),
        '-j',
        fwChain,
      );
      const fwArgs = ['-A', fwChain, comment(quoted(`${name} loadbalancer IP`))].flat();
      let chosen = xlbChain;
      if (!local) {
        natRules.write(fwArgs, '-j', 'KUBE-MARK-MASQ');
        chosen = svcChain;
      }
      const ranges = svc.loadBalancerSourceRanges ?? [];
      if (ranges.length === 0) natRules.write(fwArgs, '-j', chosen);
      for (const src of ranges) natRules.write(fwArgs, '-s', src, '-j', chosen);
      natRules.write(fwArgs, '-j', 'KUBE-MARK-DROP');
    } else {
      filterRules.write(
        '-A',
        'KUBE-EXTERNAL-SERVICES',
        comment(quoted(`${name} has no endpoints`)),
        portMatch,
        '-d',
        hostCidr(lbip),
        '--dport',
        String(svc.port),
        '-j',
        'REJECT',
      );
    }
  }

  if (svc.nodePort !== undefined) {
    if (hasEndpoints) {
      const args = [comment(name), portMatch, '--dport', String(svc.nodePort)].flat();
      if (!local) {
        natRules.write('-A', 'KUBE-NODEPORTS', args, '-j', 'KUBE-MARK-MASQ');
        natRules.write('-A', 'KUBE-NODEPORTS', args, '-j', svcChain);
      } else {
        const loopback = opts.family === 'ipv6' ? '::1/128' : '127.0.0.0/8';
        natRules.write('-A', 'KUBE-NODEPORTS', args, '-s', loopback, '-j', 'KUBE-MARK-MASQ');
        natRules.write('-A', 'KUBE-NODEPORTS', args, '-j', xlbChain);
      }
    } else {
      filterRules.write(
        '-A',
        'KUBE-EXTERNAL-SERVICES',
        comment(quoted(`${name} has no endpoints`)),
        '-m',
        'addrtype',
        '--dst-type',
        'LOCAL',
        portMatch,
        '--dport',
        String(svc.nodePort),
        '-j',
        'REJECT',
      );
    }
  }

  if (svc.healthCheckNodePort !== undefined) {
    filterRules.write(
      '-A',
      'KUBE-NODEPORTS',
      comment(quoted(`${name} health check node port`)),
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

  if (!hasEndpoints) return;

  const sepChains = eps.cluster.map((ep) => endpointChain(name, proto, joinHostPort(ep.ip, ep.port)));
  for (const sep of sepChains) natChains.write(chainLine(sep));
  const svcComment = ctx.largeCluster ? [] : comment(name);
  const n = eps.cluster.length;
  const localChains: string[] = [];
  eps.cluster.forEach((ep, i) => {
    const sep = sepChains[i]!;
    if (local && ep.node === opts.nodeName) localChains.push(sep);
    const balance: string[] = ['-A', svcChain, ...svcComment];
    if (i < n - 1) balance.push('-m', 'statistic', '--mode', 'random', '--probability', probability(n - i));
    natRules.write(balance, '-j', sep);
    natRules.write('-A', sep, svcComment, '-s', hostCidr(ep.ip), '-j', 'KUBE-MARK-MASQ');
    natRules.write(
      '-A',
      sep,
      svcComment,
      portMatch,
      '-j',
      'DNAT',
      '--to-destination',
      joinHostPort(ep.ip, ep.port),
    );
  });

  if (!local) return;
  natRules.write(
    '-A',
    xlbChain,
    comment(quoted('Redirect pods trying to reach external loadbalancer VIP to clusterIP')),
    '-s',
    opts.clusterCidr,
    '-j',
    svcChain,
  );
  natRules.write(
    '-A',
    xlbChain,
    comment(quoted(`masquerade LOCAL traffic for ${name} LB IP`)),
    '-m',
    'addrtype',
    '--src-type',
    'LOCAL',
    '-j',
    'KUBE-MARK-MASQ',
  );
  natRules.write(
    '-A',
    xlbChain,
    comment(quoted(`route LOCAL traffic for ${name} LB IP to service chain`)),
    '-m',
    'addrtype',
    '--src-type',
    'LOCAL',
    '-j',
    svcChain,
  );
  if (localChains.length === 0) {
    natRules.write('-A', xlbChain, comment(quoted(`${name} has no local endpoints`)), '-j', 'KUBE-MARK-DROP');
    return;
  }
  localChains.forEach((sep, i) => {
    const args: string[] = ['-A', xlbChain, ...comment(quoted(`Balancing rule ${i} for ${name}`))];
    if (i < localChains.length - 1) {
      args.push('-m', 'statistic', '--mode', 'random', '--probability', probability(localChains.length - i));
    }
    natRules.write(args, '-j', sep);
  });
}
