// Editing the policy of one NodePort (pure): replace its allow-list, add or remove entries, set
// its mode, blackhole port or service, or drop it; and the workspace's guard backend. Every value is parsed strictly first (a bad
// CIDR, a port out of range, a control character: one line naming the flag and the value, and
// nothing changes); the resulting list is stored normalised (canonical CIDRs, duplicates and
// covered entries dropped) and what normalising did is reported.
import { normaliseAllowList } from '../../shared/guard/allow-list.js';
import { parseCidr } from '../../shared/guard/cidr.js';
import { showValue } from '../../shared/guard/field-error.js';
import { portIssues } from '../../shared/guard/warnings.js';
import { GUARD_BACKENDS, type GuardBackend, type Protocol } from '../../shared/vocabulary.js';
import { inventorySshPorts, nodePortRangeOf } from '../../shared/workspace/ports.js';
import type {
  AllowEntry,
  GuardMode,
  NodePortPolicy,
  Policy,
  Workspace,
} from '../../shared/workspace/schema.js';
import { PolicySchema } from '../../shared/workspace/schema.js';

export interface PolicyEdit {
  readonly port: number;
  readonly protocol: Protocol;
  /** Replace the allow-list with these entries. */
  readonly allow?: readonly string[];
  /** Replace the allow-list with these entries, each with its own label (the UI's chips). */
  readonly entries?: readonly AllowEntry[];
  readonly add?: readonly string[];
  readonly remove?: readonly string[];
  /** Label for the entries given in allow/add. */
  readonly label?: string;
  readonly mode?: GuardMode;
  readonly blackholePort?: number;
  readonly service?: string;
  /** Drop this NodePort's policy entirely. */
  readonly drop?: boolean;
  /**
   * The allow-list may end empty: the guard then blocks every source (audit: lists every one).
   * Without it, an edit that leaves a port with no entry is refused, because an empty `--allow ''`
   * or a stray comma is far more often a slip than a wish to lock everyone out. Alone (no allow,
   * entries, add or remove), it empties the list.
   */
  readonly allowEmpty?: boolean;
}

export type PolicyEditResult =
  | {
      readonly ok: true;
      readonly policy: Policy;
      readonly changed: boolean;
      /** What normalising did, one line each (duplicates, covered entries, host bits). */
      readonly notes: readonly string[];
      readonly entries: number;
    }
  | { readonly ok: false; readonly errors: readonly string[] };

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/**
 * Labels and service names never reach a shell (they travel on stdin and are sanitised into rule
 * comments), but text that looks like a command is almost always a paste gone wrong: refuse it.
 */
