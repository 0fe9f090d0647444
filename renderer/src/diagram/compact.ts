// Before layout, each fan (a chain's KUBE-SEPs and endpoints) becomes one box; after, the box is
// unpacked into its rows. See compactFans.
import type { GEdge, GNode } from './graph-types';
import {
  FAN_COLUMN_GAP,
  FAN_LABEL_SPACE,
  NODE_GAP,
  NODE_SIZE,
  type Point,
  type Positions,
} from './layout-sizes';

/** A rectangle the layered layout places: one node, or a whole fan of endpoints. */
export interface Box {
  readonly id: string;
  readonly width: number;
  readonly height: number;
  /** Where edges enter on the left, from the top; absent: anywhere. */
  readonly anchorY?: number;
}

export interface Link {
  readonly id: string;
  readonly source: string;
  readonly target: string;
  /** Part of the packet's main way: kept straight before side branches (the block edge). */
  readonly straight: boolean;
}

/** A chain's fan-out to its endpoints: one row per endpoint, [KUBE-SEP, endpoint] or [endpoint]. */
export interface Fan {
  readonly id: string;
  readonly rows: readonly (readonly [string | undefined, string | undefined])[];
  readonly sepWidth: number;
}

export interface CompactGraph {
  readonly boxes: readonly Box[];
  readonly links: readonly Link[];
  readonly fans: readonly Fan[];
}

const FAN_ROW_HEIGHT = Math.max(NODE_SIZE.sep.height, NODE_SIZE.endpoint.height);
/** A fan of at most this many rows is centred on its chain; a longer one hangs from it. */
const CENTRED_FAN_ROWS = 8;

/**
 * Replaces each fan (a chain's KUBE-SEPs and endpoints) with one box. A fan is an ordered list:
 * stacking it is the best layout there is, and it keeps elkjs's work independent of the endpoint
 * count (elkjs takes seconds on a 500-endpoint fan, this takes microseconds).
 */
export function compactFans(nodes: readonly GNode[], edges: readonly GEdge[]): CompactGraph {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const outOf = new Map<string, string[]>();
  for (const e of edges) outOf.set(e.source, [...(outOf.get(e.source) ?? []), e.target]);
  const inFan = new Map<string, string>();
  const fans: Fan[] = [];
  for (const n of nodes) {
    if (n.kind === 'sep' || n.kind === 'endpoint') continue;
    const members = (outOf.get(n.id) ?? []).filter((t) => {
      const k = byId.get(t)?.kind;
      return (k === 'sep' || k === 'endpoint') && !inFan.has(t);
    });
    if (members.length === 0) continue;
    const fanId = `fan:${n.id}`;
    const rows = members.map((m): readonly [string | undefined, string | undefined] => {
      if (byId.get(m)?.kind === 'endpoint') return [undefined, m];
      const child = (outOf.get(m) ?? []).find((t) => byId.get(t)?.kind === 'endpoint');
      return [m, child];
    });
    for (const [sep, end] of rows) {
      if (sep) inFan.set(sep, fanId);
      if (end) inFan.set(end, fanId);
    }
    fans.push({ id: fanId, rows, sepWidth: rows.some((r) => r[0]) ? NODE_SIZE.sep.width : 0 });
  }
  const boxes: Box[] = nodes.filter((n) => !inFan.has(n.id)).map((n) => ({ id: n.id, ...NODE_SIZE[n.kind] }));
  for (const f of fans) {
    const height = f.rows.length * FAN_ROW_HEIGHT + (f.rows.length - 1) * NODE_GAP;
    boxes.push({
      id: f.id,
      width: FAN_LABEL_SPACE + (f.sepWidth ? f.sepWidth + FAN_COLUMN_GAP : 0) + NODE_SIZE.endpoint.width,
      height,
      anchorY: f.rows.length <= CENTRED_FAN_ROWS ? height / 2 : FAN_ROW_HEIGHT / 2,
    });
  }
  const links: Link[] = [];
  const seen = new Set<string>();
  for (const e of edges) {
    const source = inFan.get(e.source) ?? e.source;
    const target = inFan.get(e.target) ?? e.target;
    const id = `${source}->${target}`;
    if (source === target || seen.has(id)) continue;
    seen.add(id);
    links.push({ id, source, target, straight: e.kind !== 'block' });
  }
  return { boxes, links, fans };
}

/** Positions of every node, from the positions of the boxes. */
export function expandFans(compact: CompactGraph, boxes: Positions): Map<string, Point> {
  const out = new Map<string, Point>();
  for (const b of compact.boxes) {
    const p = boxes.get(b.id);
    if (p) out.set(b.id, p);
  }
  for (const f of compact.fans) {
    const p = boxes.get(f.id) ?? { x: 0, y: 0 };
    const sepX = p.x + FAN_LABEL_SPACE;
    const endX = sepX + (f.sepWidth ? f.sepWidth + FAN_COLUMN_GAP : 0);
    f.rows.forEach(([sep, end], i) => {
      const y = p.y + i * (FAN_ROW_HEIGHT + NODE_GAP);
      if (sep) out.set(sep, { x: sepX, y });
      if (end) out.set(end, { x: endX, y });
    });
  }
  return out;
}
