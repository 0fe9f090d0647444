// Addresses and CIDRs as byte arrays, parsed once with ipaddr.js and then compared byte by byte.
// The tracer tests the same few CIDRs against one packet over and over (KUBE-SERVICES has a rule
// per service), so parsing is cached and matching is a tight loop, not an ipaddr.js call per rule.
import ipaddr from 'ipaddr.js';
import type { Family } from '../vocabulary';

export interface ParsedAddress {
  readonly family: Family;
  readonly bytes: readonly number[];
}

/** A network as iptables holds it: address and mask, so dotted masks like /255.0.255.0 work too. */
export interface ParsedCidr {
  readonly family: Family;
  readonly network: readonly number[];
  readonly mask: readonly number[];
}

/** Strict dotted-quad IPv4 or IPv6 without a zone; iptables never writes the exotic ipaddr.js forms. */
export function parseAddress(text: string): ParsedAddress | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) {
    return { family: 'ipv4', bytes: ipaddr.IPv4.parse(text).toByteArray() };
  }
  if (!text.includes('%') && ipaddr.IPv6.isValid(text)) {
    return { family: 'ipv6', bytes: ipaddr.IPv6.parse(text).toByteArray() };
  }
  return undefined;
}

function prefixMask(byteLength: number, prefix: number): number[] {
  const mask: number[] = [];
  for (let i = 0; i < byteLength; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    mask.push(bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff);
  }
  return mask;
}

/** `10.0.0.0/8`, `fd00::/8`, a bare host address, or a dotted mask `10.0.0.0/255.0.255.0`. */
export function parseCidr(text: string): ParsedCidr | undefined {
  const slash = text.indexOf('/');
  const address = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (!address) return undefined;
  const width = address.bytes.length;
  let mask: number[];
  if (slash < 0) {
    mask = prefixMask(width, width * 8);
  } else {
    const suffix = text.slice(slash + 1);
    if (/^\d{1,3}$/.test(suffix)) {
      const prefix = Number(suffix);
      if (prefix > width * 8) return undefined;
      mask = prefixMask(width, prefix);
    } else {
      const dotted = address.family === 'ipv4' ? parseAddress(suffix) : undefined;
      if (dotted?.family !== 'ipv4') return undefined;
      mask = [...dotted.bytes];
    }
  }
  const network = address.bytes.map((b, i) => b & (mask[i] ?? 0));
  return { family: address.family, network, mask };
}

/** False for a family mismatch: an IPv4 rule never matches an IPv6 packet. */
export function cidrContains(cidr: ParsedCidr, address: ParsedAddress): boolean {
  if (cidr.family !== address.family) return false;
  const { network, mask } = cidr;
  const bytes = address.bytes;
  for (let i = 0; i < bytes.length; i++) {
    if (((bytes[i] ?? 0) & (mask[i] ?? 0)) !== network[i]) return false;
  }
  return true;
}

/** Compare two addresses of one family as unsigned numbers (for ipset and iprange ranges). */
export function compareAddresses(a: ParsedAddress, b: ParsedAddress): number {
  for (let i = 0; i < a.bytes.length; i++) {
    const d = (a.bytes[i] ?? 0) - (b.bytes[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function sameAddress(a: ParsedAddress, b: ParsedAddress): boolean {
  return a.family === b.family && compareAddresses(a, b) === 0;
}

/** A parse cache for the strings of one table: the same CIDR text is parsed once per trace. */
export function cidrCache(): (text: string) => ParsedCidr | undefined {
  const cache = new Map<string, ParsedCidr | undefined>();
  return (text) => {
    if (cache.has(text)) return cache.get(text);
    const parsed = parseCidr(text);
    cache.set(text, parsed);
    return parsed;
  };
}
