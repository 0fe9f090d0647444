// kube-proxy's hash-named chains: sha256 over "namespace/name:port" + protocol (+ endpoint for
// KUBE-SEP), base32 (RFC 4648, upper case), first 16 characters. Same as portProtoHash and
// servicePortEndpointChainName in pkg/proxy/iptables/proxier.go, so the names match a real cluster.
import { createHash } from 'node:crypto';
import type { ServicePortSpec, ServiceProtocol } from './types';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 with padding, as Go's base32.StdEncoding. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  while (out.length % 8 !== 0) out += '=';
  return out;
}

function hash16(text: string): string {
  return base32(createHash('sha256').update(text, 'utf8').digest()).slice(0, 16);
}

/** `ns/name:port`, or `ns/name` for an unnamed port (proxy.ServicePortName.String()). */
export function servicePortName(svc: Pick<ServicePortSpec, 'namespace' | 'name' | 'portName'>): string {
  const base = `${svc.namespace}/${svc.name}`;
  return svc.portName === '' ? base : `${base}:${svc.portName}`;
}

export function portProtoHash(portName: string, protocol: ServiceProtocol): string {
  return hash16(portName + protocol);
}

export type ChainPrefix = 'KUBE-SVC-' | 'KUBE-SVL-' | 'KUBE-EXT-' | 'KUBE-FW-' | 'KUBE-XLB-';

export function serviceChain(prefix: ChainPrefix, portName: string, protocol: ServiceProtocol): string {
  return prefix + portProtoHash(portName, protocol);
}

/** `endpoint` is `ip:port`, or `[ip6]:port` (net.JoinHostPort). */
export function endpointChain(portName: string, protocol: ServiceProtocol, endpoint: string): string {
  return `KUBE-SEP-${hash16(portName + protocol + endpoint)}`;
}

export function joinHostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
