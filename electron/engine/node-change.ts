// One node's change, as data, built from a snapshot (pure): the plan (edits), its iptables-restore
// transactions, the transactions that undo it (for a failed second family and for the
// commit-confirmed timer), the saved state to keep, and the excerpt the node must still show.
// Apply, rollback and remove differ only in the desired state they aim for.
import { type DesiredGuard, desiredGuard, familyOf } from '../../shared/guard/desired.js';
import { fingerprint } from '../../shared/guard/hash.js';
import { serializeNftSavedState } from '../../shared/guard/nft/index.js';
import { NFT_TABLE_REF } from '../../shared/guard/nft/names.js';
import type { NodePlan } from '../../shared/guard/plan.js';
import { planNode } from '../../shared/guard/plan.js';
import {
  desiredFromState,
  planRemoveAll,
  planRestore,
  type RestoreText,
  renderNodePlan,
  stateAfter,
} from '../../shared/guard/render.js';
import { serializeSavedState } from '../../shared/guard/saved-state.js';
import { emptyFamilyState, type FamilyGuardState, guardStateHash } from '../../shared/guard/state.js';
import type { PlanChecks, PlanIssue } from '../../shared/guard/warnings.js';
import type { Family } from '../../shared/vocabulary.js';
import type { Policy } from '../../shared/workspace/schema.js';
import {
  type NftChange,
  nftApplyPart,
  nftHashAfter,
  nftRemovePart,
  nftRestorePart,
  withNftPlan,
} from './nft-change.js';
import { EXPIRE_SCRIPT } from './node-scripts.js';
import { encodeBundle } from './sections.js';
import { type NodeSnapshot, savedStates } from './snapshot.js';

export type ChangeOp = 'apply' | 'rollback' | 'remove';

export interface NodeChange {
  readonly node: string;
  readonly op: ChangeOp;
  readonly snapshot: NodeSnapshot;
  /** What the node should hold afterwards (verify compares against it). */
  readonly desired: DesiredGuard;
  readonly plan: NodePlan;
  readonly restores: readonly RestoreText[];
  /** From the state after the change back to the state before it. */
  readonly undo: readonly RestoreText[];
  /** The state before the change, per planned family (saved on the node and locally). */
  readonly before: readonly FamilyGuardState[];
  /**
   * The nft guard's part (table inet nodeport-guard): the whole change where kube-proxy runs in
   * nftables mode (then restores, undo and before are empty), or beside the iptables part in a
   * remove or rollback that found our table. `plan` then sums up both (withNftPlan).
   */
  readonly nft?: NftChange;
}

export type ChangeResult =
  | { readonly ok: true; readonly change: NodeChange }
  | { readonly ok: false; readonly message: string };

/** Plan-time inputs that come from the whole cluster, not from one node. */
export interface ClusterChecks {
  readonly allowEmpty?: boolean;
  readonly nodeAddresses?: readonly string[];
  readonly podCidrs?: readonly string[];
  readonly healthCheckRanges?: readonly string[];
  /** This machine's addresses, if known; else the address each node saw us connect from. */
  readonly appHostAddresses?: readonly string[];
  /** Every node's SSH port, and the cluster's NodePort range: ports the policy should not guard. */
  readonly sshPorts?: PlanChecks['sshPorts'];
  readonly nodePortRange?: PlanChecks['nodePortRange'];
  /** Nodes to guard even where their dataplane may bypass netfilter (dataplaneRefusal). */
  readonly guardAnyway?: readonly string[];
}

/**
 * Why apply leaves a node alone: something other than kube-proxy's netfilter rules may serve its
 * NodePorts (Cilium, Calico's eBPF dataplane, kube-router), so a guard there may never see the
 * packet. Unless the user overrides it for that node; then verify's probes are the judge.
 */
export function dataplaneRefusal(snapshot: NodeSnapshot, checks: ClusterChecks): string | undefined {
  const v = snapshot.dataplane;
  if (!v || checks.guardAnyway?.includes(snapshot.node)) return undefined;
  if (v.guardable === 'no' || (v.guardable === 'unsure' && v.foreign))
    return `${snapshot.node}: ${v.sentence}`;
  return undefined;
}

