// Small read-only questions the topology asks about one rule (its port, its statistic share,
// where its DNAT goes), answered through the netfilter decoders so that every module is read
// one way in the whole app. What is kube-proxy specific (service names, "conditional") stays here.
import { decodeMatch, decodeTarget, type NatRange, parseNatRange, type SetMatch } from '../netfilter/decode';
import type { Match, Rule } from '../netfilter/model';
import { ASK, lazyFacts, ruleHasModule, ruleTargetName } from '../netfilter/rule-view';
import type { Protocol } from '../vocabulary';

export function findMatch(rule: Rule, module: string): Match | undefined {
  return rule.matches.find((m) => m.module === module);
}

/** The protocol of `-p PROTO` when it is positive and one kube-proxy uses. */
export function protocolOf(rule: Rule): Protocol | undefined {
  const lazy = lazyFacts(rule);
  if (lazy) {
    const p = lazy.protocolName();
    if (p !== ASK) return p;
  }
  const p = rule.protocol;
  if (!p || p.negated) return undefined;
  const v = p.value.toLowerCase();
  return v === 'tcp' || v === 'udp' || v === 'sctp' ? v : undefined;
}

/** A single positive `--dport N` of the tcp/udp/sctp match, the way kube-proxy writes NodePorts. */
export function singleDestinationPort(rule: Rule): number | undefined {
  const lazy = lazyFacts(rule);
  if (lazy) {
    const p = lazy.singleDport();
    if (p !== ASK) return p;
  }
  for (const m of rule.matches) {
    if (m.module !== 'tcp' && m.module !== 'udp' && m.module !== 'sctp') continue;
    const d = decodeMatch(m);
    if (d.kind !== m.module || !d.dport || d.dport.negated) continue;
    if (d.dport.value.from === d.dport.value.to) return d.dport.value.from;
  }
  return undefined;
}

/** `--probability P` of `-m statistic --mode random`; undefined when the rule has no such match. */
export function randomProbability(rule: Rule): number | undefined {
  const lazy = lazyFacts(rule);
  if (lazy) {
    const p = lazy.probabilityFrom(probabilityAt);
    if (p !== ASK) return p;
  }
  const m = findMatch(rule, 'statistic');
  if (!m) return undefined;
  const d = decodeMatch(m);
  return d.kind === 'statistic' && d.mode === 'random' && !d.negated ? d.probability : undefined;
}

/** decodeMatch's reading of a statistic `--probability` value (a number from 0 to 1). */
export function probabilityValue(v: string): number | undefined {
  const n = Number(v);
  return v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1 ? undefined : n;
}

/** The single address and optional port of a DNAT target (kube-proxy never writes ranges). */
export function dnatDestination(
  rule: Rule,
): { readonly address: string; readonly port?: number } | undefined {
  const d = dnatHostPort(rule);
  if (d?.hostPort === undefined) return d;
  return { address: d.address, port: d.port! };
}

/**
 * dnatDestination, with `hostPort`: the value as written when it is joinHostPort(address, port)
 * (a slice of the dump, no new string), else undefined.
 */
export function dnatHostPort(
  rule: Rule,
): { readonly address: string; readonly port?: number; readonly hostPort?: string | undefined } | undefined {
  if (ruleTargetName(rule) !== 'DNAT') return undefined;
  const lazy = lazyFacts(rule);
  if (lazy) {
    const simple = lazy.dnatIpv4Port();
    if (simple) return simple;
    const text = lazy.dnatText();
    if (text !== ASK) return text === undefined ? undefined : singleNatDestination(parseNatRange(text));
  }
  const t = rule.target;
  if (t?.name !== 'DNAT') return undefined;
  const d = decodeTarget(t);
  return singleNatDestination(d.kind === 'dnat' && d.to.length === 1 ? d.to[0] : undefined);
}

