// The diagram's graph in our own types: what buildGraph makes and layout, compaction, the trace
// light and the screen-reader description read.
import type { DiagramTrace } from './types';

export type GNodeKind =
  | 'hook'
  | 'kube'
  | 'guard'
  | 'foreign'
  | 'sep'
  | 'endpoint'
  | 'blackhole'
  | 'ipvs'
  | 'reject';
export type GEdgeKind = 'normal' | 'block' | 'foreign';
export type GRow = 'nodeport' | 'cluster-ip';

export interface GBadge {
  readonly text: string;
  readonly tone: 'info' | 'warn' | 'bad';
  /** Said in full to screen readers and shown as a tooltip. */
  readonly title: string;
}

export interface GCounters {
  readonly packets: number;
  readonly bytes?: number;
}

export interface GNode {
  readonly id: string;
  readonly kind: GNodeKind;
  readonly row: GRow;
  /** The netfilter chain this node is, when it is one: what a click opens. */
  readonly chain?: string;
  /** Main text: a chain name, an address, a verdict. */
  readonly label: string;
  /** What the node is, in words: "service chain", "pod endpoint". */
  readonly role: string;
  /** A second line: a rule, a share, an address. */
  readonly sublabel?: string;
  /** Full text behind the sublabel (the rule that leads here), for a tooltip. */
  readonly detail?: string;
  readonly counters?: GCounters;
  readonly badges: readonly GBadge[];
  /** On the traced packet's way. */
  readonly lit: boolean;
  /** A trace is shown and the packet does not come here. */
  readonly dimmed: boolean;
}

export interface GEdge {
  readonly id: string;
  readonly source: string;
  readonly target: string;
  readonly kind: GEdgeKind;
  /** "33.3% · 1.2k pkts", "block: all but 2 allowed". */
  readonly label?: string;
  readonly lit: boolean;
  readonly dimmed: boolean;
}

export interface GraphModel {
  readonly nodes: readonly GNode[];
  readonly edges: readonly GEdge[];
}

export interface GraphOptions {
  readonly trace?: DiagramTrace;
  readonly showClusterIp?: boolean;
}
