import { describe, expect, it } from 'vitest';
import type { HistoryEntryView } from '../../../shared/api';
import { filterHistory, planSummary } from './history-filter';

const withPlan: HistoryEntryView = {
  time: '2026-11-27T10:00:00.000Z',
  op: 'apply',
  operator: 'alice@laptop',
  outcome: 'ok',
  token: 'a',
  nodes: [
    { node: 'node1', status: 'applied' },
    { node: 'node2', status: 'applied' },
  ],
  plan: 'hash-a',
  plans: [
    {
      nodes: ['node1', 'node2'],
      diff: [
        '  IPv4 + chain NPG-TCP-30001 (2 rules)',
        '      + -A NPG-TCP-30001 -s 198.18.100.10/31 -j RETURN',
        "  IPv4 + entry jump at PREROUTING 1, before kube-proxy's KUBE-SERVICES jump",
      ],
    },
  ],
};
const old: HistoryEntryView = {
  time: '2026-11-01T10:00:00.000Z',
  op: 'rollback',
  operator: 'bob',
  outcome: 'ok',
  token: 'b',
  nodes: [{ node: 'node3', status: 'applied' }],
  plan: 'hash-b',
};

describe('filterHistory', () => {
  it('finds entries by node, port (in the plan), op and any words together', () => {
    const all = [withPlan, old];
    expect(filterHistory(all, '')).toEqual(all);
    expect(filterHistory(all, 'node3')).toEqual([old]);
    expect(filterHistory(all, '30001')).toEqual([withPlan]);
    expect(filterHistory(all, 'ROLLBACK')).toEqual([old]);
    expect(filterHistory(all, 'node2  198.18.100.10')).toEqual([withPlan]);
    expect(filterHistory(all, 'node3 30001')).toEqual([]);
  });
});

describe('planSummary', () => {
  it('counts nodes and edits; an entry from before plans were kept has none', () => {
    expect(planSummary(withPlan)).toBe('2 nodes, 2 changes');
    expect(planSummary(old)).toBeUndefined();
  });
});
