import { describe, expect, it } from 'vitest';
import { parseWorkspace } from './codec';
import { inventorySshPorts, nodePortRangeOf } from './ports';

const ws = (cluster: string) =>
  `version: 1\ninventory:\n  defaults:\n    port: 2222\n  nodes:\n    - name: n1\n      host: 198.18.0.11\n    - name: n2\n      host: 198.18.0.12\n      port: 22\n${cluster}`;

describe('ports the workspace tells about', () => {
  it('cluster.nodePortRange: FROM-TO, checked; absent means the default', () => {
    const r = parseWorkspace(ws('cluster:\n  nodePortRange: 20000-22767\n'));
    if (!r.ok) throw new Error(r.error);
    expect(nodePortRangeOf(r.workspace.cluster)).toEqual({ from: 20000, to: 22767 });
    expect(inventorySshPorts(r.workspace.inventory)).toEqual([
      { node: 'n1', port: 2222 },
      { node: 'n2', port: 22 },
    ]);
    const none = parseWorkspace(ws(''));
    expect(none.ok && nodePortRangeOf(none.workspace.cluster)).toBeUndefined();
    for (const bad of ['32767-30000', '30000', '0-100', '30000-70000', '"30000-32767;x"']) {
      const b = parseWorkspace(ws(`cluster:\n  nodePortRange: ${bad}\n`));
      expect(b.ok, bad).toBe(false);
      expect(!b.ok && b.error).toMatch(/cluster\.nodePortRange/);
    }
  });
});
