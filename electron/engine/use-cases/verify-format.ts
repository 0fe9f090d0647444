// The words and JSON of a verify report, shared by the CLI (which prints them) and the desktop
// (which shows the same words). Pure: no I/O. The JSON shapes are `npg verify --json`'s contract,
// key order included.
import type { ProbeResult } from '../../../shared/guard/probe.js';
import type { ProbeReport } from '../probe-nodes.js';
import type { VerifyResult } from '../verify-nodes.js';
import { findingsOf, type RoundLike, type WatchRound } from './verify.js';

/** The probes that went as the policy says, the ports not probed, and notes. */
export function probeInfoOf(p: ProbeReport | undefined): string[] {
  if (!p) return [];
  return [
    ...p.results.filter((x) => x.verdict === 'ok').map((x) => x.message),
    ...p.notProbed.map((x) => `${x.protocol}/${x.port}: ${x.reason}`),
    ...p.notes,
  ];
}

const familyWord = (f: string) => (f === 'ipv4' ? 'IPv4' : 'IPv6');

/** Per node: info findings, audit-mode listings (who would be blocked), notes. */
export function infoOf(r: VerifyResult): string[] {
  return r.nodes.flatMap((n) => {
    if (!n.ok) return [];
    const lines = n.verify.findings.filter((f) => f.severity === 'info').map((f) => f.message);
    for (const a of n.audit)
      lines.push(
        a.sources.length
          ? `${n.node}: ${a.protocol}/${a.port} (${familyWord(a.family)}) audit: would block ${a.sources.map((s) => `${s.source} (${s.flows} flow${s.flows === 1 ? '' : 's'})`).join(', ')}`
          : `${n.node}: ${a.protocol}/${a.port} (${familyWord(a.family)}) audit: no recent source would be blocked`,
      );
    return [...lines, ...n.notes];
  });
}

/** A single round as `npg verify` prints it: findings, then info, with a summary line when all is well. */
export function verifyLines(round: RoundLike): string[] {
  const lines = [...findingsOf(round), ...infoOf(round.verify), ...probeInfoOf(round.probes)];
  if (round.status === 'ok') {
    const n = round.verify.nodes.length;
    const k = round.probes?.results.length ?? 0;
    const probed = round.probes ? `; ${k} probe${k === 1 ? '' : 's'} as expected` : '';
    lines.unshift(`all ${n} node${n === 1 ? '' : 's'} hold the policy${probed}`);
  }
  return lines;
}

/** A watch round as `npg verify --watch` prints it: only what changed, each line stamped. */
export function watchLines(round: WatchRound): string[] {
  const { time, findings, appeared, resolved } = round;
  const n = round.verify.nodes.length;
  const lines: string[] = [];
  if (round.round === 1 && findings.length === 0) lines.push(`${time} all ${n} nodes hold the policy`);
  for (const f of appeared) lines.push(`${time} DRIFT ${f}`);
  for (const f of resolved) lines.push(`${time} resolved ${f}`);
  if (round.round > 1 && resolved.length && findings.length === 0)
    lines.push(`${time} all ${n} nodes hold the policy again`);
  return lines;
}

export function probeJson(p: ProbeResult) {
  return {
    from: p.from.kind === 'app-host' ? 'app-host' : p.from.node,
    origin: p.from.kind,
    node: p.node,
    address: p.address,
    family: p.family,
    port: p.port,
    protocol: p.protocol,
    mode: p.mode,
    ...(p.source ? { source: p.source } : {}),
    ...(p.expected ? { expected: p.expected } : {}),
    outcome: p.outcome.kind,
    ...(p.outcome.detail ? { detail: p.outcome.detail } : {}),
    verdict: p.verdict,
    reason: p.reason,
    message: p.message,
  };
}

function probesJson(p: ProbeReport) {
  return {
    status: p.status,
    results: p.results.map(probeJson),
    notProbed: p.notProbed,
    notes: p.notes,
    problems: p.problems,
  };
}

function nodeJson(n: VerifyResult['nodes'][number]) {
  if (!n.ok) return { node: n.node, status: 'error', error: n.message };
  return {
    node: n.node,
    status: n.verify.status,
    findings: n.verify.findings.map((f) => ({ kind: f.kind, severity: f.severity, message: f.message })),
    ports: n.verify.ports.map((p) => ({
      port: p.port,
      protocol: p.protocol,
      mode: p.mode,
      status: p.status,
      counters: p.counters,
    })),
    audit: n.audit,
    ...(n.pending ? { pending: n.pending } : {}),
    notes: n.notes,
  };
}

/** A round as `npg verify --json` prints it. */
export function verifyJson(round: RoundLike) {
  return {
    status: round.status,
    ...(round.probes ? { probes: probesJson(round.probes) } : {}),
    nodes: round.verify.nodes.map(nodeJson),
  };
}

/** A watch round as one JSON line, or nothing when the round changed nothing (after the first). */
export function watchJson(round: WatchRound): Record<string, unknown> | undefined {
  if (round.round > 1 && round.appeared.length === 0 && round.resolved.length === 0) return undefined;
  return {
    time: round.time,
    round: round.round,
    ...verifyJson(round),
    appeared: round.appeared,
    resolved: round.resolved,
  };
}
