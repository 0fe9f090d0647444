// Every lab address, in one place. All of them lie in the benchmarking ranges 198.18.0.0/15 and
// 2001:2::/48 (RFC 2544 / RFC 5180), so nothing the lab does can reach a real network.
//
//   198.18.0.0/16     the lab LAN (bridge npg-br0 = .0.1; nodes .0.11+; clients .100.10+)
//   198.19.0.0/17     pods: 198.19.<node>.<10+k> on node <node> (the cluster CIDR)
//   198.19.128.0/20   service cluster IPs (synthetic benchmark services continue up to 198.19.199.x)
//   198.19.200.0/24   load-balancer IPs
//   2001:2::/64       the lab LAN, IPv6 (bridge ::1, nodes ::11+, clients ::100:10+)
//   2001:2:0:100::/56 pods, 2001:2:0:1<node as 2 hex digits>::<10+k>
//   2001:2:0:ff::/112 service cluster IPs; 2001:2:0:fe::/112 load-balancer IPs

export const LAB_V4_PREFIX = 16;
export const LAB_V6_PREFIX = 64;
export const BRIDGE_V4 = '198.18.0.1';
export const BRIDGE_V6 = '2001:2::1';
export const CLUSTER_CIDR_V4 = '198.19.0.0/17';
export const CLUSTER_CIDR_V6 = '2001:2:0:100::/56';
/** Service cluster IPs (kube-proxy's nftables mode drops traffic to the unallocated rest). */
export const SERVICE_CIDR_V4 = '198.19.128.0/20';
export const SERVICE_CIDR_V6 = '2001:2:0:ff::/112';
/** The whole lab, for checks that an address is ours before sending anything to it. */
export const LAB_RANGES = ['198.18.0.0/15', '2001:2::/48'] as const;

/**
 * The most nodes this address plan holds: 127. Node N's pods live in 198.19.N.0/24, which must stay
 * inside the cluster CIDR 198.19.0.0/17 (kube-proxy's masquerade rules and the routes between
 * nodes rely on it; 198.19.128.0/20 holds the service IPs). The other parts of the plan go further:
 * node addresses 198.18.0.(10+N) to N = 244, IPv6 pod subnets 2001:2:0:1<N as 2 hex digits>:: to
 * N = 255, link names `npg-n<N>` to 11 digits. (The old cap of 99 was not a limit of anything;
 * 100 nodes come up as 99 do.) What limits a lab on one machine before that is CPU: see
 * README.md, "How many nodes".
 */
export const MAX_NODES = 127;

/** Node index is 1-based: node 1 is 198.18.0.11. */
export function nodeIpV4(node: number): string {
  return `198.18.0.${10 + node}`;
}

export function nodeIpV6(node: number): string {
  return `2001:2::${10 + node}`;
}

export function clientIpV4(client: number, k: number): string {
  return `198.18.${100 + client - 1}.${10 + k}`;
}

export function clientIpV6(client: number, k: number): string {
  return `2001:2::${100 + client - 1}:${10 + k}`;
}

export function podSubnetV4(node: number): string {
  return `198.19.${node}.0/24`;
}

function nodeHex(node: number): string {
  return node.toString(16).padStart(2, '0');
}

export function podSubnetV6(node: number): string {
  return `2001:2:0:1${nodeHex(node)}::/64`;
}

/** Pod k (0-based) on a node. */
export function podIpV4(node: number, k: number): string {
  return `198.19.${node}.${10 + k}`;
}

export function podIpV6(node: number, k: number): string {
  return `2001:2:0:1${nodeHex(node)}::${(10 + k).toString(16)}`;
}

export function serviceIpV4(i: number): string {
  return `198.19.${128 + Math.floor(i / 240)}.${10 + (i % 240)}`; // last octet 10..249
}

export function serviceIpV6(i: number): string {
  return `2001:2:0:ff::${(0x10 + i).toString(16)}`;
}

export function loadBalancerIpV4(i: number): string {
  return `198.19.200.${10 + i}`;
}

export function loadBalancerIpV6(i: number): string {
  return `2001:2:0:fe::${(0x10 + i).toString(16)}`;
}
