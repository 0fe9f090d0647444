// What the diagram takes: plain data mirroring the engine's NodePort view. The caller maps the
// API's types onto these; nothing here knows React, React Flow or elkjs.

/** One chain a NodePort's packet enters, in walk order. */
export interface DiagramStep {
  readonly chain: string;
  /**
   * The chain's role: 'PREROUTING' | 'OUTPUT' | 'NPG' | 'KUBE-SERVICES' | 'KUBE-NODEPORTS' |
   * 'KUBE-NODE-PORT' | 'KUBE-EXT' | 'KUBE-SVC' | 'KUBE-SVL' | 'KUBE-XLB' | 'KUBE-FW' | 'KUBE-SEP' |
   * 'KUBE-MARK-MASQ' | 'KUBE-MARK-DROP' | 'IPVS' | 'foreign' | anything else (drawn as a plain chain).
   */
  readonly kind: string;
  /** The rule that leads here, as iptables-save text. */
  readonly via?: string;
  readonly packets?: number;
  readonly bytes?: number;
}

export interface DiagramEndpoint {
  /** `10.244.1.5:8080`, `[2001:db8::a]:8080`. */
  readonly address: string;
  /** Share of new connections, 0..1. */
  readonly probability: number;
  /** KUBE-SEP-XXXX (iptables mode); absent in ipvs mode. */
  readonly chain?: string;
  readonly packets?: number;
  readonly bytes?: number;
}

export interface DiagramAllowEntry {
  readonly source: string;
  readonly label?: string;
}

export interface DiagramGuard {
  readonly chain: string;
  readonly allow: readonly DiagramAllowEntry[];
  readonly blockToPort?: number;
  /** False when the guard exists but packets do not reach it before kube-proxy. */
  readonly effective: boolean;
}

export interface DiagramForeignRule {
  readonly position: number;
  readonly effect: string;
  readonly rule: string;
}

export interface DiagramClusterIp {
  readonly address: string;
  readonly port?: number;
  readonly path: readonly DiagramStep[];
}

export interface DiagramNodePort {
  readonly port: number;
  readonly protocol: string;
  readonly service?: string;
  readonly path: readonly DiagramStep[];
  readonly endpoints: readonly DiagramEndpoint[];
  readonly noEndpoints: boolean;
  readonly localOnly: boolean;
  readonly guarded: boolean;
  readonly guard?: DiagramGuard;
  readonly foreign: readonly DiagramForeignRule[];
  readonly masquerade: 'always' | 'conditional' | 'never';
  readonly clusterIp?: DiagramClusterIp;
}

export type DiagramVerdict = 'dnat' | 'redirect' | 'accept' | 'drop' | 'unknown' | 'unchanged';

export interface DiagramTraceHop {
  /** The chain the matching rule lives in. */
  readonly chain: string;
  /** The rule that matched, as iptables-save text. */
  readonly rule: string;
  readonly line?: number;
}

export interface DiagramTrace {
  readonly verdict: DiagramVerdict;
  readonly detail: string;
  readonly hops: readonly DiagramTraceHop[];
  /** The endpoint the packet was rewritten to (`dnat`). */
  readonly endpoint?: string;
}
