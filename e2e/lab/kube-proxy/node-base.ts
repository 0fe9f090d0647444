// What a node has besides kube-proxy's restore input: the jumps from built-in chains that
// kube-proxy keeps with `iptables -C`/`-I` (EnsureRule, Prepend), and the chains kubelet owns
// (canaries, KUBE-IPTABLES-HINT, KUBE-FIREWALL, pre-1.24 KUBE-MARK-DROP).
import type { IpFamily, IptablesLayout, JumpRule, KubeProxyMode } from './types';

interface JumpSpec {
  readonly table: 'nat' | 'filter';
  readonly to: string;
  readonly from: string;
  readonly comment: string;
  readonly extra?: readonly string[];
}

const NEW = ['-m', 'conntrack', '--ctstate', 'NEW'] as const;

/** iptablesJumpChains of pkg/proxy/iptables/proxier.go (v1.28). */
const IPTABLES_CURRENT: readonly JumpSpec[] = [
  {
    table: 'filter',
    to: 'KUBE-EXTERNAL-SERVICES',
    from: 'INPUT',
    comment: 'kubernetes externally-visible service portals',
    extra: NEW,
  },
  {
    table: 'filter',
    to: 'KUBE-EXTERNAL-SERVICES',
    from: 'FORWARD',
    comment: 'kubernetes externally-visible service portals',
    extra: NEW,
  },
  { table: 'filter', to: 'KUBE-NODEPORTS', from: 'INPUT', comment: 'kubernetes health check service ports' },
  {
    table: 'filter',
    to: 'KUBE-SERVICES',
    from: 'FORWARD',
    comment: 'kubernetes service portals',
    extra: NEW,
  },
  { table: 'filter', to: 'KUBE-SERVICES', from: 'OUTPUT', comment: 'kubernetes service portals', extra: NEW },
  { table: 'filter', to: 'KUBE-FORWARD', from: 'FORWARD', comment: 'kubernetes forwarding rules' },
  {
    table: 'filter',
    to: 'KUBE-PROXY-FIREWALL',
    from: 'INPUT',
    comment: 'kubernetes load balancer firewall',
    extra: NEW,
  },
  {
    table: 'filter',
    to: 'KUBE-PROXY-FIREWALL',
    from: 'OUTPUT',
    comment: 'kubernetes load balancer firewall',
    extra: NEW,
  },
  {
    table: 'filter',
    to: 'KUBE-PROXY-FIREWALL',
    from: 'FORWARD',
    comment: 'kubernetes load balancer firewall',
    extra: NEW,
  },
  { table: 'nat', to: 'KUBE-SERVICES', from: 'OUTPUT', comment: 'kubernetes service portals' },
  { table: 'nat', to: 'KUBE-SERVICES', from: 'PREROUTING', comment: 'kubernetes service portals' },
  { table: 'nat', to: 'KUBE-POSTROUTING', from: 'POSTROUTING', comment: 'kubernetes postrouting rules' },
];

/** v1.21-v1.23: no KUBE-PROXY-FIREWALL yet. */
const IPTABLES_LEGACY: readonly JumpSpec[] = IPTABLES_CURRENT.filter((j) => j.to !== 'KUBE-PROXY-FIREWALL');

/** iptablesJumpChain of pkg/proxy/ipvs/proxier.go. */
const IPVS: readonly JumpSpec[] = [
  { table: 'nat', to: 'KUBE-SERVICES', from: 'OUTPUT', comment: 'kubernetes service portals' },
  { table: 'nat', to: 'KUBE-SERVICES', from: 'PREROUTING', comment: 'kubernetes service portals' },
  { table: 'nat', to: 'KUBE-POSTROUTING', from: 'POSTROUTING', comment: 'kubernetes postrouting rules' },
  { table: 'filter', to: 'KUBE-FORWARD', from: 'FORWARD', comment: 'kubernetes forwarding rules' },
  { table: 'filter', to: 'KUBE-NODE-PORT', from: 'INPUT', comment: 'kubernetes health check rules' },
  { table: 'filter', to: 'KUBE-PROXY-FIREWALL', from: 'INPUT', comment: 'kube-proxy firewall rules' },
  { table: 'filter', to: 'KUBE-PROXY-FIREWALL', from: 'FORWARD', comment: 'kube-proxy firewall rules' },
  { table: 'filter', to: 'KUBE-IPVS-FILTER', from: 'INPUT', comment: 'kubernetes ipvs access filter' },
  { table: 'filter', to: 'KUBE-IPVS-OUT-FILTER', from: 'OUTPUT', comment: 'kubernetes ipvs access filter' },
];

