// `-m addrtype`: the kernel asks its routing tables what kind of address this is. We know the
// node's local addresses (given) and the fixed ranges (multicast, loopback, the limited
// broadcast); anything that depends on routes (a subnet broadcast, a blackhole route) is unknown.
import ipaddr from 'ipaddr.js';
import type { Tri } from '../kube/port-match';
import { type ParsedAddress, sameAddress } from './cidr';

export function isLocal(address: ParsedAddress, local: readonly ParsedAddress[]): boolean {
  const b = address.bytes;
  // 127.0.0.0/8 and ::1 are in every node's local routing table.
  if (address.family === 'ipv4' && b[0] === 127) return true;
  if (address.family === 'ipv6' && b.every((x, i) => x === (i === 15 ? 1 : 0))) return true;
  return local.some((l) => sameAddress(l, address));
}

function range(address: ParsedAddress): string {
  return ipaddr.fromByteArray([...address.bytes]).range();
}

function isLimitedBroadcast(address: ParsedAddress): boolean {
  return address.family === 'ipv4' && address.bytes.every((x) => x === 255);
}

/** One addrtype type name against one address. */
export function addressTypeIs(type: string, address: ParsedAddress, local: readonly ParsedAddress[]): Tri {
  const isLoc = isLocal(address, local);
  const kind = range(address);
  const multicast = kind === 'multicast';
  switch (type) {
    case 'LOCAL':
      return isLoc ? 'yes' : 'no';
    case 'MULTICAST':
      return multicast ? 'yes' : 'no';
    case 'BROADCAST':
      if (isLimitedBroadcast(address)) return 'yes';
      // IPv6 has no broadcast; an IPv4 subnet broadcast depends on the node's routes.
      return isLoc || multicast || address.family === 'ipv6' ? 'no' : 'unknown';
    case 'UNICAST':
      if (isLoc || multicast || isLimitedBroadcast(address) || kind === 'unspecified') return 'no';
      return 'unknown';
    default:
      // UNSPEC, ANYCAST, BLACKHOLE, UNREACHABLE, PROHIBIT, THROW, NAT, XRESOLVE: route types.
      return isLoc || multicast ? 'no' : 'unknown';
  }
}

/** Any of the listed types (addrtype's `--dst-type LOCAL,UNICAST` means either). */
export function addressTypeAny(
  types: readonly string[],
  address: ParsedAddress,
  local: readonly ParsedAddress[],
): Tri {
  let result: Tri = 'no';
  for (const t of types) {
    const r = addressTypeIs(t, address, local);
    if (r === 'yes') return 'yes';
    if (r === 'unknown') result = 'unknown';
  }
  return result;
}
