// The checks every tracer makes of the packet before walking any rule: both addresses parse, they
// are of one family, and the port is a port. One place, so the iptables and nft walks refuse the
// same packets with the same words.
import { type ParsedAddress, parseAddress } from './cidr';

export function checkPacket(packet: {
  readonly src: string;
  readonly dst: string;
  readonly dport: number;
}): { ok: true; src: ParsedAddress; dst: ParsedAddress } | { ok: false; reason: string } {
  const src = parseAddress(packet.src);
  const dst = parseAddress(packet.dst);
  if (!src) return { ok: false, reason: `source ${packet.src} is not an IP address` };
  if (!dst) return { ok: false, reason: `destination ${packet.dst} is not an IP address` };
  if (src.family !== dst.family)
    return { ok: false, reason: 'source and destination are of different IP families' };
  if (!Number.isInteger(packet.dport) || packet.dport < 0 || packet.dport > 65535)
    return { ok: false, reason: `destination port ${packet.dport} is out of range` };
  return { ok: true, src, dst };
}
