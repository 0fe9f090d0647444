// Trace a packet on a dump: parse, then walk nat PREROUTING with shared/trace. The verdicts are
// also rendered for people (CLI table, UI) here, from one place.
import type { TraceOutcomeView, TraceResponse } from '../../shared/api.js';
import { serializeRule } from '../../shared/netfilter/index.js';
import { assertNever } from '../../shared/netfilter/model.js';
import { parseAddress, type Trace, tracePacket, type Verdict } from '../../shared/trace/index.js';
import type { Protocol } from '../../shared/vocabulary.js';
import { type DumpInput, readDump } from './inspect.js';

export interface TraceDumpInput {
  readonly dump: DumpInput;
  readonly src: string;
  readonly dst: string;
  readonly dport: number;
  readonly protocol: Protocol;
  readonly inInterface?: string;
  readonly localAddresses: readonly string[];
}

export type TraceDumpOutcome =
  | { readonly ok: true; readonly value: { readonly trace: Trace; readonly view: TraceResponse } }
  | { readonly ok: false; readonly message: string };

export function verdictText(v: Verdict): { kind: TraceOutcomeView['verdict']; detail: string } {
  switch (v.kind) {
    case 'dnat':
      return { kind: 'dnat', detail: `DNAT to ${v.destination}` };
    case 'redirect':
      return { kind: 'redirect', detail: `REDIRECT to local port ${v.toPort}` };
    case 'accept':
      return v.by === 'rule'
        ? { kind: 'accept', detail: `accepted unchanged by ${serializeRule(v.rule!)}` }
        : { kind: 'unchanged', detail: 'no rule rewrote it: it goes to the node itself, unchanged' };
    case 'drop':
      return {
        kind: 'drop',
        detail: v.rule ? `dropped by ${serializeRule(v.rule)}` : 'dropped by the chain policy',
      };
    case 'unknown':
      return { kind: 'unknown', detail: `${v.reason}${v.rule ? ` (at ${serializeRule(v.rule)})` : ''}` };
    default:
      return assertNever(v, 'verdict');
  }
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

export function traceDump(input: TraceDumpInput): TraceDumpOutcome {
  for (const [name, value] of [
    ['--src', input.src],
    ['--dst', input.dst],
  ] as const) {
    if (!parseAddress(value))
      return { ok: false, message: `${name} ${JSON.stringify(value)}: not an IPv4 or IPv6 address` };
  }
  for (const a of input.localAddresses) {
    if (!parseAddress(a))
      return { ok: false, message: `local address ${JSON.stringify(a)}: not an IPv4 or IPv6 address` };
  }
  // The tracer reads only the chains a packet visits: the parse decodes just those rules (every
  // rule is still checked), and no topology is built for a walk that does not use it.
  const inspected = readDump(input.dump);
  if (!inspected.ok) return inspected;
  const trace = tracePacket({
    nat: inspected.value.nat,
    packet: {
      src: input.src,
      dst: input.dst,
      protocol: input.protocol,
      dport: input.dport,
      ...(input.inInterface ? { inInterface: input.inInterface } : {}),
    },
    localAddresses: input.localAddresses,
    // Known from the dump's header: the tracer need not decode rules to find an address.
    ...(inspected.value.ruleset.family !== 'unknown' ? { family: inspected.value.ruleset.family } : {}),
    ...(inspected.value.ipsets ? { ipsets: inspected.value.ipsets } : {}),
  });
  return { ok: true, value: { trace, view: traceView(trace) } };
}
