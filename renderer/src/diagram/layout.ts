// Step 2 of the diagram pipeline: positions for the graph's nodes. Per row (the NodePort's walk,
// the ClusterIP path): fans packed into boxes (compact.ts), elkjs's layered layout in a Web Worker
// (layout.worker.ts) or, if the worker cannot start or answer, the synchronous simple-layout.ts,
// then long rows wrapped (wrap.ts) and the fans unpacked. The diagram always shows.
import ElkConstructor, { type ELK, type ElkNode } from 'elkjs/lib/elk-api.js';
import { type CompactGraph, compactFans, expandFans } from './compact';
import { positionsFromElk, toElkGraph } from './elk-graph';
import type { GEdge, GNode, GRow, GraphModel } from './graph-types';
import { NODE_SIZE, type Point, type Positions, ROW_GAP, WRAP_WIDTH } from './layout-sizes';
import { simpleLayout } from './simple-layout';
import { wrapRows } from './wrap';

export interface LaidOutNode extends GNode {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface LaidOutEdge extends GEdge {
  /** A wrapped edge runs back to the next row's start through the gap at this y. */
  readonly wrapY?: number;
}

export interface LaidOutGraph {
  readonly nodes: readonly LaidOutNode[];
  readonly edges: readonly LaidOutEdge[];
  readonly width: number;
  readonly height: number;
  /** Which layout placed the nodes: elkjs, or the synchronous fallback. */
  readonly engine: 'elk' | 'fallback';
}

/** The part of the graph's structure that decides the layout; equal keys mean equal positions. */
export function layoutKey(graph: GraphModel): string {
  const n = graph.nodes.map((x) => `${x.id}:${x.kind}:${x.row}`).join(',');
  const e = graph.edges.map((x) => x.id).join(',');
  return `${n}|${e}`;
}

function rowsOf(graph: GraphModel): CompactGraph[] {
  const rows: GRow[] = ['nodeport', 'cluster-ip'];
  const rowOf = new Map(graph.nodes.map((n) => [n.id, n.row]));
  return rows
    .map((row) =>
      compactFans(
        graph.nodes.filter((n) => n.row === row),
        graph.edges.filter((e) => rowOf.get(e.source) === row && rowOf.get(e.target) === row),
      ),
    )
    .filter((c) => c.boxes.length > 0);
}

interface PlacedRow {
  readonly positions: ReadonlyMap<string, Point>;
  readonly wraps: ReadonlyMap<string, number>;
}

/** Wraps a laid-out row and unpacks its fans. */
function finishRow(compact: CompactGraph, boxes: Positions): PlacedRow {
  const wrapped = wrapRows(compact, boxes, WRAP_WIDTH);
  return { positions: expandFans(compact, wrapped.positions), wraps: wrapped.wraps };
}

/** Puts the rows one under the other, each starting at x = 0, and sizes the whole. */
export function placeRows(
  graph: GraphModel,
  rows: readonly PlacedRow[],
  engine: LaidOutGraph['engine'],
): LaidOutGraph {
  const kindOf = new Map(graph.nodes.map((n) => [n.id, n.kind]));
  const placed = new Map<string, Point>();
  const wrapYs = new Map<string, number>();
  let top = 0;
  let width = 0;
  for (const { positions, wraps } of rows) {
    let minX = Number.POSITIVE_INFINITY;
    let minY = Number.POSITIVE_INFINITY;
    let maxY = Number.NEGATIVE_INFINITY;
    for (const [id, p] of positions) {
      const size = NODE_SIZE[kindOf.get(id) ?? 'kube'];
      minX = Math.min(minX, p.x);
      minY = Math.min(minY, p.y);
      maxY = Math.max(maxY, p.y + size.height);
    }
    if (!Number.isFinite(minX)) continue;
    for (const [id, p] of positions) {
      const size = NODE_SIZE[kindOf.get(id) ?? 'kube'];
      const q = { x: Math.round(p.x - minX), y: Math.round(p.y - minY + top) };
      placed.set(id, q);
      width = Math.max(width, q.x + size.width);
    }
    for (const [id, y] of wraps) wrapYs.set(id, Math.round(y - minY + top));
    top += maxY - minY + ROW_GAP;
  }
  const nodes = graph.nodes.map(
    (n): LaidOutNode => ({ ...n, ...(placed.get(n.id) ?? { x: 0, y: 0 }), ...NODE_SIZE[n.kind] }),
  );
  const edges = graph.edges.map((e): LaidOutEdge => {
    const y = wrapYs.get(e.id);
    return y === undefined ? e : { ...e, wrapY: y };
  });
  return { nodes, edges, width, height: Math.max(0, Math.round(top - ROW_GAP)), engine };
}

export function fallbackLayout(graph: GraphModel): LaidOutGraph {
  return placeRows(
    graph,
    rowsOf(graph).map((c) => finishRow(c, simpleLayout(c))),
    'fallback',
  );
}

/** Anything that lays out an ELK graph: elk-api's ELK (in a worker), or elk.bundled.js in tests. */
export interface LayoutEngine {
  layout(graph: ElkNode): Promise<ElkNode>;
}

export interface LayoutOptions {
  readonly engine?: LayoutEngine;
  /** Past this, the fallback layout is used (a worker that never answers must not hide the diagram). */
  readonly timeoutMs?: number;
  readonly onFallback?: (reason: unknown) => void;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`layout took longer than ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Lays out the graph with elkjs, row by row; falls back to `fallbackLayout` on any failure. */
export async function layoutGraph(graph: GraphModel, options: LayoutOptions = {}): Promise<LaidOutGraph> {
  const engine = options.engine ?? workerEngine();
  if (!engine) {
    options.onFallback?.(new Error('no layout worker'));
    return fallbackLayout(graph);
  }
  try {
    const rows = rowsOf(graph);
    const results = await withTimeout(
      Promise.all(rows.map((c) => engine.layout(toElkGraph(c)))),
      options.timeoutMs ?? 10_000,
    );
    return placeRows(
      graph,
      results.map((r, i) => finishRow(rows[i]!, positionsFromElk(r))),
      'elk',
    );
  } catch (err) {
    options.onFallback?.(err);
    return fallbackLayout(graph);
  }
}

/** New data on an unchanged structure (counters moved, a trace was added): keep the positions. */
export function relabel(laid: LaidOutGraph, graph: GraphModel): LaidOutGraph {
  const at = new Map(laid.nodes.map((n) => [n.id, n]));
  const wrapY = new Map(laid.edges.map((e) => [e.id, e.wrapY]));
  return {
    ...laid,
    edges: graph.edges.map((e): LaidOutEdge => {
      const y = wrapY.get(e.id);
      return y === undefined ? e : { ...e, wrapY: y };
    }),
    nodes: graph.nodes.map((n): LaidOutNode => {
      const p = at.get(n.id);
      return { ...n, x: p?.x ?? 0, y: p?.y ?? 0, ...NODE_SIZE[n.kind] };
    }),
  };
}

/**
 * Starts the layout worker and runs one tiny layout, so that the first real layout does not pay
 * for loading elkjs (~1.4 MB) and its first, slow run. Harmless where there is no Worker.
 */
export function prewarmLayout(): void {
  const engine = workerEngine();
  if (!engine) return;
  const tiny: ElkNode = { id: 'warm', children: [{ id: 'a', width: 10, height: 10 }], edges: [] };
  engine.layout(tiny).catch(() => undefined);
}

// One worker for the whole renderer, started on first use; a worker that fails is not retried.
let shared: { elk: ELK; engine: LayoutEngine } | undefined;
let broken = false;

function workerEngine(): LayoutEngine | undefined {
  if (broken || typeof Worker === 'undefined') return undefined;
  if (shared) return shared.engine;
  try {
    let failure: ((err: unknown) => void) | undefined;
    const failed = new Promise<never>((_, reject) => {
      failure = reject;
    });
    failed.catch(() => undefined);
    const elk = new ElkConstructor({
      algorithms: ['layered'],
      workerFactory: () => {
        const worker = new Worker(new URL('./layout.worker.ts', import.meta.url), { type: 'module' });
        const fail = (ev: Event) => {
          broken = true;
          shared = undefined;
          worker.terminate();
          failure?.(new Error(`layout worker failed: ${ev instanceof ErrorEvent ? ev.message : ev.type}`));
        };
        worker.addEventListener('error', fail);
        worker.addEventListener('messageerror', fail);
        return worker;
      },
    });
    const engine: LayoutEngine = {
      layout: (g) => Promise.race([elk.layout(g), failed]),
    };
    shared = { elk, engine };
    return engine;
  } catch {
    broken = true;
    return undefined;
  }
}
