// The UI's policy edits: one NodePort's allow-list replaced by the chips the user arranged, its
// policy dropped, and the saved address groups of the palette. Every edit goes through the same
// strict editPolicy as `npg policy`, and the workspace file is written atomically; a bad value is
// one line naming it, and nothing is written.
import type { ApiResult, ParsedRequestOf, PolicyResponse, WorkspaceView } from '../../../shared/api.js';
import { parseCidr } from '../../../shared/guard/cidr.js';
import type { Policy, Workspace } from '../../../shared/workspace/schema.js';
import {
  editPolicy,
  guardBackendNote,
  portWarnings,
  textFieldProblem,
  withGuardAnyway,
  withGuardBackend,
} from '../policy-edit.js';
import { badInput, failed, ok } from './results.js';
import { type WorkspaceState, workspaceView } from './workspace-state.js';

/** Warnings known from the workspace alone; the node-dependent ones come from plan. */
function policyWarnings(workspace: Workspace, policy: Policy): string[] {
  const lists = policy.nodePorts.flatMap((p) => {
    const key = `${p.protocol}/${p.port}`;
    if (p.allow.length === 0)
      return [
        p.mode === 'audit'
          ? `${key}: the allow-list is empty: audit will list every source`
          : `${key}: the allow-list is empty: every source will be blocked`,
      ];
    const v6 = p.allow.some((a) => a.cidr.includes(':'));
    return v6 ? [] : [`${key}: no IPv6 entry: on dual-stack nodes every IPv6 client will be blocked`];
  });
  return [...lists, ...portWarnings(workspace, policy.nodePorts)];
}

async function savePolicy(
  state: WorkspaceState,
  policy: Policy,
  notes: readonly string[],
): Promise<ApiResult<PolicyResponse>> {
  const loaded = state.require('policy');
  const saved = await state.save({ ...loaded.workspace, policy });
  if (!saved.ok) return failed(saved.message);
  return ok({ workspace: saved.view, notes, warnings: policyWarnings(loaded.workspace, policy) });
}

export async function setPolicy(
  state: WorkspaceState,
  req: ParsedRequestOf<'setPolicy'>,
): Promise<ApiResult<PolicyResponse>> {
  const loaded = state.require('policy');
  const r = editPolicy(loaded.workspace.policy, {
    port: req.port,
    protocol: req.protocol,
    entries: req.allow,
    ...(req.mode ? { mode: req.mode } : {}),
    ...(req.blackholePort !== undefined ? { blackholePort: req.blackholePort } : {}),
    ...(req.service !== undefined ? { service: req.service } : {}),
    ...(req.allowEmpty ? { allowEmpty: true } : {}),
  });
  if (!r.ok) {
    const key = `${req.protocol}/${req.port}`;
    const first = r.errors[0] ?? 'invalid policy';
    return badInput(first.startsWith(`${key}:`) ? first : `${key}: ${first}`);
  }
  return savePolicy(state, r.policy, r.notes);
}

export async function setGuardBackend(
  state: WorkspaceState,
  req: ParsedRequestOf<'setGuardBackend'>,
): Promise<ApiResult<PolicyResponse>> {
  const loaded = state.require('policy');
  const r = withGuardBackend(loaded.workspace.policy, req.backend, 'guard backend');
  if (!r.ok) return badInput(r.error);
  return savePolicy(state, r.policy, r.changed ? [guardBackendNote(req.backend)] : []);
}

export async function setGuardAnyway(
  state: WorkspaceState,
  req: ParsedRequestOf<'setGuardAnyway'>,
): Promise<ApiResult<WorkspaceView>> {
  const loaded = state.require('guard anyway');
  const r = withGuardAnyway(loaded.workspace, req.node, req.on);
  if (!r.ok) return badInput(r.error);
  if (!r.changed) return ok(workspaceView(loaded));
  const saved = await state.save(r.workspace);
  return saved.ok ? ok(saved.view) : failed(saved.message);
}

export async function dropPolicy(
  state: WorkspaceState,
  req: ParsedRequestOf<'dropPolicy'>,
): Promise<ApiResult<PolicyResponse>> {
  const loaded = state.require('policy');
  const r = editPolicy(loaded.workspace.policy, { port: req.port, protocol: req.protocol, drop: true });
  if (!r.ok) return badInput(r.errors[0] ?? `${req.protocol}/${req.port}: cannot drop`);
  return savePolicy(state, r.policy, []);
}

export async function saveGroup(
  state: WorkspaceState,
  req: ParsedRequestOf<'saveGroup'>,
): Promise<ApiResult<WorkspaceView>> {
  const loaded = state.require('groups');
  const nameProblem = textFieldProblem('group name', req.name, 64);
  if (nameProblem) return badInput(nameProblem);
  const entries = [];
  for (const [i, e] of req.entries.entries()) {
    const c = parseCidr(e.cidr, `group ${req.name} entry ${i + 1}`);
    if (!c.ok) return badInput(c.error.message);
    const l =
      e.label === undefined
        ? undefined
        : textFieldProblem(`group ${req.name} entry ${i + 1} label`, e.label, 200);
    if (l) return badInput(l);
    entries.push(e.label ? { cidr: c.value.cidr, label: e.label } : { cidr: c.value.cidr });
  }
  const groups = [
    ...(loaded.workspace.groups ?? []).filter((g) => g.name !== req.name),
    { name: req.name, entries },
  ];
  groups.sort((a, b) => a.name.localeCompare(b.name));
  const saved = await state.save({ ...loaded.workspace, groups });
  return saved.ok ? ok(saved.view) : failed(saved.message);
}

export async function deleteGroup(
  state: WorkspaceState,
  req: ParsedRequestOf<'deleteGroup'>,
): Promise<ApiResult<WorkspaceView>> {
  const loaded = state.require('groups');
  const groups = loaded.workspace.groups ?? [];
  if (!groups.some((g) => g.name === req.name)) return badInput(`group ${req.name}: no such group`);
  const saved = await state.save({ ...loaded.workspace, groups: groups.filter((g) => g.name !== req.name) });
  return saved.ok ? ok(saved.view) : failed(saved.message);
}
