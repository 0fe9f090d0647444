// The inputs and outputs of the kube-proxy rule generator. Plain readonly data, so the benchmark,
// the fixture script and the lab can all describe a cluster's services the same way.

/** `nftables`: kube-proxy's nftables mode (tables `ip kube-proxy` / `ip6 kube-proxy`, GA in 1.33). */
export type KubeProxyMode = 'iptables' | 'ipvs' | 'nftables';

/**
 * Which kube-proxy generation writes the iptables-mode rules:
 * - `current`: v1.24 and later (KUBE-EXT-*, KUBE-SVL-*, KUBE-PROXY-FIREWALL), modeled on v1.28-v1.30.
 * - `legacy`: before v1.24 (KUBE-MARK-MASQ + KUBE-SVC straight from KUBE-NODEPORTS, KUBE-XLB-*,
 *   KUBE-FW-*, KUBE-MARK-DROP), modeled on v1.21-v1.23.
 * ipvs mode ignores the layout.
 */
export type IptablesLayout = 'current' | 'legacy';

export type IpFamily = 'ipv4' | 'ipv6';

/** Lower case, as kube-proxy uses it in rules and chain-name hashes. */
export type ServiceProtocol = 'tcp' | 'udp' | 'sctp';

export interface ServiceEndpoint {
  /** Pod address, of the same family as the service's clusterIP. */
  readonly ip: string;
  /** Target port on the pod. */
  readonly port: number;
  /** Node the pod runs on; decides "local" endpoints for externalTrafficPolicy Local. */
  readonly node: string;
}

export interface ServicePortSpec {
  readonly namespace: string;
  readonly name: string;
  /** Service port name; '' for an unnamed port (kube-proxy then prints `ns/name`). */
  readonly portName: string;
  readonly protocol: ServiceProtocol;
  readonly clusterIP: string;
  readonly port: number;
  /** Absent for a ClusterIP-only service. */
  readonly nodePort?: number;
  readonly externalTrafficPolicy?: 'Cluster' | 'Local';
  /** Only for externalTrafficPolicy Local (kube-proxy opens it in filter KUBE-NODEPORTS). */
  readonly healthCheckNodePort?: number;
  readonly loadBalancerIPs?: readonly string[];
  readonly loadBalancerSourceRanges?: readonly string[];
  /** spec.externalIPs of this family (modelled in nftables mode only). */
  readonly externalIPs?: readonly string[];
  /** sessionAffinity ClientIP with this timeout in seconds (modelled in nftables mode only). */
  readonly sessionAffinityTimeoutSeconds?: number;
  /** Ready endpoints, in the order kube-proxy should balance over them. */
  readonly endpoints: readonly ServiceEndpoint[];
}

export interface KubeProxyOptions {
  readonly mode: KubeProxyMode;
  /** iptables mode only; default `current`. */
  readonly layout?: IptablesLayout;
  readonly family: IpFamily;
  readonly services: readonly ServicePortSpec[];
  /** The node these rules are for (decides which endpoints are local). */
  readonly nodeName: string;
  /** The node's address of this family (ipvs virtual servers, SCTP node-port set entries). */
  readonly nodeIp: string;
  /** --cluster-cidr for this family (detect-local-mode ClusterCIDR). */
  readonly clusterCidr: string;
  /** nftables mode: the service CIDR of this family (cluster-ips-check drops the unallocated rest). */
  readonly serviceCidr?: string;
  /** --masquerade-bit, default 14 (mark 0x4000). */
  readonly masqueradeBit?: number;
  /** iptables >= 1.6.2 supports `MASQUERADE --random-fully`; kube-proxy then uses it. Default true. */
  readonly randomFully?: boolean;
}

/** A rule kube-proxy (or kubelet) keeps in a built-in chain with `iptables -I`/`-A`, never by restore. */
export interface JumpRule {
  readonly table: 'nat' | 'filter' | 'mangle';
  /** Built-in chain, e.g. PREROUTING. */
  readonly chain: string;
  /** Arguments after `-A CHAIN` / `-I CHAIN 1`, as kube-proxy passes them (argv, unquoted). */
  readonly args: readonly string[];
}

export interface KubeProxyRules {
  /**
   * Complete `iptables-restore` input per table (built-in chains, kube-proxy's and kubelet's
   * chains, the jumps from built-in chains, then kube-proxy's rules): loading all three into an
   * empty network namespace leaves it as a node looks after kube-proxy started.
   */
  readonly nat: string;
  readonly filter: string;
  readonly mangle: string;
  /** Exactly what one kube-proxy sync passes to `iptables-restore --noflush --counters`. */
  readonly sync: string;
  /** The jumps from built-in chains, in the order they end up in each chain (top first). */
  readonly jumps: readonly JumpRule[];
  /** ipvs mode: `ipset restore` input creating and filling kube-proxy's sets. */
  readonly ipsets?: string;
  /** ipvs mode: what `ipvsadm -Ln` would print for these services on this node. */
  readonly ipvsadm?: string;
  /**
   * nftables mode: kube-proxy's whole table as `nft -f` statements (the form of knftables'
   * Fake.Dump, as kube-proxy's proxier tests compare it). In this mode nat/filter/mangle hold only
   * kubelet's iptables chains and `sync` is empty: one sync is `renderNftSync`, not a restore.
   */
  readonly nft?: string;
}
