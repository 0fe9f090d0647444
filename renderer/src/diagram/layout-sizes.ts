// Fixed sizes and gaps of the diagram: node sizes per kind, so that the layout never depends on
// measuring text and is the same for the same graph.
import type { GNodeKind } from './graph-types';

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** Fixed per kind, so that the layout never depends on measuring text. */
export const NODE_SIZE: Readonly<Record<GNodeKind, Size>> = {
  hook: { width: 150, height: 60 },
  kube: { width: 210, height: 60 },
  guard: { width: 200, height: 76 },
  foreign: { width: 230, height: 88 },
  sep: { width: 200, height: 44 },
  endpoint: { width: 180, height: 44 },
  blackhole: { width: 160, height: 52 },
  ipvs: { width: 150, height: 60 },
  reject: { width: 240, height: 44 },
};

/** Between layers: room for a short edge label ("48k pkts"). */
export const LAYER_GAP = 72;
export const NODE_GAP = 12;
/** Between the NodePort rows and the ClusterIP row, and between wrapped rows. */
export const ROW_GAP = 48;
/** A row of chains wider than this wraps (at a single edge), as the walk reads left to right. */
export const WRAP_WIDTH = 1400;
/** In a fan, in front of the KUBE-SEPs: room for "33.3% · 1.2k pkts". */
export const FAN_LABEL_SPACE = 104;
/** In a fan, between the KUBE-SEP and the endpoint columns (no label there). */
export const FAN_COLUMN_GAP = 40;

export type Point = { readonly x: number; readonly y: number };
export type Positions = ReadonlyMap<string, Point>;
