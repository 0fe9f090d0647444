// The verify grid (pure): nodes x guarded NodePorts, each cell its status and reasons.
import type { VerifyResponse } from '../../../shared/api';

export interface Grid {
  readonly ports: readonly string[];
  readonly rows: readonly {
    readonly node: string;
    readonly status: 'ok' | 'drift' | 'error';
    readonly reasons: readonly string[];
    readonly cells: readonly (
      | {
          readonly status: 'ok' | 'drift' | 'error';
          readonly reasons: readonly string[];
          readonly blocked?: number;
        }
      | undefined
    )[];
  }[];
}

export function verifyGrid(v: VerifyResponse): Grid {
  const ports = [...new Set(v.cells.map((c) => `${c.protocol}/${c.port}`))].sort((a, b) => {
    const pa = Number(a.split('/')[1]);
    const pb = Number(b.split('/')[1]);
    return pa - pb || a.localeCompare(b);
  });
  const byKey = new Map(v.cells.map((c) => [`${c.node} ${c.protocol}/${c.port}`, c]));
  return {
    ports,
    rows: v.nodes.map((n) => ({
      node: n.node,
      status: n.status,
      reasons: n.reasons,
      cells: ports.map((p) => byKey.get(`${n.node} ${p}`)),
    })),
  };
}
