// One node's nft guard change, as data (pure): the part of a NodeChange that goes to our table
// `inet nodeport-guard` (shared/guard/nft) on a node whose kube-proxy runs in nftables mode (apply),
// or wherever a full read found our table (remove, rollback). The change script runs `text` as one
// `nft -f` under the node lock after comparing the node's listing with `excerpt`; `undo` puts
// `before` back whatever happened (commit-confirmed timer, a later part of the change failing).
import type { DesiredGuard } from '../../shared/guard/desired.js';
import { fingerprint } from '../../shared/guard/hash.js';
import {
  type NftDesired,
  type NftGuardState,
  type NftNodePlan,
  type NftNodeVerify,
  nftDesired,
  nftStateAfter,
  nftStateHash,
  nftStateMatches,
  parseNftSavedState,
  planNftNode,
  planNftRemoveAll,
  planNftRestore,
  renderNftConfirmTimer,
  renderNftPlan,
  verifyNftNode,
} from '../../shared/guard/nft/index.js';
import { chainSpecText, GUARD_CHAIN } from '../../shared/guard/nft/model.js';
import { NFT_TABLE_REF } from '../../shared/guard/nft/names.js';
import type { NodePlan } from '../../shared/guard/plan.js';
import type { PlanChecks } from '../../shared/guard/warnings.js';
import type { NodeSnapshot } from './snapshot.js';

export interface NftChange {
  readonly plan: NftNodePlan;
  /** `nft -f -` input; empty for a noop (nothing runs). */
  readonly text: string;
  /** Back to `before`, unconditionally (renderNftConfirmTimer). */
  readonly undo: string;
  /** Our table before the change (saved on the node and locally). */
  readonly before: NftGuardState;
  /** What the node should hold afterwards. */
  readonly target: NftDesired;
  /** expect.nft: the listing the plan was made from, without counters (or `absent`). */
  readonly excerpt: string;
  /** An apply's part: the policy's guard it installs (verify checks the node against it). */
  readonly policy?: DesiredGuard;
}

export type NftPart =
  | { readonly ok: true; readonly nft: NftChange }
  | { readonly ok: false; message: string };

/** Our table as the read found it, or why it cannot be planned from. */
function current(
  snapshot: NodeSnapshot,
): { ok: true; state: NftGuardState; excerpt: string } | { ok: false; message: string } {
  const g = snapshot.nftGuard;
  if (!g)
    return {
      ok: false,
      message: `${snapshot.node}: kube-proxy runs in nftables mode, but the node has no nft to read or change the guard's table ${NFT_TABLE_REF} with`,
    };
  if (!g.table.ok)
    return {
      ok: false,
      message: `${snapshot.node}: could not read table ${NFT_TABLE_REF}: ${g.table.error.message}`,
    };
  return { ok: true, state: g.table.value, excerpt: g.excerpt };
}

function part(plan: NftNodePlan, before: NftGuardState, target: NftDesired, excerpt: string): NftChange {
  return {
    plan,
    text: renderNftPlan(plan),
    undo: renderNftConfirmTimer(plan.node, before),
    before,
    target,
    excerpt,
  };
}

/** Apply: the policy's guard in our table, with the same warnings as the iptables guard. */
export function nftApplyPart(snapshot: NodeSnapshot, desired: DesiredGuard, checks: PlanChecks): NftPart {
  const c = current(snapshot);
  if (!c.ok) return c;
  const chains = snapshot.nftGuard?.chains;
  const plan = planNftNode({
    node: snapshot.node,
    current: c.state,
    desired,
    kubeProxyMode: snapshot.mode,
    checks,
    ...(chains?.ok ? { baseChains: chains.value } : {}),
  });
  return { ok: true, nft: { ...part(plan, c.state, nftDesired(desired), c.excerpt), policy: desired } };
}

/** Rollback: the table as saved (or none), written whole. Undefined when nothing of nft was saved. */
export function nftRestorePart(snapshot: NodeSnapshot, savedText: string): NftPart {
  const saved = parseNftSavedState(savedText);
  if (!saved.ok)
    return { ok: false, message: `${snapshot.node}: ${snapshot.dir}/saved.nft: ${saved.error.message}` };
  const c = current(snapshot);
  if (!c.ok) return c;
  const plan = planNftRestore(snapshot.node, c.state, saved.value);
  return { ok: true, nft: part(plan, c.state, plan.desired, c.excerpt) };
}

/**
 * Remove: our table goes, if the read found one; undefined when there is none (or nft was not
 * read). A listing that failed is an error: remove must not report success with a guard in place.
 */
