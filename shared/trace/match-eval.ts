// Does one rule match the packet? Three answers and a fourth for statistic: no, yes, unknown (with
// the reason: a field we were not given, a module we do not model), or yes with a probability.
// A definite "no" from any condition wins over an unknown one, because every condition must hold.
import { and, portConditions, type Tri } from '../kube/port-match';
import { decodeMatch, type KnownMatch } from '../netfilter/decode-match';
import type { MatchOption, Rule } from '../netfilter/model';
import { ASK, lazyFacts } from '../netfilter/rule-view';
import type { Protocol } from '../vocabulary';
import { addressTypeAny } from './address-type';
import { cidrContains, compareAddresses, type ParsedAddress, type ParsedCidr, parseAddress } from './cidr';
import type { setMatcher } from './ipset-match';
import { markMatches } from './mark-state';
import type { MarkState, Packet } from './types';

export type Evaluation =
  | { readonly kind: 'no' }
  | { readonly kind: 'yes'; readonly probability: number }
  | { readonly kind: 'unknown'; readonly reason: string };

export interface EvalContext {
  readonly packet: Packet;
  readonly src: ParsedAddress;
  readonly dst: ParsedAddress;
  readonly local: readonly ParsedAddress[];
  readonly cidr: (text: string) => ParsedCidr | undefined;
  readonly sets: ReturnType<typeof setMatcher>;
}

const NO: Evaluation = { kind: 'no' };

function negate(t: Tri, negated: boolean): Tri {
  if (!negated || t === 'unknown') return t;
  return t === 'yes' ? 'no' : 'yes';
}

function fromBool(b: boolean | undefined, negated = false): Tri {
  return b === undefined ? 'unknown' : negate(b ? 'yes' : 'no', negated);
}

/** `eth0`, or `eth+` for every name starting with `eth`. */
function interfaceMatches(pattern: string, name: string): boolean {
  return pattern.endsWith('+') ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}

const TCP_FLAG_BITS: Readonly<Record<string, number>> = {
  FIN: 1,
  SYN: 2,
  RST: 4,
  PSH: 8,
  ACK: 16,
  URG: 32,
  ECE: 64,
  CWR: 128,
};

function tcpFlags(list: string): number | undefined {
  if (list === 'ALL') return 255;
  if (list === 'NONE') return 0;
  let bits = 0;
  for (const f of list.split(',')) {
    const b = TCP_FLAG_BITS[f];
    if (b === undefined) return undefined;
    bits |= b;
  }
  return bits;
}

/** tcp/udp/sctp options beyond ports. The first packet of a TCP connection is a plain SYN. */
function protocolOptions(kind: Protocol, other: readonly MatchOption[]): { tri: Tri; reason?: string } {
  let tri: Tri = 'yes';
  for (const o of other) {
    if (kind === 'tcp' && o.name === 'syn') {
      tri = and(tri, negate('yes', o.negated));
    } else if (kind === 'tcp' && o.name === 'tcp-flags' && o.values.length === 2) {
      const mask = tcpFlags(o.values[0] ?? '');
      const comp = tcpFlags(o.values[1] ?? '');
      if (mask === undefined || comp === undefined)
        return { tri: 'unknown', reason: `--tcp-flags ${o.values.join(' ')}` };
      tri = and(tri, negate((TCP_FLAG_BITS.SYN! & mask) === comp ? 'yes' : 'no', o.negated));
    } else {
      return { tri: 'unknown', reason: `${kind} --${o.name} is not modelled` };
    }
  }
  return { tri };
}

/** State-style lists (conntrack --ctstate, state --state): the nat table sees NEW connections only. */
function newState(states: readonly string[], negated: boolean): Tri {
  return negate(states.includes('NEW') ? 'yes' : 'no', negated);
}

