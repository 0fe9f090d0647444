// A plan as a readable diff (pure): per node and family the chains created, rewritten (rules added
// and removed) and removed, and what happens to the entry jump. The CLI prints it; the same edits
// are what render.ts turns into the iptables-restore transaction.

import type { GuardEdit, NodePlan } from '../../shared/guard/plan.js';
import { ruleKey } from '../../shared/guard/state.js';
import { assertNever } from '../../shared/netfilter/index.js';
import { familyName } from '../../shared/vocabulary.js';
import type { NodeChange } from './node-change.js';
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

/** The plan of one node: a head line `node: IPv4: 3 edits` (or `no change`), then the edits. */
export function planLines(plan: NodePlan, name: string = plan.node): string[] {
  const out: string[] = [];
  const bare = (message: string) =>
    message.startsWith(`${plan.node}: `) ? message.slice(plan.node.length + 2) : message;
  if (plan.noop) out.push(`${name}: no change`);
  else {
    const per = plan.families
      .filter((f) => !f.noop)
      .map((f) => `${familyName(f.family)}: ${f.edits.length} edit${f.edits.length === 1 ? '' : 's'}`);
    out.push(`${name}: ${per.join(', ')}`);
    for (const e of plan.edits) out.push(...editLines(e));
  }
  for (const w of plan.warnings) out.push(`  warning: ${bare(w.message)}`);
  for (const e of plan.errors) out.push(`  error: ${bare(e.message)}`);
  return out;
}

/** Plans of many nodes, nodes with the same plan shown once (`node1, node2: ...`), in input order. */
export function groupedPlanLines(plans: readonly NodePlan[]): string[] {
  const groups = new Map<string, { nodes: string[]; plan: NodePlan }>();
  for (const p of plans) {
    const key = planLines(p, '*').join('\n');
    const g = groups.get(key);
    if (g) g.nodes.push(p.node);
    else groups.set(key, { nodes: [p.node], plan: p });
  }
  return [...groups.values()].flatMap((g) => planLines(g.plan, g.nodes.join(', ')));
}

/** The plan as text: nodes with the same plan once, then nodes left alone, then nodes not planned. */
export function planTextLines(prepared: Prepared): string[] {
  const lines = groupedPlanLines(prepared.changes.map((c) => c.plan));
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
  const nodes = `${work.length} node${work.length === 1 ? '' : 's'}`;
  const timer = confirmSeconds ? `, rolled back after ${confirmSeconds} s unless confirmed` : '';
  return `${op} on ${nodes} (${[...fams].join(', ')})${timer}?`;
}
