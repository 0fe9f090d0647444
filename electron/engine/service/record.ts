// The record of what was done: the applied rule sets exported (per-node restore files, the
// install script, export.json; written to a folder when asked) and the local change history.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApiResult, EngineCall, ExportResponse, HistoryResponse } from '../../../shared/api.js';
import { buildExport } from '../export.js';
import { type HistoryPlanGroup, readHistory } from '../history.js';
import { operatorName } from '../local-store.js';
import { readErrorMessage, readNodes } from '../session.js';
import { ioReason, writeFileAtomic } from '../workspace-file.js';
import { cancelled, failed, ok } from './results.js';
import type { WorkspaceState } from './workspace-state.js';

export async function exportGuard(
  state: WorkspaceState,
  dir: string | undefined,
  call: EngineCall,
): Promise<ApiResult<ExportResponse>> {
  const loaded = state.require('export');
  return state.follow(call, async () => {
    const session = await state.session();
    const results = await readNodes(session, session.nodes, 'nat', {
      signal: call.signal,
      prefer: loaded.workspace.policy.guardBackend ?? 'iptables',
    });
    if (call.signal.aborted) return cancelled('export');
    const failures = results.flatMap((r) => (r.ok ? [] : [readErrorMessage(r.error)]));
    if (failures.length > 0)
      return failed(
        `export: ${failures[0]}${failures.length > 1 ? ` (and ${failures.length - 1} more)` : ''}; nothing exported`,
      );
    const exp = buildExport(
      results.flatMap((r) => (r.ok ? [r.value] : [])),
      loaded.workspace.policy,
      { time: new Date().toISOString(), operator: operatorName(), workspace: loaded.path },
    );
    const files = [...exp.files].map(([name, text]) => ({ name, text }));
    if (dir !== undefined) {
      try {
        await mkdir(dir, { recursive: true, mode: 0o755 });
        for (const f of files)
          await writeFileAtomic(join(dir, f.name), f.text, f.name.endsWith('.sh') ? 0o755 : 0o644);
      } catch (err) {
        return failed(`export to ${dir}: ${ioReason(err)}`);
      }
    }
    return ok({ files, ...(dir !== undefined ? { writtenTo: dir } : {}) });
  });
}

export async function history(state: WorkspaceState): Promise<ApiResult<HistoryResponse>> {
  const read = await readHistory(state.store());
  return ok({
    entries: [...read.records].reverse().map((r) => ({
      time: r.time,
      op: r.op,
      operator: r.operator,
      outcome: r.outcome,
      token: r.token,
      nodes: r.nodes.map((n) => ({ node: n.node, status: n.status })),
      plan: r.planHash,
      ...plansOf(r.plans),
    })),
    warnings: read.problems,
  });
}

/** A record's plans as the view carries them; a hand-edited line with another shape shows none. */
function plansOf(plans: unknown): { plans?: readonly HistoryPlanGroup[] } {
  if (!Array.isArray(plans)) return {};
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
  const good = plans.filter(
    (g): g is HistoryPlanGroup =>
      typeof g === 'object' &&
      g !== null &&
      strings((g as HistoryPlanGroup).nodes) &&
      strings((g as HistoryPlanGroup).diff),
  );
  return good.length === plans.length ? { plans: good.map((g) => ({ nodes: g.nodes, diff: g.diff })) } : {};
}