function inRange(address: ParsedAddress, from: string, to: string): boolean | undefined {
  const a = parseAddress(from);
  const b = parseAddress(to);
  if (!a || !b || a.family !== b.family) return undefined;
  if (a.family !== address.family) return false;
  return compareAddresses(address, a) >= 0 && compareAddresses(address, b) <= 0;
}

const HARMLESS_SET_OPTIONS = new Set(['update-counters', 'update-subcounters']);

/** One match module; `probability` is set for a statistic match that holds only sometimes. */
function evaluateMatch(
  d: KnownMatch,
  ctx: EvalContext,
  mark: MarkState,
): { tri: Tri; reason?: string; probability?: number } {
  const p = ctx.packet;
  switch (d.kind) {
    case 'comment':
      return { tri: 'yes' };
    case 'tcp':
    case 'udp':
    case 'sctp':
      // Ports are judged by portConditions for the whole rule; here only the rest.
      return d.kind === p.protocol ? protocolOptions(d.kind, d.other) : { tri: 'no' };
    case 'multiport':
      return { tri: 'yes' };
    case 'addrtype': {
      if (d.limitIfaceIn || d.limitIfaceOut)
        return { tri: 'unknown', reason: 'addrtype --limit-iface-* is not modelled' };
      let tri: Tri = 'yes';
      if (d.srcType)
        tri = and(tri, negate(addressTypeAny(d.srcType.value, ctx.src, ctx.local), d.srcType.negated));
      if (d.dstType)
        tri = and(tri, negate(addressTypeAny(d.dstType.value, ctx.dst, ctx.local), d.dstType.negated));
      return tri === 'unknown' ? { tri, reason: 'addrtype depends on routes we do not know' } : { tri };
    }
    case 'mark': {
      const m = markMatches(mark, d.value, d.mask);
      return m === undefined
        ? {
            tri: 'unknown',
            reason: `mark ${d.value.toString(16)}/${d.mask.toString(16)}: the packet mark is not known`,
          }
        : { tri: fromBool(m, d.negated) };
    }
    case 'connmark':
      return { tri: 'unknown', reason: 'connmark: the connection mark is not known' };
    case 'conntrack': {
      const modelled = Object.keys(d).every((k) => k === 'kind' || k === 'states' || k === 'other');
      if (!modelled || d.other.length > 0 || !d.states)
        return { tri: 'unknown', reason: 'conntrack beyond --ctstate is not modelled' };
      return { tri: newState(d.states.value, d.states.negated) };
    }
    case 'state':
      return { tri: newState(d.states.value, d.states.negated) };
    case 'set': {
      if (d.other.some((o) => !HARMLESS_SET_OPTIONS.has(o.name))) {
        return {
          tri: 'unknown',
          reason: `set ${d.setName}: options ${d.other.map((o) => `--${o.name}`).join(' ')} not modelled`,
        };
      }
      return ctx.sets(d);
    }
    case 'statistic': {
      const share = d.mode === 'random' ? d.probability : 1 / d.every;
      return { tri: 'yes', probability: d.negated ? 1 - share : share };
    }
    case 'iprange': {
      let tri: Tri = 'yes';
      if (d.srcRange)
        tri = and(
          tri,
          fromBool(inRange(ctx.src, d.srcRange.value.from, d.srcRange.value.to), d.srcRange.negated),
        );
      if (d.dstRange)
        tri = and(
          tri,
          fromBool(inRange(ctx.dst, d.dstRange.value.from, d.dstRange.value.to), d.dstRange.negated),
        );
      return tri === 'unknown' ? { tri, reason: 'iprange bounds are not addresses' } : { tri };
    }
    case 'icmp':
    case 'icmp6':
      // The packet is TCP, UDP or SCTP.
      return { tri: 'no' };
    case 'recent':
      return {
        tri: 'unknown',
        reason: `recent ${d.listName}: depends on earlier packets (session affinity)`,
      };
    case 'limit':
      return { tri: 'unknown', reason: 'limit: depends on the packet rate' };
    case 'physdev':
      return { tri: 'unknown', reason: 'physdev: bridge ports are not modelled' };
    case 'socket':
      return { tri: 'unknown', reason: 'socket: local sockets are not known' };
    case 'owner':
      return { tri: 'unknown', reason: 'owner: only for locally generated packets' };
    case 'unknown':
      return {
        tri: 'unknown',
        reason: `-m ${d.match.module}${d.reason ? `: ${d.reason}` : ' is not modelled'}`,
      };
  }
}

