// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { buildGraph } from './graph-model';
import { fallbackLayout } from './layout';
import { overviewPaths } from './overview';
import { wideNodePort } from './samples';

describe('overviewPaths', () => {
  it('draws every node as a rectangle in one path per kind', () => {
    const laid = fallbackLayout(buildGraph(wideNodePort(100)));
    const paths = overviewPaths(laid.nodes);
    expect(paths.map((p) => p.kind).sort()).toEqual([...new Set(laid.nodes.map((n) => n.kind))].sort());
    const rects = paths.reduce((sum, p) => sum + (p.d.match(/M/g) ?? []).length, 0);
    expect(rects).toBe(laid.nodes.length);
    const ep = laid.nodes.find((n) => n.kind === 'endpoint')!;
    expect(paths.find((p) => p.kind === 'endpoint')!.d).toContain(
      `M${ep.x},${ep.y}h${ep.width}v${ep.height}h${-ep.width}z`,
    );
  });
});
