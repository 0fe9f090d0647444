// The local change history: one JSON object per line, appended (and fsynced) after every apply,
// rollback and remove, never rewritten. Reading tolerates a torn last line (a crash mid-append)
// and reports lines it cannot read instead of failing.
import { readFile } from 'node:fs/promises';
import type { NftNodePlan } from '../../shared/guard/nft/index.js';
import type { NodePlan } from '../../shared/guard/plan.js';
import { appendLine, type LocalStore } from './local-store.js';
import { planLines } from './plan-text.js';

export interface HistoryNodeResult {
  readonly node: string;
  /** unchanged | applied | stale | failed | skipped | blocked | unreachable | drift */
  readonly status: string;
  readonly message?: string;
  readonly stateHashBefore?: string;
  readonly stateHashAfter?: string;
  readonly timer?: string;
}

/** Nodes with the same plan, once: the diff lines the plan tab showed (planLines without its head). */
export interface HistoryPlanGroup {
  readonly nodes: readonly string[];
  readonly diff: readonly string[];
}

export interface HistoryRecord {
  readonly version: 1;
  readonly time: string;
  readonly operator: string;
  readonly op: 'apply' | 'rollback' | 'remove';
  readonly workspace: string;
  readonly token: string;
  readonly planHash: string;
  readonly policyHash?: string;
  readonly confirmWithinSeconds?: number;
  readonly outcome: 'ok' | 'difference' | 'failed';
  readonly nodes: readonly HistoryNodeResult[];
  /** The plan as the engineer saw it; absent in records written before it was kept (their hash stays). */
  readonly plans?: readonly HistoryPlanGroup[];
}

/**
 * Bounds on a record's plan: the history file is read whole, and 100 nodes x 5,000 ports must not
 * make one line of it megabytes. planLines already shows at most 20 rules per chain; the rest is
 * cut here, and the cut is said in the last line kept.
 */
export interface HistoryPlanLimits {
  readonly groups: number;
  readonly linesPerGroup: number;
  readonly lineChars: number;
}
export const HISTORY_PLAN_LIMITS: HistoryPlanLimits = { groups: 50, linesPerGroup: 200, lineChars: 300 };

/** Nodes with the same plan grouped (input order), each group's diff bounded. */
export function historyPlans(
  plans: readonly (NodePlan | { readonly plan: NodePlan; readonly nft?: { readonly plan: NftNodePlan } })[],
  limits: HistoryPlanLimits = HISTORY_PLAN_LIMITS,
): HistoryPlanGroup[] {
  const groups = new Map<string, { nodes: string[]; diff: string[] }>();
  for (const x of plans) {
    // A change with an nft part (kube-proxy's nftables mode) keeps its nft edits too.
    const p = 'plan' in x ? x.plan : x;
    const diff = planLines(p, p.node, 'plan' in x ? x.nft?.plan : undefined).slice(1);
    const key = diff.map((l) => l.replace(`${p.node}: `, '')).join('\n');
    const g = groups.get(key);
    if (g) g.nodes.push(p.node);
    else groups.set(key, { nodes: [p.node], diff });
  }
  const all = [...groups.values()];
  const cut = (line: string) =>
    line.length > limits.lineChars ? `${line.slice(0, limits.lineChars - 1)}…` : line;
  const kept = all.slice(0, limits.groups).map((g) => ({
    nodes: g.nodes,
    diff:
      g.diff.length > limits.linesPerGroup
        ? [
            ...g.diff.slice(0, limits.linesPerGroup - 1).map(cut),
            `  ... and ${g.diff.length - limits.linesPerGroup + 1} more lines (not kept in the history)`,
          ]
        : g.diff.map(cut),
  }));
  const rest = all.slice(limits.groups);
  if (rest.length > 0)
    kept.push({
      nodes: rest.flatMap((g) => g.nodes),
      diff: [`  ${rest.length} more different plans (not kept in the history)`],
    });
  return kept;
}

export async function appendHistory(store: LocalStore, record: HistoryRecord): Promise<void> {
  await appendLine(store.historyFile, JSON.stringify(record));
}

export interface HistoryRead {
  readonly records: readonly HistoryRecord[];
  /** One line per line that is not a record: `history.jsonl line 7: ...`. */
  readonly problems: readonly string[];
}

export async function readHistory(store: LocalStore): Promise<HistoryRead> {
  let text: string;
  try {
    text = await readFile(store.historyFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], problems: [] };
    throw err;
  }
  const records: HistoryRecord[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const v = JSON.parse(line) as HistoryRecord;
      if (v && v.version === 1 && typeof v.time === 'string' && Array.isArray(v.nodes)) records.push(v);
      else problems.push(`${store.historyFile} line ${i + 1}: not a history record`);
    } catch {
      problems.push(`${store.historyFile} line ${i + 1}: not JSON (torn write?)`);
    }
  });
  return { records, problems };
}