export function nftRemovePart(
  snapshot: NodeSnapshot,
): { ok: true; nft: NftChange | undefined } | { ok: false; message: string } {
  const g = snapshot.nftGuard;
  if (g === undefined) return { ok: true, nft: undefined };
  if (!g.table.ok)
    return {
      ok: false,
      message: `${snapshot.node}: our nft table could not be read, so it cannot be removed: ${g.table.error.message}`,
    };
  if (g.table.value.table === 'absent') return { ok: true, nft: undefined };
  const plan = planNftRemoveAll(snapshot.node, g.table.value);
  return { ok: true, nft: part(plan, g.table.value, plan.desired, g.excerpt) };
}

/**
 * The node's plan with its nft part: noop only when both are, warnings and errors of both, and a
 * state hash over both (a saved plan is stale when either changed). An nft-only change (apply in
 * nftables mode) has no iptables families or edits.
 */
export function withNftPlan(
  iptables: NodePlan | undefined,
  nft: NftNodePlan,
  node: string,
  backend: NodePlan['backend'],
): NodePlan {
  if (!iptables)
    return {
      node,
      backend,
      stateHash: nft.stateHash,
      families: [],
      edits: [],
      noop: nft.noop,
      warnings: nft.warnings,
      errors: nft.errors,
    };
  return {
    ...iptables,
    stateHash: fingerprint(`${iptables.stateHash}\nnft ${nft.stateHash}`),
    noop: iptables.noop && nft.noop,
    warnings: [...iptables.warnings, ...nft.warnings],
    errors: [...iptables.errors, ...nft.errors],
  };
}

/** The fingerprint of the table a change leaves (history). */
export function nftHashAfter(nft: NftChange): string {
  return nftStateHash(nftStateAfter(nft.target));
}

/**
 * After a change: the policy's verify (apply: sets, rules, priority, blackhole listener) or, for a
 * rollback or remove, whether the table is exactly the one restored (or gone).
 */
export function verifyNftSnapshot(
  snapshot: NodeSnapshot,
  desired: DesiredGuard | undefined,
  target: NftDesired,
): NftNodeVerify {
  const node = snapshot.node;
  const table = snapshot.nftGuard?.table ?? {
    ok: false as const,
    error: { kind: 'bad-shape' as const, message: 'the read did not list it (no nft on the node?)' },
  };
  if (desired)
    return verifyNftNode({
      node,
      desired,
      table,
      ...(snapshot.nftGuard?.chains ? { chains: snapshot.nftGuard.chains } : {}),
      listeningPorts: snapshot.listening,
    });
  if (!table.ok)
    return {
      node,
      status: 'error',
      findings: [
        {
          node,
          kind: 'table-unreadable',
          severity: 'error',
          error: table.error.message,
          message: `${node}: could not read table ${NFT_TABLE_REF}: ${table.error.message}`,
        },
      ],
      ports: [],
    };
  if (nftStateMatches(table.value, target)) return { node, status: 'ok', findings: [], ports: [] };
  const finding =
    table.value.table === 'absent'
      ? ({ kind: 'table-absent', message: `table ${NFT_TABLE_REF} missing` } as const)
      : target.present
        ? ({
            kind: 'object-unexpected',
            object: 'table',
            message: `table ${NFT_TABLE_REF} is not the one restored`,
          } as const)
        : ({ kind: 'table-unexpected', message: `table ${NFT_TABLE_REF} still exists` } as const);
  return {
    node,
    status: 'drift',
    findings: [{ ...finding, node, severity: 'drift', message: `${node}: ${finding.message}` }],
    ports: [],
  };
}

/**
 * Our table at a glance (discover, the desktop's node list): none without it; healthy when our chain
 * is as written (nat prerouting at dstnat - 10) and holds only our rules; the ports it guards
 * (`tcp/30001`: one rule per port and family; audit-mode rules count too).
 */
export function nftGuardSummary(s: NodeSnapshot): {
  readonly guard: 'none' | 'healthy' | 'unhealthy';
  readonly ports: ReadonlySet<string>;
} {
  const t = s.nftGuard?.table;
  if (!t?.ok) return { guard: 'unhealthy', ports: new Set() };
  if (t.value.table === 'absent') return { guard: 'none', ports: new Set() };
  const chain = t.value.chains.find((c) => c.name === GUARD_CHAIN.name);
  const rules = chain?.rules ?? [];
  const ports = new Set(rules.flatMap((r) => (r.kind === 'guard' ? [`${r.protocol}/${r.port}`] : [])));
  const healthy =
    chain !== undefined &&
    chainSpecText(chain) === chainSpecText(GUARD_CHAIN) &&
    t.value.chains.length === 1 &&
    t.value.others.length === 0 &&
    rules.every((r) => r.kind === 'guard');
  return { guard: healthy ? 'healthy' : 'unhealthy', ports };
}
