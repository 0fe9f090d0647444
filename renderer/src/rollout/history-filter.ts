// The history's filter (pure): every word typed must occur somewhere in the entry: its time, op,
// outcome, operator, nodes and their status, or its plan (chain names carry the port:
// NPG-TCP-30001), so "node2 30001" finds the changes to that port on that node.
import type { HistoryEntryView } from '../../../shared/api';

export function entryText(e: HistoryEntryView): string {
  return [
    e.time,
    e.op,
    e.outcome ?? '',
    e.operator ?? '',
    ...e.nodes.map((n) => `${n.node} ${n.status}`),
    ...(e.plans ?? []).flatMap((g) => [...g.nodes, ...g.diff]),
    e.plan ?? '',
  ]
    .join('\n')
    .toLowerCase();
}

export function filterHistory(entries: readonly HistoryEntryView[], query: string): HistoryEntryView[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...entries];
  return entries.filter((e) => {
    const text = entryText(e);
    return words.every((w) => text.includes(w));
  });
}

/** "2 nodes, 5 changes" for the toggle that opens an entry's plan. */
export function planSummary(e: HistoryEntryView): string | undefined {
  if (!e.plans) return undefined;
  const changes = e.plans.reduce((n, g) => n + g.diff.filter((l) => /^\s+IPv[46] [+~>-]/.test(l)).length, 0);
  const nodes = e.plans.reduce((n, g) => n + g.nodes.length, 0);
  return `${nodes} node${nodes === 1 ? '' : 's'}, ${changes} change${changes === 1 ? '' : 's'}`;
}
