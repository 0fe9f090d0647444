// The desktop face of the change, confirm and verify use cases: the same engine functions the CLI
// calls, their events turned into the contract's progress events and their reports into views.

import type {
  ApiEvent,
  ApiResult,
  ChangeResponse,
  ConfirmResponse,
  EngineCall,
  NodeOutcomeView,
  ParsedRequestOf,
  PlanResponse,
  VerifyCellView,
  VerifyResponse,
} from '../../../shared/api.js';
import type { SavedPlan } from '../change-gate.js';
import { type NodeChange, partOrder } from '../node-change.js';
import { changeLines, guardBackendLines } from '../plan-text.js';
import type { NodeOutcome } from '../run-changes.js';
import { planHashOf } from '../run-changes.js';
import { type ChangeEvent, checkChangeRequest, runChange } from '../use-cases/change.js';
import { outcomeJson, outcomeLine } from '../use-cases/change-format.js';
import { confirmLine, runConfirm } from '../use-cases/confirm-change.js';
import type { NodeStepEvent } from '../use-cases/io.js';
import {
  findingsOf,
  runVerify,
  type VerifyEvent,
  type VerifyReport,
  watchVerify,
} from '../use-cases/verify.js';
import { probeInfoOf } from '../use-cases/verify-format.js';
import type { LoadedWorkspace } from '../workspace-file.js';
import { badInput, cancelled, ok } from './results.js';
import type { WorkspaceState } from './workspace-state.js';

/**
 * The plan the user last saw, per workspace as read: apply refuses when the nodes changed since.
 * Any save or reopen makes a new LoadedWorkspace, so an edited policy always needs a new plan.
 */
const shownPlans = new WeakMap<LoadedWorkspace, SavedPlan>();

function stepEvents(call: EngineCall, what: string) {
  return (e: NodeStepEvent<string>) => {
    if (e.phase === 'failed')
      call.emit({
        kind: 'node',
        status: { node: e.node, state: 'failed', error: e.message ?? `${e.node}: ${what} failed` },
      });
    else if (e.phase === 'done')
      call.emit({ kind: 'phase', phase: 'reading', detail: `${what}: ${e.node} done` });
  };
}

export function outcomeView(o: NodeOutcome): NodeOutcomeView {
  const j = outcomeJson(o) as { status: NodeOutcomeView['status'] };
  const at = o.status === 'applied' && o.timer ? Number(o.timer.split(' ')[1]) : Number.NaN;
  return {
    node: o.node,
    status: j.status,
    line: outcomeLine(o),
    ...(Number.isFinite(at) ? { rollsBackAt: at } : {}),
  };
}

function changeEvents(call: EngineCall) {
  const step = stepEvents(call, 'read');
  return (e: ChangeEvent) => {
    if (e.kind === 'read') step(e);
    else if (e.kind === 'planned')
      call.emit({ kind: 'phase', phase: 'planned', detail: `planned ${e.nodes} nodes` });
    else call.emit({ kind: 'outcome', outcome: outcomeView(e.outcome) });
  };
}

function nodePlanView(c: NodeChange) {
  return {
    node: c.node,
    noop: c.plan.noop,
    backend: c.snapshot.toolBackend,
    diff: changeLines(c).slice(1),
    // Every part the change script runs, in its order (partOrder): the nft part is `nft -f` input.
    transactions: partOrder(c)
      .split(' ')
      .flatMap((part) =>
        part === 'nft'
          ? c.nft?.text
            ? [{ family: 'nft', text: c.nft.text }]
            : []
          : c.restores
              .filter((r) => (part === 'v4') === (r.family === 'ipv4'))
              .map((r) => ({ family: r.family, text: r.text })),
      ),
    warnings: c.plan.warnings.map((w) => w.message),
    errors: c.plan.errors.map((e) => e.message),
  };
}

export async function plan(state: WorkspaceState, call: EngineCall): Promise<ApiResult<PlanResponse>> {
  const loaded = state.require('plan');
  const valid = checkChangeRequest(loaded, { op: 'plan' });
  if (!valid.ok) return badInput(valid.message);
  return state.follow(call, async () => {
    const session = await state.session();
    const report = await runChange(
      session,
      loaded,
      state.store(),
      { op: 'plan' },
      {
        signal: call.signal,
        onEvent: changeEvents(call),
      },
    );
    if (report.outcome === 'cancelled') return cancelled('plan');
    if (report.outcome === 'planned') shownPlans.set(loaded, report.savedPlan);
    const nodes = report.prepared.changes.map(nodePlanView);
    const groups = new Map<string, { nodes: string[]; diff: readonly string[] }>();
    for (const n of nodes) {
      const k = JSON.stringify([n.diff, n.warnings.map((w) => w.replace(`${n.node}: `, ''))]);
      const g = groups.get(k) ?? { nodes: [], diff: n.diff };
      g.nodes.push(n.node);
      groups.set(k, g);
    }
    return ok({
      nodes,
      backends: guardBackendLines(report.prepared.changes),
      groups: [...groups.values()],
      unplanned: report.prepared.unplanned.map((u) => ({
        node: u.node,
        message: u.message,
        ...(u.dataplane ? { dataplane: true } : {}),
      })),
      planHash: planHashOf(report.prepared.changes),
      exitCode: report.exitCode,
    });
  });
}

