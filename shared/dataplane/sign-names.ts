// The names NodePort Guard looks for, each with where it comes from. Only names read in the
// projects' source or in real output are here; the node script (node-script.ts) looks for exactly
// these, so a name added here must be added there too (a test checks it).

/**
 * Cilium's iptables chains: cilium/cilium pkg/datapath/iptables/iptables.go (the `ciliumPrefix`,
 * `cilium*Chain` constants: CILIUM_INPUT, CILIUM_OUTPUT, CILIUM_OUTPUT_raw, CILIUM_POST_nat,
 * CILIUM_OUTPUT_nat, CILIUM_PRE_nat, CILIUM_POST_mangle, CILIUM_PRE_mangle, CILIUM_PRE_raw,
 * CILIUM_FORWARD, CILIUM_TRANSIENT_FORWARD; older releases CILIUM_POST, read at commit
 * d7be9552825239ffa2798ccbaf615340fd8002ca), each fed from the built-in chain by a rule commented
 * `cilium-feeder: <chain>`. Cilium installs them with and without kube-proxy replacement, so they say
 * "Cilium is here", never "Cilium serves NodePorts".
 */
export const CILIUM_CHAIN_PREFIX = 'CILIUM_';
/** Cilium's feeder chain in nat PREROUTING (same file): present in both real samples of the corpus. */
export const CILIUM_PRE_NAT = 'CILIUM_PRE_nat';

/**
 * Calico (Felix) iptables chains start `cali-` (cali-PREROUTING, cali-fip-dnat, cali-nat-outgoing … in
 * the corpus sample dataplane-calico-iptables-kube-proxy-ipvs.*; projectcalico/calico felix/rules).
 * Felix programs them in its iptables dataplane; they say "Calico is here".
 */
export const CALICO_CHAIN_PREFIX = 'cali-';

/**
 * kube-router's chains, cloudnativelabs/kube-router pkg/controllers/proxy/network_services_controller.go
 * (`ipvsFirewallChainName = "KUBE-ROUTER-SERVICES"` in filter, `ipvsHairpinChainName =
 * "KUBE-ROUTER-HAIRPIN"` in nat): made by its IPVS service proxy (--run-service-proxy).
 */
export const KUBE_ROUTER_PROXY_CHAINS: readonly string[] = ['KUBE-ROUTER-SERVICES', 'KUBE-ROUTER-HAIRPIN'];
/**
 * KUBE-ROUTER-INPUT/-FORWARD/-OUTPUT are its network policy controller's (comment "kube-router netpol -
 * …", corpus sample dataplane-k3s-kube-router-netpol.*, a k3s node where kube-proxy serves Services):
 * they do not mean kube-router proxies Services.
 */
export const KUBE_ROUTER_CHAIN_PREFIX = 'KUBE-ROUTER-';

/**
 * kube-proxy's own chains (kubernetes/kubernetes pkg/proxy/iptables/proxier.go and
 * pkg/proxy/ipvs/proxier.go). KUBE-SERVICES exists in both modes (nat, and filter in iptables
 * mode); KUBE-PROXY-CANARY is kube-proxy's canary in mangle/nat/filter. KUBE-KUBELET-CANARY and
 * KUBE-IPTABLES-HINT are the kubelet's, KUBE-FIREWALL both's: none of those says kube-proxy runs.
 */
export const KUBE_PROXY_CHAINS: readonly string[] = [
  'KUBE-SERVICES',
  'KUBE-NODEPORTS',
  'KUBE-NODE-PORT',
  'KUBE-PROXY-CANARY',
  'KUBE-EXTERNAL-SERVICES',
];
/** ipvs mode only (pkg/proxy/ipvs/proxier.go: kubeNodePortChain, KubeLoadBalancerChain). */
export const KUBE_PROXY_IPVS_CHAINS: readonly string[] = ['KUBE-NODE-PORT', 'KUBE-LOAD-BALANCER'];
/** kube-proxy's nftables mode: `table ip kube-proxy` / `table ip6 kube-proxy` (pkg/proxy/nftables/proxier.go). */
export const KUBE_PROXY_NFT_TABLE = 'kube-proxy';