function addressCondition(value: string, negated: boolean, address: ParsedAddress, ctx: EvalContext): Tri {
  const c = ctx.cidr(value);
  return c ? negate(cidrContains(c, address) ? 'yes' : 'no', negated) : 'unknown';
}

/**
 * Whether a lazily parsed rule certainly misses the packet, from the facts its line was read with:
 * its -d, positive -p and single --dport. A rule misses when any one condition says no (see
 * evaluateRule), so this answers as the decoded rule would; KUBE-SERVICES and KUBE-NODEPORTS of a
 * big node are thousands of such rules, and decoding each cost most of a trace.
 */
function lazyMiss(rule: Rule, ctx: EvalContext): boolean {
  const facts = lazyFacts(rule);
  if (facts === undefined) return false;
  const d = facts.destinationValue();
  if (d && addressCondition(d.value, d.negated, ctx.dst, ctx) === 'no') return true;
  const protocol = facts.protocolName();
  if (protocol !== ASK && protocol !== undefined && protocol !== ctx.packet.protocol) return true;
  const dport = facts.singleDport();
  return dport !== ASK && dport !== undefined && dport !== ctx.packet.dport;
}

export function evaluateRule(rule: Rule, ctx: EvalContext, mark: MarkState): Evaluation {
  if (lazyMiss(rule, ctx)) return NO;
  const p = ctx.packet;
  let reason: string | undefined;
  const unknown = (why: string) => {
    reason ??= why;
  };
  // Cheap, most selective fields first: KUBE-SERVICES has a `-d clusterIP/32` rule per service.
  if (rule.destination) {
    const t = addressCondition(rule.destination.value, rule.destination.negated, ctx.dst, ctx);
    if (t === 'no') return NO;
    if (t === 'unknown') unknown(`-d ${rule.destination.value} is not an address`);
  }
  if (rule.source) {
    const t = addressCondition(rule.source.value, rule.source.negated, ctx.src, ctx);
    if (t === 'no') return NO;
    if (t === 'unknown') unknown(`-s ${rule.source.value} is not an address`);
  }
  const ports = portConditions(rule, p.protocol, p.dport, p.sport);
  if (ports === 'no') return NO;
  if (ports === 'unknown') unknown('a port condition needs the source port');
  if (rule.inInterface) {
    if (p.inInterface === undefined)
      unknown(`-i ${rule.inInterface.value}: the packet's interface is not given`);
    else if (
      negate(
        interfaceMatches(rule.inInterface.value, p.inInterface) ? 'yes' : 'no',
        rule.inInterface.negated,
      ) === 'no'
    ) {
      return NO;
    }
  }
  if (rule.outInterface) unknown(`-o ${rule.outInterface.value}: no output interface before routing`);
  // The first packet of a connection is never a non-first fragment.
  if (rule.fragment && !rule.fragment.negated) return NO;

  let probability = 1;
  for (const m of rule.matches) {
    if (m.module === 'comment') continue;
    const r = evaluateMatch(decodeMatch(m), ctx, mark);
    if (r.tri === 'no') return NO;
    if (r.tri === 'unknown') unknown(r.reason ?? `-m ${m.module}`);
    if (r.probability !== undefined) probability *= r.probability;
  }
  if (reason !== undefined) return { kind: 'unknown', reason };
  return probability <= 0 ? NO : { kind: 'yes', probability };
}
