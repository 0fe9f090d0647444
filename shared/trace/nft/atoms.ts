// One value as nft writes it (`10.0.0.0/8`, `198.18.0.1-198.18.0.9`, `tcp`, `30001`, `local`,
// `eth*`) tested against one field of the packet: true, false, or undefined when it cannot be told.
import { cidrContains, compareAddresses, type ParsedCidr, parseAddress } from '../cidr';
import type { FieldValue } from './fields';

const PROTO_NUMBERS: Readonly<Record<string, number>> = { tcp: 6, udp: 17, sctp: 132 };
/** Protocol names nft prints that are not the packet's (it is tcp, udp or sctp). */
const OTHER_PROTOS = new Set(['icmp', 'icmpv6', 'igmp', 'udplite', 'dccp', 'esp', 'ah', 'comp', 'gre']);
const FIB_TYPES = new Set([
  'unspec',
  'unicast',
  'local',
  'broadcast',
  'anycast',
  'multicast',
  'blackhole',
  'unreachable',
  'prohibit',
]);

function number(text: string): number | undefined {
  if (/^\d{1,10}$/.test(text)) return Number(text);
  if (/^0x[0-9a-f]{1,8}$/i.test(text)) return Number(text) >>> 0;
  return undefined;
}

function range(text: string): [string, string] | undefined {
  // An IPv6 address has no `-`, so the one `-` splits a range of addresses or of numbers.
  const parts = text.split('-');
  return parts.length === 2 && parts[0] && parts[1] ? [parts[0], parts[1]] : undefined;
}

export function atomMatches(
  field: FieldValue,
  atom: string,
  cidr: (text: string) => ParsedCidr | undefined,
): boolean | undefined {
  switch (field.kind) {
    case 'absent':
      return false;
    case 'unknown':
      return undefined;
    case 'addr': {
      const c = cidr(atom);
      if (c) return cidrContains(c, field.addr);
      const r = range(atom);
      const lo = r && parseAddress(r[0]);
      const hi = r && parseAddress(r[1]);
      if (!lo || !hi) return undefined;
      if (lo.family !== field.addr.family || hi.family !== field.addr.family) return false;
      return compareAddresses(lo, field.addr) <= 0 && compareAddresses(field.addr, hi) <= 0;
    }
    case 'proto': {
      const n = number(atom);
      if (n !== undefined) return n === PROTO_NUMBERS[field.proto];
      if (atom in PROTO_NUMBERS) return atom === field.proto;
      return OTHER_PROTOS.has(atom) ? false : undefined;
    }
    case 'number': {
      const n = number(atom);
      if (n !== undefined) return n === field.value;
      const r = range(atom);
      const lo = r && number(r[0]);
      const hi = r && number(r[1]);
      if (lo === undefined || hi === undefined) return undefined;
      return lo <= field.value && field.value <= hi;
    }
    case 'fib':
      if (atom === 'local') return field.local;
      // Not local: whether it is unicast, broadcast... depends on routes we do not have.
      return FIB_TYPES.has(atom) && field.local ? false : undefined;
    case 'words':
      return field.words.includes(atom);
    case 'iface':
      return atom.endsWith('*') ? field.name.startsWith(atom.slice(0, -1)) : field.name === atom;
    default: {
      const never: never = field;
      return never;
    }
  }
}

/** `<`, `>`, `<=`, `>=` on a number field. */
export function compareMatches(field: FieldValue, op: string, atom: string): boolean | undefined {
  if (field.kind === 'absent') return false;
  const n = number(atom);
  if (field.kind !== 'number' || n === undefined) return undefined;
  if (op === '<') return field.value < n;
  if (op === '>') return field.value > n;
  if (op === '<=') return field.value <= n;
  if (op === '>=') return field.value >= n;
  return undefined;
}