/**
 * Pinned BPF maps, under /sys/fs/bpf/tc/globals.
 *
 * Cilium: pkg/maps/lbmap/ipv4.go (Service4MapV2Name "cilium_lb4_services_v2", Backend4MapName
 * "cilium_lb4_backends", Backend4MapV2Name/V3Name "cilium_lb4_backends_v2/_v3", RevNat4MapName
 * "cilium_lb4_reverse_nat"; read at b102721637a9abdf242f51106cae76f02f20b829 and later versions),
 * ipv6.go the same with lb6. Pinned at /sys/fs/bpf/tc/globals (Cilium's own cleanup DaemonSet runs
 * `rm /sys/fs/bpf/tc/globals/cilium_lb{4,6}_{services_v2,backends,rr_seq_v2}`). These exist whenever
 * Cilium does socket/ClusterIP load-balancing, also without kube-proxy replacement: "Cilium is here".
 * "cilium_snat_v4_external" (pkg/maps/nat: MapNameSnat4Global) is Cilium's BPF NAT table, used by
 * BPF NodePort and BPF masquerading.
 *
 * Calico: projectcalico/calico felix/bpf/nat/maps.go (FrontendMapParameters Name "cali_v4_nat_fe",
 * Version 3, BackendMapParameters "cali_v4_nat_be"), pinned in felix/bpf/bpfdefs/defs.go
 * `GlobalPinDir = "/sys/fs/bpf/tc/globals/"` (read at e5acbc75eaf2451e8048f0a02d80ca87b164d89f), with
 * the version appended by `versionedStr` ("cali_v4_nat_fe3"; the corpus sample
 * dataplane-calico-ebpf.* lists it, a node with `bpfEnabled: true`). The NAT frontend map is the
 * service table of Calico's eBPF dataplane; pinned maps outlive their program, so one left from an
 * earlier eBPF run is possible.
 */
export const CILIUM_SERVICE_MAPS: readonly string[] = [
  'cilium_lb4_services_v2',
  'cilium_lb6_services_v2',
  'cilium_lb4_backends',
  'cilium_lb4_backends_v2',
  'cilium_lb4_backends_v3',
  'cilium_lb6_backends',
  'cilium_lb6_backends_v2',
  'cilium_lb6_backends_v3',
  'cilium_lb4_reverse_nat',
  'cilium_lb6_reverse_nat',
];
export const CILIUM_NAT_MAPS: readonly string[] = ['cilium_snat_v4_external', 'cilium_snat_v6_external'];
/** Prefixes: the node script globs `<prefix>*` (the version suffix changes between releases). */
export const CALICO_NAT_MAP_PREFIXES: readonly string[] = [
  'cali_v4_nat_fe',
  'cali_v6_nat_fe',
  'cali_v4_nat_be',
  'cali_v6_nat_be',
];
export const CALICO_FRONTEND_MAP_PREFIXES: readonly string[] = ['cali_v4_nat_fe', 'cali_v6_nat_fe'];

/**
 * Directly under /sys/fs/bpf: "cilium" is Cilium's own bpffs tree (cilium/cilium
 * pkg/datapath/loader: BPFFS paths `/sys/fs/bpf/cilium/devices/<dev>/links`, `…/endpoints/<id>/links`);
 * "tc" holds the `tc/globals` pin dir both projects use; "tcx" is Calico's TcxPinDir
 * (felix/bpf/bpfdefs/defs.go). Evidence only.
 */
export const BPFFS_NAMES: readonly string[] = ['cilium', 'tc', 'tcx'];

/**
 * Process names (/proc/PID/comm, the binary name cut to 15 bytes):
 * - cilium-agent: the agent container's command in cilium/cilium
 *   install/kubernetes/cilium/templates/cilium-agent/daemonset.yaml;
 * - calico-node: /bin/calico-node, the calico-node container's binary (its probes run
 *   `/bin/calico-node -felix-live`); Felix runs inside it in both dataplanes;
 * - kube-router: the binary of cloudnativelabs/kube-router's image (daemonset/*.yaml run it with
 *   --run-service-proxy=true to proxy Services);
 * - kube-proxy: kube-proxy's binary. k3s and RKE2 run kube-proxy inside their own process, so its
 *   absence here proves nothing.
 */
export const PROCESS_NAMES: readonly string[] = ['cilium-agent', 'calico-node', 'kube-router', 'kube-proxy'];

/**
 * Cilium's node config header, /var/run/cilium/state/globals/node_config.h (cilium/cilium
 * pkg/option/config.go GetNodeConfigPath; host path mounted by the agent DaemonSet). The agent
 * writes `#define ENABLE_NODEPORT 1` when it serves NodePorts in BPF (`option.Config.EnableNodePort`,
 * or kube-proxy replacement in newer releases: pkg/datapath/linux/config/config.go,
 * `cDefinesMap["ENABLE_NODEPORT"] = "1"`). Its absence is not read as "off": newer releases may
 * move it to load-time config.
 */
export const CILIUM_NODE_CONFIG = '/var/run/cilium/state/globals/node_config.h';
export const CILIUM_NODEPORT_DEFINE = 'ENABLE_NODEPORT';
