// kube-proxy nftables mode's chain names (pkg/proxy/nftables/proxier.go): unlike iptables mode the
// readable name stays in the chain name, prefixed by a hash of itself:
//   hashAndTruncate(name) = base32(sha256(name))[:8] + "-" + name, cut to 240 characters.
//   service port:  "ns/name/proto/portName"                  e.g. ULMVA6XW-ns1/svc1/tcp/p80
//   endpoint:      "ns/name/proto/portName__ip/port"         IPv6 ':' written as '.'
// An unnamed port leaves the last part empty ("riset/hellopod-np-svc/tcp/").
import { createHash } from 'node:crypto';
import { base32 } from './chain-names';
import type { ServicePortSpec } from './types';

/** knftables.NameLengthMax (256) minus kube-proxy's longest prefix allowance (16). */
const CHAIN_NAME_BASE_LENGTH_MAX = 256 - 16;

export function hashAndTruncate(name: string): string {
  const hash = base32(createHash('sha256').update(name, 'utf8').digest()).slice(0, 8);
  const full = `${hash}-${name}`;
  return full.length > CHAIN_NAME_BASE_LENGTH_MAX
    ? `${full.slice(0, CHAIN_NAME_BASE_LENGTH_MAX - 3)}...`
    : full;
}

type PortId = Pick<ServicePortSpec, 'namespace' | 'name' | 'portName' | 'protocol'>;

/** servicePortChainNameBase: `HASH-ns/name/proto/port`. */
export function nftServiceBase(svc: PortId): string {
  return hashAndTruncate(`${svc.namespace}/${svc.name}/${svc.protocol}/${svc.portName}`);
}

/** servicePortEndpointChainNameBase: `HASH-ns/name/proto/port__ip/port`. */
export function nftEndpointBase(svc: PortId, ip: string, port: number): string {
  const safeIp = ip.replaceAll(':', '.');
  return hashAndTruncate(`${svc.namespace}/${svc.name}/${svc.protocol}/${svc.portName}__${safeIp}/${port}`);
}

export type NftChainPrefix = 'service-' | 'local-' | 'external-' | 'firewall-' | 'endpoint-' | 'affinity-';

/** Service chains are the ones with a '/' in their name (isServiceChainName). */
export function isNftServiceChain(name: string): boolean {
  return name.includes('/');
}