const SHELL_META = /[`$;|&<>\\"'*?!{}[\]]/;

/** Problems of a free-text field (label, service): control characters, shell metacharacters, length. */
export function textFieldProblem(flag: string, value: string, max: number): string | undefined {
  if (CONTROL.test(value)) return `${flag} ${showValue(value)}: contains a control character or line break`;
  if (SHELL_META.test(value))
    return `${flag} ${showValue(value)}: shell metacharacters (\` $ ; | & < > \\ quotes * ? ! { } [ ]) are not allowed`;
  if (value.length > max) return `${flag}: longer than ${max} characters`;
  return undefined;
}
export const MAX_ALLOW_ENTRIES = 10_000;

/**
 * What the workspace alone says against guarding these ports (a node's SSH port, a port outside
 * the NodePort range), one line each; plan adds what only a node knows (not a NodePort there).
 * Warnings, not errors: a cluster may have a NodePort range we were not told about.
 */
export function portWarnings(
  workspace: Pick<Workspace, 'inventory' | 'cluster'>,
  ports: readonly { readonly port: number; readonly protocol: Protocol }[],
): string[] {
  const range = nodePortRangeOf(workspace.cluster);
  const checks = {
    sshPorts: inventorySshPorts(workspace.inventory),
    ...(range ? { nodePortRange: range } : {}),
  };
  return ports.flatMap((p) => portIssues(p, checks).map((i) => i.text));
}

/** `a,b, c` -> ['a','b','c'] (flags may be repeated and comma-separated). */
export function splitList(values: readonly string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

export function parsePortFlag(
  flag: string,
  text: string,
): { ok: true; port: number } | { ok: false; error: string } {
  if (!/^\d{1,5}$/.test(text))
    return { ok: false, error: `${flag} ${showValue(text)}: not a port number (1-65535)` };
  const port = Number(text);
  if (port < 1 || port > 65535)
    return { ok: false, error: `${flag} ${showValue(text)}: port out of range (1-65535)` };
  return { ok: true, port };
}

export function editPolicy(policy: Policy, edit: PolicyEdit): PolicyEditResult {
  const errors: string[] = [];
  const key = `${edit.protocol}/${edit.port}`;
  const label = edit.label === undefined ? undefined : textFieldProblem('--label', edit.label, 200);
  if (label) errors.push(label);
  const service = edit.service === undefined ? undefined : textFieldProblem('--service', edit.service, 300);
  if (service) errors.push(service);
  if (edit.blackholePort !== undefined && edit.blackholePort === edit.port)
    errors.push(`--blackhole-port ${edit.blackholePort}: that is the guarded port itself`);
  const check = (flag: string, values: readonly string[] | undefined) =>
    (values ?? []).forEach((v) => {
      const r = parseCidr(v, flag);
      if (!r.ok) errors.push(r.error.message);
    });
  check('--allow', edit.allow);
  edit.entries?.forEach((e, i) => {
    const r = parseCidr(e.cidr, `allow[${i}]`);
    if (!r.ok) errors.push(r.error.message);
    const l = e.label === undefined ? undefined : textFieldProblem(`allow[${i}] label`, e.label, 200);
    if (l) errors.push(l);
  });
  check('--add', edit.add);
  check('--remove', edit.remove);
  if (
    edit.allowEmpty &&
    ((edit.allow?.length ?? 0) > 0 || (edit.entries?.length ?? 0) > 0 || (edit.add?.length ?? 0) > 0)
  )
    errors.push(`--allow-empty: give no addresses with it (it empties the allow-list of ${key})`);
  const existing = policy.nodePorts.findIndex((p) => p.protocol === edit.protocol && p.port === edit.port);
  const current = existing >= 0 ? policy.nodePorts[existing] : undefined;
  if (edit.drop) {
    if (!current) errors.push(`${key}: not in the policy, nothing to drop`);
    if (errors.length) return { ok: false, errors };
    return {
      ok: true,
      policy: { nodePorts: policy.nodePorts.filter((_, i) => i !== existing) },
      changed: true,
      notes: [],
      entries: 0,
    };
  }
  if (errors.length) return { ok: false, errors };

  const labelled = (cidr: string): AllowEntry =>
    edit.label === undefined ? { cidr } : { cidr, label: edit.label };
  let allow: AllowEntry[] =
    edit.entries !== undefined
      ? edit.entries.map((e) => (e.label ? { cidr: e.cidr, label: e.label } : { cidr: e.cidr }))
      : edit.allow !== undefined
        ? edit.allow.map(labelled)
        : [...(current?.allow ?? [])];
  allow.push(...(edit.add ?? []).map(labelled));
  if (edit.remove && edit.remove.length > 0) {
    const canon = (text: string): string | undefined => {
      const r = parseCidr(text);
      return r.ok ? r.value.cidr : undefined;
    };
    for (const r of edit.remove) {
      const c = canon(r);
      const before = allow.length;
      allow = allow.filter((a) => canon(a.cidr) !== c);
      if (allow.length === before) errors.push(`--remove ${r}: not in the allow-list of ${key}`);
    }
  }
  const touched =
    edit.allow !== undefined ||
    edit.entries !== undefined ||
    edit.add !== undefined ||
    edit.remove !== undefined;
  if (edit.allowEmpty && !touched) allow = [];
  // An empty list kept as it was (a mode change, say) was asked for when it was made.
  const keptEmpty = current !== undefined && current.allow.length === 0 && !touched;
  if (allow.length === 0 && !edit.allowEmpty && !keptEmpty) errors.push(emptyListProblem(key, edit, current));
  if (allow.length > MAX_ALLOW_ENTRIES)
    errors.push(`${key}: ${allow.length} allow entries; at most ${MAX_ALLOW_ENTRIES}`);
  if (errors.length) return { ok: false, errors };

  const norm = normaliseAllowList(allow, `${key}.allow`);
  if (!norm.ok) return { ok: false, errors: norm.errors.map((e) => e.message) };
  const kept = [...norm.list.ipv4, ...norm.list.ipv6].map(
    (r): AllowEntry =>
      r.label === undefined ? { cidr: r.value.cidr } : { cidr: r.value.cidr, label: r.label },
  );
  const next: NodePortPolicy = {
    port: edit.port,
    protocol: edit.protocol,
    mode: edit.mode ?? current?.mode ?? 'enforce',
    blackholePort: edit.blackholePort ?? current?.blackholePort ?? 65535,
    ...((edit.service ?? current?.service) !== undefined
      ? { service: edit.service ?? current?.service }
      : {}),
    allow: kept,
  };
  const nodePorts = [...policy.nodePorts];
  if (existing >= 0) nodePorts[existing] = next;
  else nodePorts.push(next);
  nodePorts.sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
  const parsed = PolicySchema.safeParse({ nodePorts });
  if (!parsed.success) {
    return { ok: false, errors: parsed.error.issues.map((i) => `policy.${i.path.join('.')}: ${i.message}`) };
  }
  return {
    ok: true,
    policy: parsed.data,
    changed: JSON.stringify(parsed.data) !== JSON.stringify(policy),
    notes: norm.notes.map((n) => n.message),
    entries: kept.length,
  };
}

/** Why an edit would leave `key` without an allow entry, and the two ways to say what was meant. */
function emptyListProblem(key: string, edit: PolicyEdit, current: NodePortPolicy | undefined): string {
  const what =
    edit.allow !== undefined
      ? '--allow gives no address'
      : edit.entries !== undefined
        ? 'no allow entry given'
        : edit.remove !== undefined && (current?.allow.length ?? 0) > 0
          ? '--remove takes the last entry'
          : 'a new guard without --allow';
  const blocks = (edit.mode ?? current?.mode) === 'audit' ? 'lists every source' : 'blocks every source';
  return `${key}: ${what}: the allow-list would be empty, which ${blocks}; use --allow-empty if that is meant, or --drop to remove the guard`;
}

/**
 * The workspace's guard backend (policy.guardBackend). `iptables`, the default, is stored as absent,
 * so a workspace that never chose keeps its file as it was.
 */
export function withGuardBackend(
  policy: Policy,
  backend: string,
  where = '--guard-backend',
): { ok: true; policy: Policy; changed: boolean } | { ok: false; error: string } {
  if (!(GUARD_BACKENDS as readonly string[]).includes(backend))
    return { ok: false, error: `${where} ${showValue(backend)}: one of ${GUARD_BACKENDS.join(', ')}` };
  const { guardBackend: before, ...rest } = policy;
  const next: Policy = backend === 'nft' ? { ...rest, guardBackend: 'nft' } : rest;
  return { ok: true, policy: next, changed: (before ?? 'iptables') !== backend };
}

/** What a changed guard backend means for the nodes, for people. */
export function guardBackendNote(backend: GuardBackend): string {
  return backend === 'nft'
    ? 'guard backend nft: the next apply puts the guard in table inet nodeport-guard on every node with nft, then removes the NPG- chains (kube-proxy restarts cannot reorder it)'
    : 'guard backend iptables: the next apply puts the guard in NPG- chains, then removes table inet nodeport-guard (nodes in kube-proxy nftables mode keep the nft guard)';
}

/**
 * Guard a node even where its dataplane may serve NodePorts before netfilter (cluster.guardAnyway):
 * the user's override of apply's refusal, for that node only. The node must be in the inventory.
 */
export function withGuardAnyway(
  workspace: Workspace,
  node: string,
  on: boolean,
): { ok: true; workspace: Workspace; changed: boolean } | { ok: false; error: string } {
  const now = workspace.cluster?.guardAnyway ?? [];
  // Turning it off must work for a name no node has any more (renamed, removed, typed by hand).
  if (on && !workspace.inventory.nodes.some((n) => n.name === node))
    return { ok: false, error: `guard anyway ${showValue(node)}: no such node in the workspace` };
  if (now.includes(node) === on) return { ok: true, workspace, changed: false };
  const next = on ? [...now, node].sort() : now.filter((n) => n !== node);
  const { guardAnyway: _old, ...cluster } = workspace.cluster ?? {};
  const merged = next.length ? { ...cluster, guardAnyway: next } : cluster;
  const { cluster: _c, ...rest } = workspace;
  return {
    ok: true,
    workspace: Object.keys(merged).length ? { ...rest, cluster: merged } : rest,
    changed: true,
  };
}
