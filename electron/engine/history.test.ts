import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NodePlan } from '../../shared/guard/plan.js';
import { appendHistory, type HistoryRecord, historyPlans, readHistory } from './history.js';
import type { LocalStore } from './local-store.js';
import { planLines } from './plan-text.js';

/** A plan as planLines reads it: what the planner gives, reduced to the fields the text uses. */
const plan = (node: string, chain: string, rules: number, warnings: string[] = []): NodePlan =>
  ({
    node,
    noop: false,
    families: [{ family: 'ipv4', noop: false, edits: [{}] }],
    edits: [
      {
        kind: 'chain-create',
        family: 'ipv4',
        chain,
        rules: Array.from({ length: rules }, (_, i) => ({
          chain,
          matches: [],
          source: { value: `198.18.100.${i}/32`, negated: false },
          target: { kind: 'jump', name: 'RETURN', options: [] },
        })),
      },
    ],
    warnings: warnings.map((message) => ({ message })),
    errors: [],
  }) as unknown as NodePlan;

describe('historyPlans', () => {
  it('keeps the lines the plan tab shows, nodes with the same plan once', () => {
    const plans = [
      plan('node1', 'NPG-TCP-30001', 2),
      plan('node2', 'NPG-TCP-30001', 2),
      plan('node3', 'NPG-TCP-30002', 1),
    ];
    const kept = historyPlans(plans);
    expect(kept.map((g) => g.nodes)).toEqual([['node1', 'node2'], ['node3']]);
    expect(kept[0]?.diff).toEqual(planLines(plans[0]!).slice(1));
    expect(kept[0]?.diff.join('\n')).toContain('+ chain NPG-TCP-30001 (2 rules)');
  });

  it('is bounded: lines cut, long diffs and many plans said, not kept', () => {
    const limits = { groups: 2, linesPerGroup: 5, lineChars: 40 } as const;
    const plans = [
      plan('node1', 'NPG-TCP-30001', 15),
      plan('node2', 'NPG-TCP-30002', 1),
      plan('node3', 'NPG-TCP-30003', 1),
      plan('node4', 'NPG-TCP-30004', 1),
    ];
    const kept = historyPlans(plans, limits);
    expect(kept).toHaveLength(3);
    expect(kept[0]?.diff).toHaveLength(5);
    expect(kept[0]?.diff[4]).toBe('  ... and 12 more lines (not kept in the history)');
    for (const l of kept.flatMap((g) => g.diff)) expect(l.length).toBeLessThanOrEqual(50);
    expect(kept[2]).toEqual({
      nodes: ['node3', 'node4'],
      diff: ['  2 more different plans (not kept in the history)'],
    });
  });
});

describe('the history file', () => {
  it('reads old records without plans next to new ones with plans', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'npg-history-'));
    try {
      const store: LocalStore = { dir, historyFile: join(dir, 'history.jsonl') };
      const old = {
        version: 1,
        time: '2026-11-01T10:00:00.000Z',
        operator: 'me',
        op: 'apply',
        workspace: 'w.yaml',
        token: '0123456789abcdef',
        planHash: 'abc',
        outcome: 'ok',
        nodes: [{ node: 'node1', status: 'applied' }],
      } satisfies HistoryRecord;
      await writeFile(store.historyFile, `${JSON.stringify(old)}\n`);
      await appendHistory(store, {
        ...old,
        token: 'fedcba9876543210',
        plans: historyPlans([plan('node1', 'NPG-TCP-30001', 1)]),
      });
      const read = await readHistory(store);
      expect(read.problems).toEqual([]);
      expect(read.records[0]?.plans).toBeUndefined();
      expect(read.records[0]?.planHash).toBe('abc');
      expect(read.records[1]?.plans?.[0]?.diff.join('\n')).toContain('NPG-TCP-30001');
      expect((await readFile(store.historyFile, 'utf8')).split('\n').filter(Boolean)).toHaveLength(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
