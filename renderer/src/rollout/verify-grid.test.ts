import { describe, expect, it } from 'vitest';
import { verifyGrid } from './verify-grid';

describe('verifyGrid', () => {
  it('lays cells out as nodes x ports, ports in numeric order, missing cells empty', () => {
    const g = verifyGrid({
      status: 'drift',
      cells: [
        { node: 'n1', port: 30002, protocol: 'tcp', status: 'ok', reasons: [] },
        { node: 'n1', port: 9000, protocol: 'tcp', status: 'ok', reasons: [] },
        {
          node: 'n2',
          port: 30002,
          protocol: 'tcp',
          status: 'drift',
          reasons: ['n2: tcp/30002: rule missing'],
        },
      ],
      nodes: [
        { node: 'n1', status: 'ok', reasons: [] },
        { node: 'n2', status: 'drift', reasons: [] },
      ],
      probes: [],
      at: '2026-12-07T00:00:00Z',
      exitCode: 1,
    });
    expect(g.ports).toEqual(['tcp/9000', 'tcp/30002']);
    expect(g.rows.map((r) => r.cells.map((c) => c?.status ?? '-'))).toEqual([
      ['ok', 'ok'],
      ['-', 'drift'],
    ]);
  });
});