function currentStates(snapshot: NodeSnapshot, families: readonly Family[]): FamilyGuardState[] {
  return families.map((f) => snapshot.families.find((s) => s.family === f)?.state ?? emptyFamilyState(f));
}

function finish(snapshot: NodeSnapshot, op: ChangeOp, desired: DesiredGuard, plan: NodePlan): NodeChange {
  const families = desired.families.map((f) => f.family);
  const before = currentStates(snapshot, families);
  const undoPlan = planRestore(snapshot.node, stateAfter(desired), before, plan.backend);
  return {
    node: snapshot.node,
    op,
    snapshot,
    desired,
    plan,
    restores: renderNodePlan(plan),
    undo: renderNodePlan(undoPlan),
    before,
  };
}

/** The node's NodePorts (both families, when its read listed them) and the cluster-wide port facts. */
function nodePortChecks(snapshot: NodeSnapshot, checks: ClusterChecks): Partial<PlanChecks> {
  const lists = snapshot.families.map((f) => f.nodePorts);
  const nodePorts = lists.length > 0 && lists.every((l) => l !== undefined) ? lists.flat() : undefined;
  return {
    ...(nodePorts ? { nodePorts: nodePorts as NonNullable<PlanChecks['nodePorts']> } : {}),
    ...(checks.sshPorts ? { sshPorts: checks.sshPorts } : {}),
    ...(checks.nodePortRange ? { nodePortRange: checks.nodePortRange } : {}),
  };
}

/** Apply the policy: the desired guard for this node's families. */
export function applyChange(
  snapshot: NodeSnapshot,
  policy: Policy,
  checks: ClusterChecks = {},
): ChangeResult {
  const d = desiredGuard(policy, { families: snapshot.guardFamilies });
  if (!d.ok) return { ok: false, message: `${snapshot.node}: ${d.errors[0]?.message ?? 'invalid policy'}` };
  const refused = dataplaneRefusal(snapshot, checks);
  if (refused) return { ok: false, message: refused };
  const v6 = snapshot.families.find((f) => f.family === 'ipv6')?.nodePorts;
  const planChecks: PlanChecks = {
    ...(checks.allowEmpty ? { allowEmpty: true } : {}),
    appHostAddresses: checks.appHostAddresses ?? (snapshot.sshClient ? [snapshot.sshClient] : []),
    nodeAddresses: checks.nodeAddresses ?? snapshot.addresses,
    ...(checks.podCidrs ? { podCidrs: checks.podCidrs } : {}),
    ...(checks.healthCheckRanges ? { healthCheckRanges: checks.healthCheckRanges } : {}),
    listeningPorts: snapshot.listening,
    ...(v6 ? { ipv6NodePorts: v6 } : {}),
    ...nodePortChecks(snapshot, checks),
  };
  // Our own table: kube-proxy's nftables mode (an iptables guard does nothing there), or the
  // workspace's choice. Switching backends is this one apply: the change script installs the new
  // guard before it removes the old one (changeBundle's order), so the port is never open.
  if (snapshot.guardBackend === 'nft') {
    const p = nftApplyPart(snapshot, d.desired, planChecks);
    if (!p.ok) return p;
    // Also where kube-proxy moved to nftables mode: NPG- chains from its iptables days go.
    const old = iptablesGuardToRemove(snapshot);
    if (!old) return { ok: true, change: nftOnly(snapshot, 'apply', d.desired, p.nft) };
    return { ok: true, change: withNft(finish(snapshot, 'apply', old.desired, old.plan), p.nft) };
  }
  const plan = planNode({
    node: snapshot.node,
    current: currentStates(snapshot, snapshot.guardFamilies),
    desired: d.desired,
    kubeProxy: { mode: snapshot.mode, backend: snapshot.kubeBackend },
    checks: planChecks,
  });
  const change = withNft(finish(snapshot, 'apply', d.desired, plan), nftGuardToRemove(snapshot));
  const t = snapshot.nftGuard?.table;
  if (!t || t.ok) return { ok: true, change };
  // Said, not refused: a table we cannot read may hold an old nft guard that still blocks.
  const unreadable: PlanIssue = {
    kind: 'nft-guard-unreadable',
    severity: 'warning',
    node: snapshot.node,
    message: `${snapshot.node}: table ${NFT_TABLE_REF} could not be read (${t.error.message}): an nft guard left there by an earlier switch would stay and keep blocking`,
  };
  return {
    ok: true,
    change: { ...change, plan: { ...change.plan, warnings: [...change.plan.warnings, unreadable] } },
  };
}

