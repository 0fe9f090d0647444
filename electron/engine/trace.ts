// Trace a packet on a dump: parse, then walk it with shared/trace: nat PREROUTING for an
// iptables-save dump, every prerouting base chain (then input or forward) for an nft ruleset. The
// verdicts are also rendered for people (CLI table, UI) here, from one place, the same way for both.
import type { TraceOutcomeView, TraceResponse } from '../../shared/api.js';
import { serializeRule } from '../../shared/netfilter/index.js';
import { assertNever, type Rule } from '../../shared/netfilter/model.js';
import {
  KUBE_PROXY_TABLE,
  type NftRuleset,
  parseNftRuleset,
  sniffDumpSyntax,
} from '../../shared/nftables/index.js';
import { visibleText } from '../../shared/text/visible.js';
import {
  branchReason,
  mergeRulesets,
  type NftRuleAt,
  type NftTrace,
  parseAddress,
  type Trace,
  type TracedRule,
  traceNftPacket,
  tracePacket,
  type Verdict,
} from '../../shared/trace/index.js';
import type { Protocol } from '../../shared/vocabulary.js';
import { type DumpInput, readDump } from './inspect.js';

export interface TracePacketFields {
  readonly src: string;
  readonly dst: string;
  readonly dport: number;
  readonly protocol: Protocol;
  readonly inInterface?: string;
  readonly localAddresses: readonly string[];
}

export interface TraceDumpInput extends TracePacketFields {
  readonly dump: DumpInput;
}

export type TraceDumpOutcome =
  | { readonly ok: true; readonly value: { readonly trace: Trace | NftTrace; readonly view: TraceResponse } }
  | { readonly ok: false; readonly message: string };

/** How a rule of each walk is shown: iptables-save syntax, or nft's with its table and chain. */
type RuleText<R> = (rule: R) => string;

/** Where an nft rule sits and what it says; counter values left out (they change, the rule does not). */
export function nftRuleText(at: NftRuleAt): string {
  const text = at.rule.text.replace(/\bcounter packets \d+ bytes \d+/g, 'counter');
  return visibleText(`table ${at.family} ${at.table} chain ${at.chain} rule ${at.position}: ${text}`, 400);
}

function verdictTextOf<R extends TracedRule>(
  v: Verdict<R>,
  ruleText: RuleText<R>,
): { kind: TraceOutcomeView['verdict']; detail: string } {
  switch (v.kind) {
    case 'dnat':
      return { kind: 'dnat', detail: `DNAT to ${v.destination}` };
    case 'redirect':
      return { kind: 'redirect', detail: `REDIRECT to local port ${v.toPort}` };
    case 'accept':
      return v.by === 'rule'
        ? { kind: 'accept', detail: `accepted unchanged by ${ruleText(v.rule)}` }
        : { kind: 'unchanged', detail: 'no rule rewrote it: it goes to the node itself, unchanged' };
    case 'drop':
      if (v.by === 'policy')
        return {
          kind: 'drop',
          detail: v.chain
            ? `dropped by the policy of ${visibleText(v.chain)}`
            : 'dropped by the chain policy',
        };
      return {
        kind: 'drop',
        // The rule's text shows how it rejects (`reject with icmp port-unreachable`).
        detail: `${v.reject ? 'rejected' : 'dropped'} by ${ruleText(v.rule)}`,
      };
    case 'unknown':
      return { kind: 'unknown', detail: `${v.reason}${v.rule ? ` (at ${ruleText(v.rule)})` : ''}` };
    default:
      return assertNever(v, 'verdict');
  }
}

export function verdictText(v: Verdict): { kind: TraceOutcomeView['verdict']; detail: string } {
  return verdictTextOf<Rule>(v, serializeRule);
}

export function traceView(trace: Trace): TraceResponse {
  return {
    outcomes: trace.outcomes.map((o) => {
      const first = trace.branches[o.branches[0] ?? 0];
      const { kind, detail } = verdictText(o.verdict);
      return {
        verdict: kind,
        probability: o.probability,
        detail,
        hops: (first?.hops ?? []).map((h) => ({
          chain: h.chain,
          rule: serializeRule(h.rule),
          ...(h.rule.line !== undefined ? { line: h.rule.line } : {}),
        })),
      };
    }),
  };
}

