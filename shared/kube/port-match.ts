// Protocol and port conditions of a rule: `-p`, `-m tcp --dport N[:M]`, `-m multiport --dports`.
// The topology asks "can this rule touch NodePort P/proto?"; the tracer asks "does it match this
// packet?". Both read the same conditions here, so they never disagree about a port range.
import { decodeMatch } from '../netfilter/decode';
import type { PortRange } from '../netfilter/decode-values';
import type { Rule } from '../netfilter/model';
import type { Protocol } from '../vocabulary';

/** Three-valued: a condition we cannot decide from what we know is `unknown`, never a guess. */
export type Tri = 'yes' | 'no' | 'unknown';

const PROTOCOL_NUMBERS: Readonly<Record<string, string>> = { '6': 'tcp', '17': 'udp', '132': 'sctp' };

/** `-p` against a packet protocol. `all`/`0` match everything. */
export function protocolMatches(rule: Rule, protocol: Protocol): boolean {
  const p = rule.protocol;
  if (!p) return true;
  const lower = p.value.toLowerCase();
  const name = PROTOCOL_NUMBERS[lower] ?? lower;
  const hit = name === 'all' || name === '0' || name === protocol;
  return p.negated ? !hit : hit;
}

function within(r: PortRange, port: number): boolean {
  return port >= r.from && port <= r.to;
}

function tri(value: boolean | undefined, negated: boolean): Tri {
  if (value === undefined) return 'unknown';
  return value !== negated ? 'yes' : 'no';
}

export function and(a: Tri, b: Tri): Tri {
  if (a === 'no' || b === 'no') return 'no';
  return a === 'unknown' || b === 'unknown' ? 'unknown' : 'yes';
}

const PORT_MODULES = new Set(['tcp', 'udp', 'sctp', 'multiport']);

/**
 * The rule's protocol and port conditions against a packet's protocol and ports. A rule without
 * port conditions is `yes` here; its other conditions are somebody else's question. A source
 * port condition is `unknown` when the source port is not given, and so is a port module the
 * decoder could not read.
 */
export function portConditions(
  rule: Rule,
  protocol: Protocol,
  dport: number,
  sport: number | undefined,
): Tri {
  if (!protocolMatches(rule, protocol)) return 'no';
  let result: Tri = 'yes';
  for (const m of rule.matches) {
    if (!PORT_MODULES.has(m.module)) continue;
    // `-m tcp` on a UDP packet never matches (iptables demands `-p tcp` for it anyway).
    if (m.module !== 'multiport' && m.module !== protocol) return 'no';
    const d = decodeMatch(m);
    if (d.kind === 'tcp' || d.kind === 'udp' || d.kind === 'sctp') {
      if (d.dport) result = and(result, tri(within(d.dport.value, dport), d.dport.negated));
      if (d.sport)
        result = and(
          result,
          tri(sport === undefined ? undefined : within(d.sport.value, sport), d.sport.negated),
        );
    } else if (d.kind === 'multiport') {
      const hitD = d.ports.some((r) => within(r, dport));
      const hitS = sport === undefined ? undefined : d.ports.some((r) => within(r, sport));
      // --ports matches when either port is in the list.
      const hit =
        d.side === 'destination'
          ? hitD
          : d.side === 'source'
            ? hitS
            : hitD || hitS === true
              ? true
              : hitS === undefined
                ? undefined
                : false;
      result = and(result, tri(hit, d.negated));
    } else {
      result = and(result, 'unknown');
    }
    if (result === 'no') return 'no';
  }
  return result;
}
