// A plan as a readable diff (pure): per node and family the chains created, rewritten (rules added
// and removed) and removed, and what happens to the entry jump. The CLI prints it; the same edits
// are what render.ts turns into the iptables-restore transaction.

import { type NftEdit, type NftNodePlan, ruleText } from '../../shared/guard/nft/index.js';
import { NFT_TABLE_REF } from '../../shared/guard/nft/names.js';
import type { GuardEdit, NodePlan } from '../../shared/guard/plan.js';
import { ruleKey } from '../../shared/guard/state.js';
import { assertNever } from '../../shared/netfilter/index.js';
import { familyName } from '../../shared/vocabulary.js';
import { type NodeChange, switchDirection } from './node-change.js';
import type { Prepared } from './prepare.js';

const MAX_RULES_SHOWN = 20;

function rules(sign: string, list: readonly Parameters<typeof ruleKey>[0][]): string[] {
  const shown = list.slice(0, MAX_RULES_SHOWN).map((r) => `      ${sign} ${ruleKey(r)}`);
  if (list.length > MAX_RULES_SHOWN)
    shown.push(`      ${sign} ... and ${list.length - MAX_RULES_SHOWN} more`);
  return shown;
}

export function editLines(e: GuardEdit): string[] {
  const fam = familyName(e.family);
  switch (e.kind) {
    case 'chain-create':
      return [
        `  ${fam} + chain ${e.chain} (${e.rules.length} rule${e.rules.length === 1 ? '' : 's'})`,
        ...rules('+', e.rules),
      ];
    case 'chain-update':
      return [
        `  ${fam} ~ chain ${e.chain}: ${e.reordered ? 'same rules, new order' : `+${e.added.length} -${e.removed.length}`}`,
        ...rules('+', e.added),
        ...rules('-', e.removed),
      ];
    case 'chain-remove':
      return [`  ${fam} - chain ${e.chain} (${e.rules.length} rule${e.rules.length === 1 ? '' : 's'})`];
    case 'entry-add':
      return [`  ${fam} + entry jump at PREROUTING 1, before kube-proxy's KUBE-SERVICES jump`];
    case 'entry-move':
      return [
        `  ${fam} > entry jump moved from PREROUTING ${e.from.position} to 1 (${
          e.reason === 'after-kube-services'
            ? `it was behind KUBE-SERVICES at ${e.kubeServicesAt}: the guard was bypassed`
            : 'it was not written as ours'
        })`,
      ];
    case 'entry-dedupe':
      return [
        `  ${fam} > entry jump present ${e.jumps.length} times (PREROUTING ${e.jumps.map((j) => j.position).join(', ')}): one kept, at 1`,
      ];
    case 'entry-remove':
      return [`  ${fam} - entry jump at PREROUTING ${e.jumps.map((j) => j.position).join(', ')}`];
    default:
      return assertNever(e, 'guard edit');
  }
}

function elements(list: readonly string[]): string {
  const shown = list.slice(0, MAX_RULES_SHOWN).join(', ');
  return list.length > MAX_RULES_SHOWN ? `${shown} and ${list.length - MAX_RULES_SHOWN} more` : shown;
}

/** One edit of the nft guard (table inet nodeport-guard) as plan text. */
export function nftEditLines(e: NftEdit): string[] {
  switch (e.kind) {
    case 'table-write':
      return [
        `  nft + table ${NFT_TABLE_REF} written whole (${e.reasons.join('; ')}): ${e.desired.sets.length} set${e.desired.sets.length === 1 ? '' : 's'}, ${e.desired.rules.length} rule${e.desired.rules.length === 1 ? '' : 's'}`,
        ...e.desired.sets.map(
          (s) =>
            `      set ${s.name}: ${s.elements.length ? elements(s.elements) : '(empty: blocks every source)'}`,
        ),
        ...e.desired.rules.slice(0, MAX_RULES_SHOWN).map((r) => `      + ${ruleText(r)}`),
      ];
    case 'table-remove':
      return [`  nft - table ${NFT_TABLE_REF}`];
    case 'set-create':
      return [`  nft + set ${e.set.name}: ${e.set.elements.length ? elements(e.set.elements) : '(empty)'}`];
    case 'set-update':
      return [
        `  nft ~ set ${e.set.name}: +${e.added.length} -${e.removed.length}`,
        ...(e.added.length ? [`      + ${elements(e.added)}`] : []),
        ...(e.removed.length ? [`      - ${elements(e.removed)}`] : []),
      ];
    case 'set-remove':
      return [`  nft - set ${e.name}`];
    case 'rule-add':
      return [`  nft + rule ${ruleText(e.rule)}`];
    case 'rule-remove':
      return [`  nft - rule handle ${e.handle}`];
    default:
      return assertNever(e, 'nft edit');
  }
}

