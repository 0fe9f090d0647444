import type { NodeChange } from '../node-change.js';
import { changeLines } from '../plan-text.js';
import { type NodeOutcome, planHashOf } from '../run-changes.js';
import type { ChangeReport } from './change.js';

export function planJson(c: NodeChange) {
  return {
    node: c.node,
    noop: c.plan.noop,
    stateHash: c.plan.stateHash,
    backend: c.snapshot.toolBackend,
    /** Which guard the node takes: `nft` in kube-proxy's nftables mode, else `iptables`. */
    guard: c.snapshot.guardBackend,
    families: c.plan.families.map((f) => ({ family: f.family, noop: f.noop, edits: f.edits.length })),
    diff: changeLines(c).slice(1),
    transactions: c.restores,
    ...(c.nft
      ? { nft: { noop: c.nft.plan.noop, edits: c.nft.plan.edits.length, transaction: c.nft.text } }
      : {}),
    warnings: c.plan.warnings.map((w) => w.message),
    errors: c.plan.errors.map((e) => e.message),
  };
}

export function outcomeJson(o: NodeOutcome) {
  switch (o.status) {
    case 'applied':
      return {
        node: o.node,
        status: o.verify && o.verify.status !== 'ok' ? 'drift' : 'applied',
        ...(o.verify
          ? {
              verify: o.verify.status,
              findings: o.verify.findings.filter((f) => f.severity !== 'info').map((f) => f.message),
            }
          : {}),
        ...(o.timer ? { timer: o.timer } : {}),
        ...(o.killed ? { killed: o.killed } : {}),
        ...(o.message ? { message: o.message } : {}),
      };
    case 'failed':
      return { node: o.node, status: o.status, state: o.state, message: o.message };
    case 'unchanged':
      return { node: o.node, status: o.status };
    default:
      return { node: o.node, status: o.status, message: o.message };
  }
}

/** One node's result in a sentence; the timer is the node's own clock (`<unit> <epoch>`). */
export function outcomeLine(o: NodeOutcome): string {
  switch (o.status) {
    case 'unchanged':
      return `${o.node}: unchanged`;
    case 'applied': {
      const bad = o.verify?.findings.filter((f) => f.severity !== 'info') ?? [];
      const head = bad.length
        ? `${o.node}: changed, but verify found: ${bad.map((f) => f.message.replace(`${o.node}: `, '')).join('; ')}`
        : `${o.node}: changed and verified${o.verify ? '' : ' (not verified)'}`;
      const at = Number(o.timer?.split(' ')[1]);
      const timer = o.timer
        ? `; rolls back at ${Number.isFinite(at) ? new Date(at * 1000).toISOString() : '?'} (node clock) unless confirmed`
        : '';
      const killed = o.killed?.deleted.length
        ? `; ${o.killed.deleted.length} established flow(s) of blocked sources cut`
        : '';
      return `${head}${timer}${killed}${o.message ? ` (${o.message})` : ''}`;
    }
    case 'failed':
      return `${o.message}${o.state === 'old' || o.message.includes('old guard') ? '' : ` [state: ${o.state}]`}`;
    default:
      return o.message;
  }
}

/** The report as `npg <op> --json` prints it. */
export function changeJson(report: ChangeReport): Record<string, unknown> {
  const { op, prepared } = report;
  const { changes, unplanned, untouched } = prepared;
  switch (report.outcome) {
    case 'planned':
      return { op, nodes: changes.map(planJson), unplanned, untouched, planHash: planHashOf(changes) };
    case 'held':
      if (report.gate.outcome === 'nothing')
        return {
          op,
          outcome: 'ok',
          nodes: changes.map((c) => ({ node: c.node, status: 'unchanged' })),
          unplanned,
          untouched,
        };
      return {
        op,
        outcome: report.gate.outcome,
        error: report.gate.message,
        nodes: changes.map(planJson),
        unplanned,
        untouched,
      };
    case 'ran': {
      const { run, confirmSeconds } = report;
      return {
        op,
        token: run.token,
        planHash: run.planHash,
        outcome: run.outcome,
        ...(confirmSeconds ? { confirmWithinSeconds: confirmSeconds } : {}),
        nodes: run.outcomes.map(outcomeJson),
        unplanned,
        untouched,
        plans: changes.map(planJson),
      };
    }
    default:
      // Nothing was sent (the CLI says so in one line instead): the plan that was not applied.
      return { op, outcome: report.outcome, nodes: changes.map(planJson), unplanned, untouched };
  }
}
