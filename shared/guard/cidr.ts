// Addresses and CIDRs of an allow-list, parsed strictly and normalised so that two spellings of the same
// network compare equal and print exactly as `iptables-save` / `ip6tables-save` print a `-s` value.
//
// ipaddr.js does the address maths, but its parser is lenient in ways that are dangerous for a firewall
// ("010.0.0.1" is octal 8.0.0.1, "10" is 0.0.0.10, "fe80::1%eth0" carries a zone), so the text is
// checked against a strict grammar first and only then handed to ipaddr.js.
import ipaddr from 'ipaddr.js';
import { type Family, familyName } from '../vocabulary';
import { type FieldError, fieldError, showValue } from './field-error';

declare const cidrBrand: unique symbol;
/** A normalised CIDR: network address with host bits cleared, always with a prefix length. */
export type Cidr = string & { readonly [cidrBrand]: 'Cidr' };

export interface CidrValue {
  readonly cidr: Cidr;
  readonly family: Family;
  /** Network address as ip(6)tables-save prints it (RFC 5952 for IPv6). */
  readonly address: string;
  readonly prefix: number;
  /** Fixed-width sort key (family, network bytes, prefix): string order equals numeric order. */
  readonly key: string;
}

export type CidrNote =
  | { readonly kind: 'host-bits-cleared'; readonly from: string; readonly to: Cidr }
  | { readonly kind: 'ipv4-mapped'; readonly from: string; readonly to: Cidr };

export type ParseCidrResult =
  | { readonly ok: true; readonly value: CidrValue; readonly notes: readonly CidrNote[] }
  | { readonly ok: false; readonly error: FieldError };

const ALLOWED_CHARS = /^[0-9A-Fa-f:./]*$/;
const DECIMAL = /^(?:0|[1-9][0-9]{0,2})$/;
const MAX_PREFIX: Readonly<Record<Family, number>> = { ipv4: 32, ipv6: 128 };

/**
 * Parse an address (`198.18.0.7`, `2001:2::1`) or CIDR (`198.18.0.0/15`) into a normalised CIDR.
 * A bare address becomes /32 or /128. Host bits are cleared and reported as a note. An IPv4-mapped
 * IPv6 value (`::ffff:198.18.0.7`, prefix >= 96) becomes the IPv4 CIDR it means, because such a source
 * only ever reaches the node as an IPv4 packet (iptables), never through ip6tables.
 */
export function parseCidr(text: string, path = ''): ParseCidrResult {
  const fail = (reason: string): ParseCidrResult => ({ ok: false, error: fieldError(path, reason) });
  const notAddress = `${showValue(text)} is not an IPv4 or IPv6 address or CIDR`;
  if (text === '') return fail(`${showValue(text)} is empty; expected an IPv4 or IPv6 address or CIDR`);
  if (!ALLOWED_CHARS.test(text)) {
    const bad = [...text].find((c) => !ALLOWED_CHARS.test(c)) ?? '';
    return fail(`${notAddress} (character ${showValue(bad)} is not allowed)`);
  }
  const parts = text.split('/');
  if (parts.length > 2) return fail(notAddress);
  const [addressText = '', prefixText] = parts;
  const family = strictFamily(addressText);
  if (!family) return fail(notAddress);
  let prefix = MAX_PREFIX[family];
  if (prefixText !== undefined) {
    if (!DECIMAL.test(prefixText)) return fail(notAddress);
    prefix = Number(prefixText);
    if (prefix > MAX_PREFIX[family]) {
      return fail(
        `${showValue(text)} has prefix length ${prefix}; ${familyName(family)} allows 0-${MAX_PREFIX[family]}`,
      );
    }
  }

  const notes: CidrNote[] = [];
  let addr = ipaddr.parse(addressText);
  if (addr.kind() === 'ipv6' && prefix >= 96 && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    addr = (addr as ipaddr.IPv6).toIPv4Address();
    prefix -= 96;
    const mapped = build(addr, prefix);
    notes.push({ kind: 'ipv4-mapped', from: text, to: mapped.cidr });
  }
  const value = build(addr, prefix);
  if (value.address !== canonicalAddress(addr))
    notes.push({ kind: 'host-bits-cleared', from: text, to: value.cidr });
  return { ok: true, value, notes };
}

/** The CIDR if `text` is a valid address or CIDR (normalised), else undefined. */
export function toCidr(text: string): CidrValue | undefined {
  const r = parseCidr(text);
  return r.ok ? r.value : undefined;
}

/** True when every address of `inner` lies inside `outer` (same family). */
export function cidrContains(outer: CidrValue, inner: CidrValue): boolean {
  if (outer.family !== inner.family || inner.prefix < outer.prefix) return false;
  return ipaddr.parse(inner.address).match(ipaddr.parse(outer.address), outer.prefix);
}

/** True when the two CIDRs share at least one address (CIDRs are either nested or disjoint). */
export function cidrsOverlap(a: CidrValue, b: CidrValue): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** IPv4 before IPv6, then by network address, then wider (shorter prefix) first. */
export function compareCidrs(a: CidrValue, b: CidrValue): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function strictFamily(address: string): Family | undefined {
  if (address.includes(':')) {
    // An embedded dotted quad (`::ffff:198.18.0.7`) must be plain decimal too.
    const tail = address.slice(address.lastIndexOf(':') + 1);
    if (tail.includes('.') && !ipaddr.IPv4.isValidFourPartDecimal(tail)) return undefined;
    return ipaddr.IPv6.isValid(address) ? 'ipv6' : undefined;
  }
  return ipaddr.IPv4.isValidFourPartDecimal(address) ? 'ipv4' : undefined;
}

function canonicalAddress(addr: ipaddr.IPv4 | ipaddr.IPv6): string {
  return addr.kind() === 'ipv4' ? addr.toString() : (addr as ipaddr.IPv6).toRFC5952String();
}

function build(addr: ipaddr.IPv4 | ipaddr.IPv6, prefix: number): CidrValue {
  const family: Family = addr.kind();
  const network =
    family === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(`${addr.toString()}/${prefix}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${addr.toString()}/${prefix}`);
  const address = canonicalAddress(network);
  const hex = network
    .toByteArray()
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('');
  return {
    cidr: `${address}/${prefix}` as Cidr,
    family,
    address,
    prefix,
    key: `${family === 'ipv4' ? '4' : '6'}${hex}/${String(prefix).padStart(3, '0')}`,
  };
}