function singleNatDestination(
  to: NatRange | undefined,
): { readonly address: string; readonly port?: number } | undefined {
  const a = to?.addresses;
  if (!a || a.from !== a.to) return undefined;
  const p = to.ports;
  if (p && p.from !== p.to) return undefined;
  return p ? { address: a.from, port: p.from } : { address: a.from };
}

/** `--to-ports` of REDIRECT: the first port of `P` or `P-Q`. */
export function redirectPort(rule: Rule): number | undefined {
  const t = rule.target;
  if (t?.name !== 'REDIRECT') return undefined;
  const d = decodeTarget(t);
  return d.kind === 'redirect' ? d.toPorts?.from : undefined;
}

/** Every `-m set --match-set NAME FLAGS` of the rule. */
export function setMatches(rule: Rule): readonly SetMatch[] {
  const out: SetMatch[] = [];
  if (!ruleHasModule(rule, 'set')) return out;
  for (const m of rule.matches) {
    if (m.module !== 'set') continue;
    const d = decodeMatch(m);
    if (d.kind === 'set') out.push(d);
  }
  return out;
}

function onlyDestinationPort(m: Match): boolean {
  for (let i = 0; i < m.options.length; i++) {
    const o = m.options[i]!;
    if ((o.name !== 'dport' && o.name !== 'destination-port') || o.negated) return false;
  }
  return true;
}

/**
 * True when the rule tests something beyond protocol, destination port and comment: a source
 * address, an addrtype, a mark. Used to tell "always masquerade" from "masquerade some", and the
 * jump every packet of a NodePort takes from the ones only pod or node-local traffic takes.
 */
export function hasConditions(rule: Rule): boolean {
  const lazy = lazyFacts(rule);
  if (lazy) return lazy.hasConditions();
  if (rule.source || rule.destination || rule.inInterface || rule.outInterface || rule.fragment) return true;
  if (rule.protocol?.negated) return true;
  for (const m of rule.matches) {
    if (m.module === 'comment') continue;
    if ((m.module === 'tcp' || m.module === 'udp' || m.module === 'sctp') && onlyDestinationPort(m)) continue;
    return true;
  }
  return false;
}

/**
 * `ns/name:port` or `ns/name` at the start of a kube-proxy comment. Older kube-proxy wrote a port
 * without a name as `ns/name:` (trailing colon): that is the service `ns/name`.
 */
const SERVICE_PORT_NAME =
  /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?)(?::([-a-z0-9]*))?(?:\s|$)/;

/** The service port name kube-proxy puts at the front of its comments, if the comment has one. */
export function serviceFromComment(comment: string | undefined): string | undefined {
  if (comment === undefined) return undefined;
  const m = SERVICE_PORT_NAME.exec(comment);
  if (!m) return undefined;
  return m[4] ? `${m[1]}:${m[4]}` : m[1];
}

const ZERO = 48;
const DOT = 46;
/** Below 2^53: every integer of up to 15 digits is exact, and so is its quotient by 10^k (k <= 15). */
const EXACT_DIGITS = 15;
const POWERS_OF_TEN = Array.from({ length: EXACT_DIGITS + 1 }, (_, k) => 10 ** k);

/**
 * probabilityValue of `text[start, end)` without making its string. kube-proxy writes
 * `0.33333333349`: digits N with k decimals are N / 10^k, which for N < 2^53 is exactly what
 * Number() gives (both are the correctly rounded double). Any other form goes the string way.
 */
export function probabilityAt(text: string, start: number, end: number): number | undefined {
  let n = 0;
  let digits = 0;
  let decimals = -1;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === DOT && decimals < 0 && digits > 0) decimals = 0;
    else if (c >= ZERO && c <= ZERO + 9) {
      n = n * 10 + (c - ZERO);
      digits++;
      if (decimals >= 0) decimals++;
    } else return probabilityValue(text.slice(start, end));
  }
  if (digits === 0 || digits > EXACT_DIGITS || decimals === 0)
    return probabilityValue(text.slice(start, end));
  const value = decimals < 0 ? n : n / POWERS_OF_TEN[decimals]!;
  return value <= 1 ? value : undefined;
}
