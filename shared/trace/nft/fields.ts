// A selector of an nft rule (`ip saddr`, `meta l4proto`, `th dport`, `fib daddr type`, `ct state`,
// `meta mark & 0x4000`) read off the first packet of a new connection. A field the packet does not
// have (`ip saddr` of an IPv6 packet in an inet table, `udp dport` of a TCP packet) is `absent`:
// nft's implicit dependency fails and the rule does not match. A field we cannot know is `unknown`.
import type { Protocol } from '../../vocabulary';
import type { ParsedAddress } from '../cidr';
import { markMatches } from '../mark-state';
import type { MarkState, Packet } from '../types';

export type FieldValue =
  | { readonly kind: 'addr'; readonly addr: ParsedAddress }
  | { readonly kind: 'proto'; readonly proto: Protocol }
  | { readonly kind: 'number'; readonly value: number }
  /** `fib ADDR type`: whether ADDR is one of the node's own. */
  | { readonly kind: 'fib'; readonly local: boolean }
  /** Named values the packet has: `ct state` new, `meta nfproto` ipv4. */
  | { readonly kind: 'words'; readonly words: readonly string[] }
  | { readonly kind: 'iface'; readonly name: string }
  | { readonly kind: 'absent' }
  | { readonly kind: 'unknown'; readonly reason: string };

export interface FieldContext {
  readonly packet: Packet;
  readonly src: ParsedAddress;
  readonly dst: ParsedAddress;
  readonly isLocal: (a: ParsedAddress) => boolean;
}

const ABSENT: FieldValue = { kind: 'absent' };
/** The transport headers `th` reads; the packet's protocol is always one of them. */
const TRANSPORTS = new Set(['th', 'tcp', 'udp', 'sctp', 'udplite', 'dccp']);

function address(ctx: FieldContext, proto: string, field: string): FieldValue {
  const family = proto === 'ip' ? 'ipv4' : 'ipv6';
  if (ctx.src.family !== family) return ABSENT;
  if (field === 'saddr') return { kind: 'addr', addr: ctx.src };
  if (field === 'daddr') return { kind: 'addr', addr: ctx.dst };
  return { kind: 'unknown', reason: `${proto} ${field} is not modelled` };
}

function port(ctx: FieldContext, proto: string, field: string): FieldValue {
  if (proto !== 'th' && proto !== ctx.packet.protocol) return ABSENT;
  if (field === 'dport') return { kind: 'number', value: ctx.packet.dport };
  if (field === 'sport')
    return ctx.packet.sport === undefined
      ? { kind: 'unknown', reason: 'the source port is not given' }
      : { kind: 'number', value: ctx.packet.sport };
  return { kind: 'unknown', reason: `${proto} ${field} is not modelled` };
}

/** `meta mark`, `mark`, with an optional `& MASK` (`meta mark & 0x00004000`). */
function mark(text: string, state: MarkState): FieldValue {
  const m = /^meta mark(?: (?:&|and) (0x[0-9a-f]{1,8}|\d{1,10}))?$/i.exec(text);
  if (!m) return { kind: 'unknown', reason: `${text} is not modelled` };
  const mask = m[1] === undefined ? 0xffff_ffff : Number(m[1]) >>> 0;
  if (markMatches(state, 0, mask) === undefined)
    return { kind: 'unknown', reason: "the packet's mark is not known on entry" };
  return { kind: 'number', value: (state.value & mask) >>> 0 };
}

export function fieldOf(part: string, ctx: FieldContext, markState: MarkState): FieldValue {
  const words = part.split(' ');
  const [a = '', b = ''] = words;
  if (words.length === 2 && (a === 'ip' || a === 'ip6') && (b === 'saddr' || b === 'daddr'))
    return address(ctx, a, b);
  if (words.length === 2 && TRANSPORTS.has(a) && (b === 'dport' || b === 'sport')) return port(ctx, a, b);
  if (part === 'meta l4proto' || part === 'ip protocol' || part === 'ip6 nexthdr') {
    if (a === 'ip' && ctx.src.family !== 'ipv4') return ABSENT;
    if (a === 'ip6' && ctx.src.family !== 'ipv6') return ABSENT;
    return { kind: 'proto', proto: ctx.packet.protocol };
  }
  if (part === 'meta nfproto') return { kind: 'words', words: [ctx.src.family] };
  if (part === 'fib daddr type') return { kind: 'fib', local: ctx.isLocal(ctx.dst) };
  if (part === 'fib saddr type') return { kind: 'fib', local: ctx.isLocal(ctx.src) };
  // The first packet of a connection: conntrack made the entry just now, in the original direction.
  if (part === 'ct state') return { kind: 'words', words: ['new'] };
  if (part === 'ct direction') return { kind: 'words', words: ['original'] };
  if (part === 'meta iifname' || part === 'meta iif')
    return ctx.packet.inInterface === undefined
      ? { kind: 'unknown', reason: 'the incoming interface is not given' }
      : { kind: 'iface', name: ctx.packet.inInterface };
  if (a === 'meta' && b === 'mark') return mark(part, markState);
  return { kind: 'unknown', reason: `${part} is not modelled` };
}