/**
 * Our iptables chains on a node the nft guard now takes (a guard from before the switch): the plan
 * that removes them, or undefined when there are none.
 */
function iptablesGuardToRemove(
  snapshot: NodeSnapshot,
): { desired: DesiredGuard; plan: NodePlan } | undefined {
  const current = currentStates(
    snapshot,
    snapshot.families.map((f) => f.family),
  );
  if (current.every((s) => s.chains.length === 0 && s.entryJumps.length === 0)) return undefined;
  const plan = planRemoveAll(snapshot.node, current, snapshot.kubeBackend);
  return {
    plan,
    desired: { ports: [], families: current.map((s) => ({ family: s.family, entry: false, chains: [] })) },
  };
}

/**
 * Our nft table on a node the iptables guard takes (left by a switch back to iptables): removed in
 * the same apply, after the iptables guard is in place. A table that could not be read is left
 * alone (discover shows it unhealthy): an unreadable nft must not stop the iptables guard.
 */
function nftGuardToRemove(snapshot: NodeSnapshot): NftChange | undefined {
  const r = nftRemovePart(snapshot);
  return r.ok ? r.nft : undefined;
}

/** A change of the nft guard alone. */
function nftOnly(snapshot: NodeSnapshot, op: ChangeOp, desired: DesiredGuard, nft: NftChange): NodeChange {
  return {
    node: snapshot.node,
    op,
    snapshot,
    desired,
    plan: withNftPlan(undefined, nft.plan, snapshot.node, snapshot.kubeBackend),
    restores: [],
    undo: [],
    before: [],
    nft,
  };
}

/** An iptables change with an nft part beside it (remove, rollback). */
function withNft(change: NodeChange, nft: NftChange | undefined): NodeChange {
  if (!nft) return change;
  return { ...change, plan: withNftPlan(change.plan, nft.plan, change.node, change.plan.backend), nft };
}

const NO_GUARD: DesiredGuard = { ports: [], families: [] };

/** Back to the state the node saved before its last change (iptables, nft, or both). */
export function rollbackChange(snapshot: NodeSnapshot): ChangeResult {
  let nft: NftChange | undefined;
  if (snapshot.saved.nft !== undefined) {
    const p = nftRestorePart(snapshot, snapshot.saved.nft);
    if (!p.ok) return p;
    nft = p.nft;
  }
  if (nft && snapshot.saved.ipv4 === undefined && snapshot.saved.ipv6 === undefined)
    return { ok: true, change: nftOnly(snapshot, 'rollback', NO_GUARD, nft) };
  const saved = savedStates(snapshot);
  if (!saved.ok) return saved;
  const current = currentStates(
    snapshot,
    saved.states.map((s) => s.family),
  );
  const plan = planRestore(snapshot.node, current, saved.states, snapshot.kubeBackend);
  return {
    ok: true,
    change: withNft(finish(snapshot, 'rollback', desiredFromState(saved.states), plan), nft),
  };
}

/** No guard at all: every NPG- chain and entry jump goes, in every family read, and our nft table. */
export function removeChange(snapshot: NodeSnapshot): ChangeResult {
  const families = snapshot.families.map((f) => f.family);
  const current = currentStates(snapshot, families);
  const plan = planRemoveAll(snapshot.node, current, snapshot.kubeBackend);
  const desired: DesiredGuard = {
    ports: [],
    families: families.map((family) => ({ family, entry: false, chains: [] })),
  };
  const nft = nftRemovePart(snapshot);
  if (!nft.ok) return nft;
  return { ok: true, change: withNft(finish(snapshot, 'remove', desired, plan), nft.nft) };
}