/**
 * The plan of one node: a head line `node: IPv4: 3 edits` (or `no change`), then the edits. With an
 * nft part (kube-proxy's nftables mode), the head names it: `node: nft table inet nodeport-guard: 2 edits`.
 */
export function planLines(plan: NodePlan, name: string = plan.node, nft?: NftNodePlan): string[] {
  const out: string[] = [];
  const bare = (message: string) =>
    message.startsWith(`${plan.node}: `) ? message.slice(plan.node.length + 2) : message;
  if (plan.noop) out.push(`${name}: no change${nft && plan.families.length === 0 ? ' (nft guard)' : ''}`);
  else {
    const per = plan.families
      .filter((f) => !f.noop)
      .map((f) => `${familyName(f.family)}: ${f.edits.length} edit${f.edits.length === 1 ? '' : 's'}`);
    if (nft && !nft.noop)
      per.push(`nft table ${NFT_TABLE_REF}: ${nft.edits.length} edit${nft.edits.length === 1 ? '' : 's'}`);
    out.push(`${name}: ${per.join(', ')}`);
    for (const e of plan.edits) out.push(...editLines(e));
    for (const e of nft?.edits ?? []) out.push(...nftEditLines(e));
  }
  for (const w of plan.warnings) out.push(`  warning: ${bare(w.message)}`);
  for (const e of plan.errors) out.push(`  error: ${bare(e.message)}`);
  return out;
}

/** A change's plan lines, its nft part included. */
export function changeLines(change: Pick<NodeChange, 'plan' | 'nft'>, name?: string): string[] {
  return planLines(change.plan, name ?? change.plan.node, change.nft?.plan);
}

/** Plans of many nodes, nodes with the same plan shown once (`node1, node2: ...`), in input order. */
export function groupedPlanLines(plans: readonly (NodePlan | Pick<NodeChange, 'plan' | 'nft'>)[]): string[] {
  const groups = new Map<string, { nodes: string[]; change: Pick<NodeChange, 'plan' | 'nft'> }>();
  for (const p of plans) {
    const change = 'plan' in p ? p : { plan: p };
    const key = changeLines(change, '*').join('\n');
    const g = groups.get(key);
    if (g) g.nodes.push(change.plan.node);
    else groups.set(key, { nodes: [change.plan.node], change });
  }
  return [...groups.values()].flatMap((g) => changeLines(g.change, g.nodes.join(', ')));
}

/**
 * Which guard each node takes, when any takes the nft one or leaves it (an all-iptables plan reads
 * as before).
 */
export function guardBackendLines(changes: readonly NodeChange[]): string[] {
  const nft = changes.filter((c) => c.snapshot.guardBackend === 'nft').map((c) => c.node);
  if (nft.length === 0 && !changes.some((c) => switchDirection(c) !== undefined)) return [];
  const ipt = changes.filter((c) => c.snapshot.guardBackend !== 'nft').map((c) => c.node);
  // An apply that switches backends installs the new guard first, then removes the old one.
  const toNft = changes.filter((c) => switchDirection(c) === 'to-nft').map((c) => c.node);
  const toIpt = changes.filter((c) => switchDirection(c) === 'to-iptables').map((c) => c.node);
  return [
    ...(nft.length
      ? [`guard nft (table ${NFT_TABLE_REF}, at dstnat - 10, before any DNAT): ${nft.join(', ')}`]
      : []),
    ...(ipt.length ? [`guard iptables (NPG- chains in nat PREROUTING): ${ipt.join(', ')}`] : []),
    ...(toNft.length
      ? [
          `switching to nft: table ${NFT_TABLE_REF} is written first, then the NPG- chains go: ${toNft.join(', ')}`,
        ]
      : []),
    ...(toIpt.length
      ? [
          `switching to iptables: the NPG- chains are written first, then table ${NFT_TABLE_REF} goes: ${toIpt.join(', ')}`,
        ]
      : []),
  ];
}

/** The plan as text: nodes with the same plan once, then nodes left alone, then nodes not planned. */
export function planTextLines(prepared: Prepared): string[] {
  const lines = [...guardBackendLines(prepared.changes), ...groupedPlanLines(prepared.changes)];
  for (const u of prepared.untouched) lines.push(u.message);
  for (const u of prepared.unplanned) lines.push(u.message);
  return lines;
}

/** The question asked before nodes change: how many, which families, and the rollback timer. */
export function confirmQuestion(
  op: string,
  work: readonly NodeChange[],
  confirmSeconds: number | undefined,
): string {
  const fams = new Set(work.flatMap((c) => c.restores.map((r) => familyName(r.family))));
  if (work.some((c) => c.nft?.text)) fams.add(`nft table ${NFT_TABLE_REF}`);
  const nodes = `${work.length} node${work.length === 1 ? '' : 's'}`;
  const timer = confirmSeconds ? `, rolled back after ${confirmSeconds} s unless confirmed` : '';
  return `${op} on ${nodes} (${[...fams].join(', ')})${timer}?`;
}