export async function change(
  state: WorkspaceState,
  op: 'apply' | 'rollback' | 'remove',
  req: Partial<ParsedRequestOf<'apply'>>,
  call: EngineCall,
): Promise<ApiResult<ChangeResponse>> {
  const loaded = state.require(op);
  const saved = shownPlans.get(loaded);
  const savedPlan = op === 'apply' && req.planHash && saved?.planHash === req.planHash ? saved : undefined;
  if (op === 'apply' && req.planHash && !savedPlan)
    return badInput('apply: the plan shown is not the latest one of this workspace; plan again');
  const request = {
    op,
    ...(req.confirmWithinSeconds ? { confirmSeconds: req.confirmWithinSeconds } : {}),
    ...(req.canary ? { canary: req.canary } : {}),
    ...(req.killEstablished ? { killEstablished: true } : {}),
    ...(savedPlan ? { savedPlan } : {}),
  };
  const valid = checkChangeRequest(loaded, request);
  if (!valid.ok) return badInput(valid.message);
  return state.follow(call, async () => {
    const session = await state.session();
    const report = await runChange(session, loaded, state.store(), request, {
      signal: call.signal,
      onEvent: changeEvents(call),
    });
    const base = { op, outcome: report.outcome, exitCode: report.exitCode };
    switch (report.outcome) {
      case 'held':
        return ok({ ...base, message: report.gate.message, nodes: [] });
      case 'ran':
        return ok({
          ...base,
          outcome: report.run.outcome,
          nodes: report.run.outcomes.map(outcomeView),
          ...(report.confirmSeconds ? { confirmWithinSeconds: report.confirmSeconds } : {}),
        });
      case 'cancelled':
        return cancelled(op);
      default:
        return ok({ ...base, nodes: [] });
    }
  });
}

export async function confirm(state: WorkspaceState, call: EngineCall): Promise<ApiResult<ConfirmResponse>> {
  state.require('confirm');
  return state.follow(call, async () => {
    const session = await state.session();
    const report = await runConfirm(
      session,
      state.store(),
      {},
      { signal: call.signal, onEvent: stepEvents(call, 'confirm') },
    );
    return ok({
      nodes: report.outcomes.map((o) => ({
        node: o.node,
        status: o.status,
        ...(o.status !== 'confirmed' ? { message: confirmLine(o) } : {}),
      })),
      exitCode: report.exitCode,
    });
  });
}

/** A verify round as the grid shows it: per node and guarded port, its status and reasons. */
export function verifyView(r: VerifyReport, at: string): VerifyResponse {
  const cells: VerifyCellView[] = [];
  const nodes: VerifyResponse['nodes'][number][] = [];
  for (const n of r.verify.nodes) {
    if (!n.ok) {
      nodes.push({ node: n.node, status: 'error', reasons: [n.message] });
      continue;
    }
    const wide = n.verify.findings.filter(
      (f) => f.severity !== 'info' && !('port' in f && f.port !== undefined),
    );
    nodes.push({ node: n.node, status: n.verify.status, reasons: wide.map((f) => f.message) });
    for (const p of n.verify.ports) {
      const blocked = p.counters.reduce((sum, c) => sum + c.counters.packets, 0);
      cells.push({
        node: n.node,
        port: p.port,
        protocol: p.protocol,
        status: p.status,
        reasons: p.findings.filter((f) => f.severity !== 'info').map((f) => f.message),
        ...(p.counters.length ? { blocked } : {}),
      });
    }
  }
  const probes = r.probes
    ? [
        ...findingsOf({ status: r.status, verify: { status: 'ok', nodes: [] }, probes: r.probes }).map(
          (line) => ({ line, ok: false }),
        ),
        ...probeInfoOf(r.probes).map((line) => ({ line, ok: true })),
      ]
    : [];
  return { status: r.status, cells, nodes, probes, at, exitCode: r.exitCode };
}

function verifyRequest(req: ParsedRequestOf<'verify'>) {
  return req.probe || req.probeFrom
    ? {
        probe: {
          fromHere: req.probe ?? false,
          ...(req.probeFrom ? { fromNode: req.probeFrom } : {}),
          timeoutMs: 2000,
          allAddresses: false,
        },
      }
    : {};
}

function verifyEvents(call: EngineCall) {
  const step = stepEvents(call, 'verify');
  return (e: VerifyEvent) => {
    if (e.kind === 'probing')
      call.emit({ kind: 'phase', phase: 'verifying', detail: 'probing with real connections' });
    else step(e);
  };
}

export async function verify(
  state: WorkspaceState,
  req: ParsedRequestOf<'verify'>,
  call: EngineCall,
): Promise<ApiResult<VerifyResponse>> {
  const loaded = state.require('verify');
  return state.follow(call, async () => {
    const session = await state.session();
    const r = await runVerify(session, loaded, state.store(), verifyRequest(req), {
      signal: call.signal,
      onEvent: verifyEvents(call),
    });
    if (call.signal.aborted) return cancelled('verify');
    return ok(verifyView(r, new Date().toISOString()));
  });
}

/** Rounds until cancelled; each round is pushed as an event. The result is the last round. */
export async function watch(
  state: WorkspaceState,
  req: ParsedRequestOf<'watch'>,
  call: EngineCall,
): Promise<ApiResult<VerifyResponse | null>> {
  const loaded = state.require('watch');
  let last: VerifyResponse | null = null;
  await state.follow(call, async () => {
    const session = await state.session();
    await watchVerify(
      session,
      loaded,
      state.store(),
      { periodSeconds: req.periodSeconds },
      {
        signal: call.signal,
        onRound: (round) => {
          last = verifyView(round, round.time);
          const event: ApiEvent = { kind: 'verify', result: last };
          call.emit(event);
        },
      },
    );
  });
  return ok(last);
}