/** The nft walk's outcomes as the iptables walk's are shown, plus which rule and why, in words. */
export function nftTraceView(trace: NftTrace): TraceResponse {
  return {
    outcomes: trace.outcomes.map((o) => {
      const first = trace.branches[o.branches[0] ?? 0];
      const { kind, detail } = verdictTextOf(o.verdict, nftRuleText);
      const v = o.verdict;
      // A redirect names its rule (ours, or whose), and so does a DNAT that is not kube-proxy's.
      const named = v.kind === 'redirect' || (v.kind === 'dnat' && v.rule.table !== KUBE_PROXY_TABLE);
      const by = named ? ` by ${nftRuleText(v.rule)}` : '';
      const why = first ? branchReason(first) : undefined;
      return {
        verdict: kind,
        probability: o.probability,
        // Reasons quote the dump (chain names, element keys): shown escaped, like every rule text.
        detail: visibleText(`${detail}${by}${why ? `: ${why}` : ''}`, 1000),
        hops: (first?.hops ?? []).map((h) => ({
          chain: visibleText(h.chain),
          // The rule as the dump has it: the path diagram compares it with the steps it shows.
          rule: visibleText(h.rule.rule.text, 4096),
          ...(h.rule.line !== undefined ? { line: h.rule.line } : {}),
        })),
      };
    }),
  };
}

function checkAddresses(input: TracePacketFields): string | undefined {
  for (const [name, value] of [
    ['--src', input.src],
    ['--dst', input.dst],
  ] as const) {
    if (!parseAddress(value)) return `${name} ${JSON.stringify(value)}: not an IPv4 or IPv6 address`;
  }
  for (const a of input.localAddresses) {
    if (!parseAddress(a)) return `local address ${JSON.stringify(a)}: not an IPv4 or IPv6 address`;
  }
  return undefined;
}

function packetOf(input: TracePacketFields) {
  return {
    src: input.src,
    dst: input.dst,
    protocol: input.protocol,
    dport: input.dport,
    ...(input.inInterface ? { inInterface: input.inInterface } : {}),
  };
}

/** A walk of a node's nft ruleset (every table: kube-proxy's, ours, anyone else's). */
export function traceNftRuleset(
  input: TracePacketFields & { readonly ruleset: NftRuleset },
): TraceDumpOutcome {
  const bad = checkAddresses(input);
  if (bad) return { ok: false, message: bad };
  const trace = traceNftPacket({
    ruleset: input.ruleset,
    packet: packetOf(input),
    localAddresses: input.localAddresses,
  });
  return { ok: true, value: { trace, view: nftTraceView(trace) } };
}

/**
 * nft listings of one node (`nft -j list table ...` each, or one `nft list ruleset`), read and
 * walked as one ruleset. Errors name the listing and line.
 */
export function traceNftListings(
  input: TracePacketFields & {
    readonly listings: readonly { readonly text: string; readonly source: string }[];
  },
): TraceDumpOutcome {
  const rulesets: NftRuleset[] = [];
  for (const l of input.listings) {
    const r = parseNftRuleset(l.text);
    if (!r.ok) {
      const e = r.error;
      const where = e.line > 0 ? `${l.source} line ${e.line}` : l.source;
      return { ok: false, message: visibleText(`${where}: ${e.message}${e.text ? ` (in: ${e.text})` : ''}`) };
    }
    rulesets.push(r.ruleset);
  }
  return traceNftRuleset({ ...input, ruleset: mergeRulesets(rulesets) });
}

export function traceDump(input: TraceDumpInput): TraceDumpOutcome {
  const bad = checkAddresses(input);
  if (bad) return { ok: false, message: bad };
  if (sniffDumpSyntax(input.dump.text) !== 'iptables') {
    const extra = input.dump.table ? '--table' : input.dump.ipsets ? '--ipset' : undefined;
    if (extra)
      return {
        ok: false,
        message: `${input.dump.source}: ${extra} goes with iptables-save dumps, not nft rulesets`,
      };
    return traceNftListings({ ...input, listings: [{ text: input.dump.text, source: input.dump.source }] });
  }
  // The tracer reads only the chains a packet visits: the parse decodes just those rules (every
  // rule is still checked), and no topology is built for a walk that does not use it.
  const inspected = readDump(input.dump);
  if (!inspected.ok) return inspected;
  const trace = tracePacket({
    nat: inspected.value.nat,
    packet: packetOf(input),
    localAddresses: input.localAddresses,
    // Known from the dump's header: the tracer need not decode rules to find an address.
    ...(inspected.value.ruleset.family !== 'unknown' ? { family: inspected.value.ruleset.family } : {}),
    ...(inspected.value.ipsets ? { ipsets: inspected.value.ipsets } : {}),
  });
  return { ok: true, value: { trace, view: traceView(trace) } };
}
