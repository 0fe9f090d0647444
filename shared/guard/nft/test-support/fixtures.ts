// Recorded nft output (nftables v1.0.6, in a throwaway network namespace) and the policy it guards.
// The table was loaded from this `nft -f` input (the counter preset so that counters show):
//   tcp dport 30001 ... ip saddr != @allow-tcp-30001-v4 counter packets 3 bytes 180 redirect to :65535
// plus `table ip kube-proxy { chain nat-prerouting { type nat hook prerouting priority dstnat; } }`.
import type { Policy } from '../../../workspace/schema';

export const FIXTURE_POLICY: Policy = {
  nodePorts: [
    {
      port: 30001,
      protocol: 'tcp',
      mode: 'enforce',
      blackholePort: 65535,
      service: 'default/web:http',
      allow: [
        { cidr: '198.18.100.0/24', label: 'office' },
        { cidr: '198.18.7.7', label: 'vpn' },
        { cidr: '2001:2:0:1::/64', label: 'v6 office' },
        { cidr: '2001:2::7' },
      ],
    },
    { port: 30002, protocol: 'udp', mode: 'audit', blackholePort: 65535, allow: [{ cidr: '198.18.0.0/15' }] },
  ],
};

/** `nft -j list table inet nodeport-guard` */
export const TABLE_JSON =
  '{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "nodeport-guard", "handle": 1}}, {"set": {"family": "inet", "name": "allow-tcp-30001-v4", "table": "nodeport-guard", "type": "ipv4_addr", "handle": 2, "flags": ["interval"], "elem": ["198.18.7.7", {"prefix": {"addr": "198.18.100.0", "len": 24}}]}}, {"set": {"family": "inet", "name": "allow-tcp-30001-v6", "table": "nodeport-guard", "type": "ipv6_addr", "handle": 3, "flags": ["interval"], "elem": ["2001:2::7", {"prefix": {"addr": "2001:2:0:1::", "len": 64}}]}}, {"set": {"family": "inet", "name": "allow-udp-30002-v4", "table": "nodeport-guard", "type": "ipv4_addr", "handle": 4, "flags": ["interval"], "elem": [{"prefix": {"addr": "198.18.0.0", "len": 15}}]}}, {"set": {"family": "inet", "name": "allow-udp-30002-v6", "table": "nodeport-guard", "type": "ipv6_addr", "handle": 5, "flags": ["interval"]}}, {"chain": {"family": "inet", "table": "nodeport-guard", "name": "prerouting", "handle": 1, "type": "nat", "hook": "prerouting", "prio": -110, "policy": "accept"}}, {"rule": {"family": "inet", "table": "nodeport-guard", "chain": "prerouting", "handle": 6, "comment": "nodeport-guard: default/web:http", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 30001}}, {"match": {"op": "==", "left": {"fib": {"result": "type", "flags": ["daddr"]}}, "right": "local"}}, {"match": {"op": "!=", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@allow-tcp-30001-v4"}}, {"counter": {"packets": 3, "bytes": 180}}, {"redirect": {"port": 65535}}]}}, {"rule": {"family": "inet", "table": "nodeport-guard", "chain": "prerouting", "handle": 7, "comment": "nodeport-guard: default/web:http", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 30001}}, {"match": {"op": "==", "left": {"fib": {"result": "type", "flags": ["daddr"]}}, "right": "local"}}, {"match": {"op": "!=", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": "@allow-tcp-30001-v6"}}, {"counter": {"packets": 0, "bytes": 0}}, {"redirect": {"port": 65535}}]}}, {"rule": {"family": "inet", "table": "nodeport-guard", "chain": "prerouting", "handle": 8, "comment": "nodeport-guard: audit udp/30002", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}}, "right": 30002}}, {"match": {"op": "==", "left": {"fib": {"result": "type", "flags": ["daddr"]}}, "right": "local"}}, {"match": {"op": "!=", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@allow-udp-30002-v4"}}, {"counter": {"packets": 0, "bytes": 0}}]}}, {"rule": {"family": "inet", "table": "nodeport-guard", "chain": "prerouting", "handle": 9, "comment": "nodeport-guard: audit udp/30002", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}}, "right": 30002}}, {"match": {"op": "==", "left": {"fib": {"result": "type", "flags": ["daddr"]}}, "right": "local"}}, {"match": {"op": "!=", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": "@allow-udp-30002-v6"}}, {"counter": {"packets": 0, "bytes": 0}}]}}]}';

/** `nft -j list chains` */
export const CHAINS_JSON =
  '{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"chain": {"family": "inet", "table": "nodeport-guard", "name": "prerouting", "handle": 1, "type": "nat", "hook": "prerouting", "prio": -110, "policy": "accept"}}, {"chain": {"family": "ip", "table": "kube-proxy", "name": "nat-prerouting", "handle": 1, "type": "nat", "hook": "prerouting", "prio": -100, "policy": "accept"}}, {"chain": {"family": "ip", "table": "kube-proxy", "name": "services", "handle": 2}}]}';
