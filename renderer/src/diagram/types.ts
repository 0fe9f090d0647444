// What the diagram takes: the API's NodePort view as it is, and a traced packet. Nothing here
// knows React, React Flow or elkjs.

import type {
  EndpointView,
  ForeignRuleView,
  GuardView,
  NodePortView,
  PathStepView,
  TraceHopView,
  TraceOutcomeView,
} from '../../../shared/api';

/**
 * One chain a NodePort's packet enters, in walk order. `kind` is the chain's role: 'PREROUTING' |
 * 'OUTPUT' | 'NPG' | 'KUBE-SERVICES' | 'KUBE-NODEPORTS' | 'KUBE-NODE-PORT' | 'KUBE-EXT' | 'KUBE-SVC'
 * | 'KUBE-SVL' | 'KUBE-XLB' | 'KUBE-FW' | 'KUBE-SEP' | 'KUBE-MARK-MASQ' | 'KUBE-MARK-DROP' | 'IPVS'
 * | 'foreign' | anything else (drawn as a plain chain).
 */
export type DiagramStep = PathStepView;
/** An endpoint with its share of new connections (0..1) and, in iptables mode, its KUBE-SEP chain. */
export type DiagramEndpoint = EndpointView;
export type DiagramAllowEntry = GuardView['allow'][number];
/** Our guard chain; `effective` is false when packets do not reach it before kube-proxy. */
export type DiagramGuard = GuardView;
export type DiagramForeignRule = ForeignRuleView;
export type DiagramClusterIp = NonNullable<NodePortView['clusterIp']>;
/** The API's NodePort view is the diagram's input as it is; its notes are shown elsewhere. */
export type DiagramNodePort = Omit<NodePortView, 'notes'>;

export type DiagramVerdict = TraceOutcomeView['verdict'];

/** One rule a traced packet matched: its chain, its iptables-save text, its line. */
export type DiagramTraceHop = TraceHopView;

export interface DiagramTrace {
  readonly verdict: DiagramVerdict;
  readonly detail: string;
  readonly hops: readonly DiagramTraceHop[];
  /** The endpoint the packet was rewritten to (`dnat`). */
  readonly endpoint?: string;
}
