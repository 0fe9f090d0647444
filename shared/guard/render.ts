// Render a plan as iptables-restore input: per family ONE `iptables-restore -w --noflush` transaction
// on the nat table. Declaring `:CHAIN - [0:0]` flushes that chain inside the transaction, so each
// changed chain is rewritten whole and the kernel swaps old for new in one commit; chains that did not
// change are not mentioned (their counters keep counting). kube-proxy's chains are never declared.
//
// Order inside the transaction matters (iptables-restore applies lines in order, commit is atomic):
//   1. declarations (flush) of every chain we create, rewrite or remove;
//   2. `-D PREROUTING <spec>` of entry jumps to drop, then `-I PREROUTING 1 <spec>` (at most one);
//   3. `-A` rules of created and rewritten chains;
//   4. `-X` of removed chains: by then they are empty and nothing of ours jumps to them
//      (NPG-PREROUTING was rewritten in 1+3, or is itself removed last after its entry jump in 2).
import { serializeRule, serializeRuleSpec } from '../netfilter/serialize';
import type { Family } from '../vocabulary';
import { ENTRY_CHAIN, HOOK_CHAIN } from '../vocabulary';
import { type DesiredGuard, FAMILIES } from './desired';
import { entryJumpsRemoved, type FamilyPlan, insertsEntryJump, type NodePlan, planNode } from './plan';
import { entryJumpRule } from './rules';
import { bareRule, type FamilyGuardState } from './state';

export interface RestoreText {
  readonly family: Family;
  /** Feed to `iptables-restore -w --noflush` (ipv4) or `ip6tables-restore -w --noflush` (ipv6). */
  readonly text: string;
}

/** The transactions of a plan, one per family that changes; none for a noop plan. */
export function renderNodePlan(plan: NodePlan): readonly RestoreText[] {
  return plan.families
    .filter((f) => !f.noop)
    .map((f) => ({ family: f.family, text: renderFamilyPlan(f, plan) }));
}

export function renderFamilyPlan(f: FamilyPlan, plan?: Pick<NodePlan, 'node' | 'stateHash'>): string {
  const declare: string[] = [];
  const entry: string[] = [];
  const append: string[] = [];
  const remove: string[] = [];
  for (const e of f.edits) {
    switch (e.kind) {
      case 'chain-create':
      case 'chain-update':
        declare.push(`:${e.chain} - [0:0]`);
        for (const r of e.rules) append.push(serializeRule(bareRule(r)));
        break;
      case 'chain-remove':
        declare.push(`:${e.chain} - [0:0]`);
        remove.push(`-X ${e.chain}`);
        break;
      case 'entry-add':
      case 'entry-move':
      case 'entry-dedupe':
      case 'entry-remove':
        // -D by rule spec, not by number: numbers would shift under each deletion.
        for (const j of entryJumpsRemoved(e))
          entry.push(`-D ${HOOK_CHAIN} ${serializeRuleSpec(bareRule(j.rule))}`);
        if (insertsEntryJump(e)) entry.push(`-I ${HOOK_CHAIN} 1 ${serializeRuleSpec(entryJumpRule())}`);
        break;
    }
  }
  // NPG-PREROUTING is removed after the per-port chains, which its old rules referenced.
  remove.sort((a, b) => Number(a === `-X ${ENTRY_CHAIN}`) - Number(b === `-X ${ENTRY_CHAIN}`));
  const head = plan
    ? [`# nodeport-guard ${f.family} node ${safeComment(plan.node)} state ${plan.stateHash}`]
    : [];
  return `${[...head, '*nat', ...declare, ...entry, ...append, ...remove, 'COMMIT'].join('\n')}\n`;
}

/**
 * Roll back to a saved state: the plan from the node's state now (after the apply) to the saved one.
 * The saved entry jump comes back as one healthy jump at the top, not in a saved wrong position.
 */
export function planRestore(
  node: string,
  now: readonly FamilyGuardState[],
  saved: readonly FamilyGuardState[],
  backend: NodePlan['backend'],
): NodePlan {
  return planNode({
    node,
    current: now,
    desired: desiredFromState(saved),
    kubeProxy: { mode: 'iptables', backend },
  });
}

/** Remove the guard entirely: every NPG- chain and entry jump, nothing else. */
export function planRemoveAll(
  node: string,
  now: readonly FamilyGuardState[],
  backend: NodePlan['backend'],
): NodePlan {
  const desired: DesiredGuard = {
    ports: [],
    families: now.map((s) => ({ family: s.family, entry: false, chains: [] })),
  };
  return planNode({ node, current: now, desired, kubeProxy: { mode: 'iptables', backend } });
}

/** A saved guard state as a desired state (rules without counters). */
export function desiredFromState(states: readonly FamilyGuardState[]): DesiredGuard {
  return {
    ports: [],
    families: FAMILIES.flatMap((family) => {
      const s = states.find((x) => x.family === family);
      if (!s) return [];
      return [
        {
          family,
          entry: s.entryJumps.length > 0,
          chains: s.chains.map((c) => ({ name: c.name, rules: c.rules.map(bareRule) })),
        },
      ];
    }),
  };
}

/**
 * The guard state a successful apply of `desired` leaves behind: what commit-confirmed's node-side
 * timer restores from, rendered before the apply (planRestore(node, stateAfter(desired), saved)).
 */
export function stateAfter(desired: DesiredGuard): readonly FamilyGuardState[] {
  return desired.families.map((d) => ({
    family: d.family,
    entryJumps: d.entry
      ? [{ position: 1 as FamilyGuardState['entryJumps'][number]['position'], rule: entryJumpRule() }]
      : [],
    chains: [...d.chains].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    foreignReferences: [],
  }));
}

function safeComment(text: string): string {
  return text.replace(/[^A-Za-z0-9._:@-]/g, '_').slice(0, 80);
}