/** Fingerprints of the guard state before and after a change (history), over both parts. */
export function stateHashes(change: NodeChange): { before: string; after: string } {
  const before = guardStateHash(change.before);
  const after = guardStateHash(stateAfter(change.desired));
  const nft = change.nft;
  if (!nft) return { before, after };
  if (change.restores.length === 0 && change.before.length === 0)
    return { before: nft.plan.stateHash, after: nftHashAfter(nft) };
  return {
    before: fingerprint(`${before}\nnft ${nft.plan.stateHash}`),
    after: fingerprint(`${after}\nnft ${nftHashAfter(nft)}`),
  };
}

const SUFFIX: Readonly<Record<Family, string>> = { ipv4: 'v4', ipv6: 'v6' };

export interface BundleMeta {
  readonly token: string;
  readonly operator: string;
  readonly time: string;
  readonly planHash: string;
}

/**
 * Which way a change with both parts moves the guard, by what each part leaves: our table in
 * place while the iptables part takes the NPG- chains away (a switch to nft, or the rollback of a
 * switch to iptables), or the chains in place while the nft part takes our table away.
 */
export function switchDirection(change: NodeChange): 'to-nft' | 'to-iptables' | undefined {
  const nft = change.nft;
  if (!nft?.text || change.restores.length === 0) return undefined;
  const chainsGo = change.desired.families.every((f) => !f.entry && f.chains.length === 0);
  if (nft.target.present && chainsGo) return 'to-nft';
  if (!nft.target.present && !chainsGo) return 'to-iptables';
  return undefined;
}

/**
 * The order the change script runs its parts in (the timer undoes them in reverse): the guard that
 * stays is written before the one that goes, so the port is never open.
 */
export function partOrder(change: NodeChange): 'nft v4 v6' | 'v4 v6 nft' {
  return switchDirection(change) === 'to-nft' ? 'nft v4 v6' : 'v4 v6 nft';
}

/** The stdin of CHANGE_SCRIPT for this change. */
export function changeBundle(change: NodeChange, meta: BundleMeta): string {
  const files = new Map<string, string>();
  for (const f of change.before) {
    const read = change.snapshot.families.find((s) => s.family === f.family);
    // The node must still show what we read; a family we never read has nothing to compare.
    if (read) files.set(`expect.${SUFFIX[f.family]}`, read.excerpt);
    // A plan/guard read names the chains it read; the script reads the same ones with `-S`.
    if (read?.chains) files.set(`chains.${SUFFIX[f.family]}`, `${read.chains.join(' ')}\n`);
    files.set(`saved.${SUFFIX[f.family]}`, serializeSavedState(f));
  }
  files.set(
    'saved.meta',
    `${JSON.stringify({ op: change.op, token: meta.token, time: meta.time, operator: meta.operator, planHash: meta.planHash, stateHash: change.plan.stateHash })}\n`,
  );
  for (const r of change.restores) files.set(`restore.${SUFFIX[r.family]}`, r.text);
  for (const r of change.undo) files.set(`undo.${SUFFIX[r.family]}`, r.text);
  const nft = change.nft;
  if (nft) {
    // The script lists our table under the lock and compares (stale plan), saves, runs one nft -f.
    files.set('expect.nft', nft.excerpt);
    files.set('saved.nft', serializeNftSavedState(nft.before));
    if (nft.text) {
      files.set('restore.nft', nft.text);
      files.set('undo.nft', nft.undo);
    }
  }
  files.set('order', `${partOrder(change)}\n`);
  files.set('expire.sh', EXPIRE_SCRIPT);
  return encodeBundle(files);
}

/** Fingerprint of the state a change leaves (for history and export). */
export function stateHashAfter(change: NodeChange): string {
  return stateHashes(change).after;
}

/** Whether the policy's desired guard for `family` exists on this change (for messages). */
export function guardsFamily(change: NodeChange, family: Family): boolean {
  return familyOf(change.desired, family) !== undefined;
}
