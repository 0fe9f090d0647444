// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { edgeLayer } from './edge-layer';
import { stepEdge } from './edge-path';
import { buildGraph } from './graph-model';
import { fallbackLayout } from './layout';
import { dnatTrace, guardedNodePort, wideNodePort } from './samples';

describe('edgeLayer', () => {
  it('draws a 100-endpoint fan as a few paths, with every edge in them and every label', () => {
    const laid = fallbackLayout(buildGraph(wideNodePort(100)));
    const layer = edgeLayer(laid);
    expect(layer.strokes.length).toBeLessThanOrEqual(3);
    const moves = layer.strokes.reduce((sum, s) => sum + (s.line.match(/M/g) ?? []).length, 0);
    expect(moves).toBe(laid.edges.length);
    const arrows = layer.strokes.reduce((sum, s) => sum + (s.arrow.match(/Z/g) ?? []).length, 0);
    expect(arrows).toBe(laid.edges.length);
    expect(layer.labels.map((l) => l.text)).toEqual(laid.edges.flatMap((e) => (e.label ? [e.label] : [])));
    expect(layer.labels.filter((l) => l.text.startsWith('1% '))).toHaveLength(100);
  });

  it("runs each edge from its source's right middle to its target's left middle", () => {
    const laid = fallbackLayout(buildGraph(guardedNodePort(2)));
    const e = laid.edges.find((x) => x.kind === 'block')!;
    const s = laid.nodes.find((n) => n.id === e.source)!;
    const t = laid.nodes.find((n) => n.id === e.target)!;
    const g = stepEdge(s.x + s.width, s.y + s.height / 2, t.x, t.y + t.height / 2, { labelAtTrunk: true });
    const block = edgeLayer(laid).strokes.find((x) => x.className.includes('dg-edge--block'))!;
    expect(block.line).toBe(g.path);
    expect(block.arrow).toBe(g.arrow);
    const label = edgeLayer(laid).labels.find((l) => l.id === e.id)!;
    expect(label.className).toBe('dg-edge-label dg-edge--block');
    expect(label.transform).toBe(`translate(-100%, -50%) translate(${g.labelX}px, ${g.labelY}px)`);
  });

  it('keeps a trace readable: dimmed edges drawn first, lit ones last, each look with its classes', () => {
    const np = guardedNodePort(3);
    const laid = fallbackLayout(buildGraph(np, { trace: dnatTrace(np, 1) }));
    const classes = edgeLayer(laid).strokes.map((s) => s.className);
    expect(classes[0]).toContain('is-dimmed');
    expect(classes.at(-1)).toContain('is-lit');
    expect(new Set(classes).size).toBe(classes.length);
  });
});