function jumpArgs(j: JumpSpec): string[] {
  return [...(j.extra ?? []), '-m', 'comment', '--comment', j.comment, '-j', j.to];
}

/** The kube-proxy jump for PREROUTING -> KUBE-SERVICES, as argv (what `--restart` re-inserts). */
export const SERVICES_JUMP_ARGS: readonly string[] = [
  '-m',
  'comment',
  '--comment',
  'kubernetes service portals',
  '-j',
  'KUBE-SERVICES',
];

export function kubeProxyJumpSpecs(mode: KubeProxyMode, layout: IptablesLayout): readonly JumpSpec[] {
  if (mode === 'ipvs') return IPVS;
  // nftables mode: kube-proxy's hooks are base chains of its own nft table, not iptables jumps.
  if (mode === 'nftables') return [];
  return layout === 'legacy' ? IPTABLES_LEGACY : IPTABLES_CURRENT;
}

/**
 * All jumps from built-in chains, top of chain first. kubelet starts first and appends its
 * KUBE-FIREWALL jumps; kube-proxy then prepends its jumps one by one, so within a chain they end up
 * in reverse list order above kubelet's.
 */
export function builtinJumps(mode: KubeProxyMode, layout: IptablesLayout): JumpRule[] {
  const specs = kubeProxyJumpSpecs(mode, layout);
  const out: JumpRule[] = [];
  for (const table of ['filter', 'nat'] as const) {
    const chains = [...new Set(specs.filter((s) => s.table === table).map((s) => s.from))];
    if (table === 'filter') for (const c of ['INPUT', 'OUTPUT']) if (!chains.includes(c)) chains.push(c);
    for (const chain of chains) {
      const mine = specs.filter((s) => s.table === table && s.from === chain).reverse();
      for (const s of mine) out.push({ table, chain, args: jumpArgs(s) });
      if (table === 'filter' && (chain === 'INPUT' || chain === 'OUTPUT')) {
        out.push({ table, chain, args: ['-j', 'KUBE-FIREWALL'] });
      }
    }
  }
  return out;
}

export interface KubeletParts {
  /** Chains kubelet (and kube-proxy's canary monitor) create, per table. */
  readonly chains: Readonly<Record<'mangle' | 'nat' | 'filter', readonly string[]>>;
  /** Rules kubelet writes in its own chains (restore syntax, after `-A CHAIN`). */
  readonly rules: Readonly<Record<'mangle' | 'nat' | 'filter', readonly string[]>>;
}

export function kubeletParts(mode: KubeProxyMode, layout: IptablesLayout, family: IpFamily): KubeletParts {
  const legacy = mode === 'iptables' && layout === 'legacy';
  // kube-proxy's iptables Monitor creates KUBE-PROXY-CANARY; the ipvs proxier does not monitor.
  const proxyCanary = mode === 'iptables' ? ['KUBE-PROXY-CANARY'] : [];
  const hint = legacy ? [] : ['KUBE-IPTABLES-HINT'];
  const localnet =
    family === 'ipv4'
      ? [
          '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
        ]
      : [];
  return {
    chains: {
      mangle: [...hint, 'KUBE-KUBELET-CANARY', ...proxyCanary],
      nat: ['KUBE-KUBELET-CANARY', ...proxyCanary, ...(legacy ? ['KUBE-MARK-DROP'] : [])],
      filter: ['KUBE-KUBELET-CANARY', ...proxyCanary, 'KUBE-FIREWALL'],
    },
    rules: {
      mangle: [],
      nat: legacy ? ['-A KUBE-MARK-DROP -j MARK --or-mark 0x8000'] : [],
      filter: legacy
        ? [
            '-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP',
            ...localnet,
          ]
        : // From v1.24 kube-proxy writes the localnet rule into KUBE-FIREWALL itself (IPv4) in
          // iptables mode; in the other modes kubelet still does.
          mode !== 'iptables'
          ? localnet
          : [],
    },
  };
}
