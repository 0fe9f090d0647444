// Audit mode: which sources would the guard have blocked? The audit rule (rules.ts) only counts: per-
// source counting in iptables needs LOG/NFLOG, which would write to the node's kernel log and need a
// log reader. Instead the engine lists the port's connections from conntrack, which already holds each
// flow's original source, and this module keeps those the allow-list does not admit:
//
//   conntrack -L -f ipv4 -p tcp --orig-port-dst 30001     (and -f ipv6; -p udp / sctp likewise)
//
// conntrack shows live flows and recently closed ones (TCP close-wait timers, UDP ~30-120 s), so the
// list is "sources seen recently"; the audit rule's counters give the total since apply.
import type { Family, Protocol } from '../vocabulary';
import { findAllowing } from './allow-list';
import { type CidrValue, parseCidr } from './cidr';
import type { GuardedPort } from './desired';

export interface ConntrackFlow {
  readonly protocol: string;
  /** Original direction: the client. */
  readonly source: string;
  readonly destination: string;
  readonly destinationPort: number;
}

const PROTOCOLS = new Set(['tcp', 'udp', 'sctp', 'dccp', 'udplite', 'icmp', 'icmpv6', 'gre', 'unknown']);

/**
 * Flows from `conntrack -L` output, plain or `-o extended`. The first `src=`/`dst=`/`dport=` of a
 * line are the original direction. Lines that are not flows (the summary line) are skipped.
 */
export function parseConntrackFlows(text: string): readonly ConntrackFlow[] {
  const flows: ConntrackFlow[] = [];
  for (const line of text.split('\n')) {
    const tokens = line.trim().split(/\s+/);
    const protocol = tokens.find((t) => PROTOCOLS.has(t));
    const field = (name: string) => tokens.find((t) => t.startsWith(`${name}=`))?.slice(name.length + 1);
    const source = field('src');
    const destination = field('dst');
    const dport = field('dport');
    if (!protocol || !source || !destination || !dport || !/^\d{1,5}$/.test(dport)) continue;
    flows.push({ protocol, source, destination, destinationPort: Number(dport) });
  }
  return flows;
}

export interface AuditedSource {
  readonly family: Family;
  readonly source: string;
  /** Flows of this source to the port in the listing. */
  readonly flows: number;
}

/** Sources of flows to the guarded port that the allow-list does not admit, most flows first. */
export function wouldBeBlocked(
  port: Pick<GuardedPort, 'port' | 'protocol' | 'allow'>,
  flows: readonly ConntrackFlow[],
): readonly AuditedSource[] {
  const counts = new Map<string, { value: CidrValue; flows: number }>();
  for (const f of flows) {
    if (f.protocol !== (port.protocol satisfies Protocol) || f.destinationPort !== port.port) continue;
    const r = parseCidr(f.source);
    if (!r.ok || findAllowing(port.allow, r.value)) continue;
    const seen = counts.get(r.value.cidr);
    if (seen) seen.flows += 1;
    else counts.set(r.value.cidr, { value: r.value, flows: 1 });
  }
  return [...counts.values()]
    .sort((a, b) => b.flows - a.flows || (a.value.key < b.value.key ? -1 : 1))
    .map((c) => ({ family: c.value.family, source: c.value.address, flows: c.flows }));
}
