// The kube-proxy topology of one node's nat table: every NodePort with the walk a packet takes to
// reach it, its endpoints, and whatever stands in front of kube-proxy (our guard, foreign rules).
// Readonly data for the diagram, the CLI and the guard planner.
import type { Backend, Counters, Rule, Table } from '../netfilter/model';
import type { DumpProxyMode, Protocol } from '../vocabulary';
import type { StepKind } from './chain-kind';
import type { IpsetList } from './ipset-parse';
import type { IpvsTable } from './ipvs-parse';

export type { StepKind } from './chain-kind';

/** For building a readonly value field by field in hot paths (no conditional spreads). */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface TopologyInput {
  /** The parsed nat table; the only table a NodePort's DNAT path lives in. */
  readonly nat: Table;
  /** `ipset list` (ipvs mode: the NodePorts are set members). */
  readonly ipsets?: IpsetList;
  /** `ipvsadm -Ln` (ipvs mode: the endpoints). */
  readonly ipvs?: IpvsTable;
  /** KUBE-EXTERNAL-SERVICES: the REJECT/DROP of NodePorts without (local) endpoints. */
  readonly filter?: Table;
  /** KUBE-IPTABLES-HINT: which iptables backend kube-proxy itself uses. */
  readonly mangle?: Table;
  /** `Ruleset.backend` of the dump the tables came from (its header). */
  readonly backend?: Backend;
  /** `Ruleset.comments` of that dump (to notice "# Warning: iptables-legacy tables present"). */
  readonly headerComments?: readonly string[];
}

/** `ext`: kube-proxy >= 1.24 (KUBE-EXT-*); `legacy`: older (KUBE-XLB-*, KUBE-FW-*, MARK-MASQ in KUBE-NODEPORTS). */
export type LayoutGeneration = 'ext' | 'legacy' | 'unknown';

export interface BackendInfo {
  readonly backend: Backend;
  /**
   * `kube-iptables-hint`: mangle has kube-proxy's KUBE-IPTABLES-HINT chain, so kube-proxy writes to
   * this backend; `header`: only the dump's header says which tool printed it.
   */
  readonly source: 'kube-iptables-hint' | 'header' | 'none';
  /** The dump warns that the other backend has tables too: kube-proxy may live there. */
  readonly otherBackendPresent: boolean;
}

/** One stop of the walk. `via` is the rule that leads here (absent for the hook's own chain). */
export interface PathStep {
  readonly kind: StepKind;
  /** `ipvs` for the IPVS step, which is no netfilter chain. */
  readonly table: 'nat' | 'filter' | 'ipvs';
  /**
   * The chain entered. For a foreign rule that rewrites or ends the walk without entering a chain
   * (REDIRECT, DNAT, ACCEPT, RETURN in PREROUTING) it is the chain the rule stands in.
   */
  readonly chain: string;
  readonly via?: Rule;
  /** The counters of `via`, or of the chain's policy for a built-in chain. */
  readonly counters?: Counters;
  /**
   * nftables mode, where `via` stays undefined: the nft rule that leads here as nft prints it
   * (for a map lookup, followed by ` -> ` and the element it matched), or for a hook chain its
   * `type ... hook ... priority ...`.
   */
  readonly text?: string;
}

export interface Endpoint {
  /** `10.244.1.5:8080`, `[fd00::5]:8080`; the address alone when the DNAT keeps the port. */
  readonly endpoint: string;
  readonly address: string;
  readonly port?: number;
  /** Share of new connections that pick this endpoint (statistic chain, or IPVS weight share). */
  readonly probability: number;
  /** iptables mode: the KUBE-SEP chain; nftables mode: the `endpoint-…` chain. */
  readonly sepChain?: string;
  /** The service-chain rule that jumps to the endpoint (with its statistic match). */
  readonly via?: Rule;
  /** The DNAT rule in the KUBE-SEP chain. */
  readonly dnat?: Rule;
  /** ipvs mode. */
  readonly weight?: number;
}

/** How the NodePort's traffic meets KUBE-MARK-MASQ on its way. */
export type MasqueradeMode = 'always' | 'conditional' | 'never';

export interface GuardAllow {
  /** `-s` as written (`203.0.113.0/24`). */
  readonly source: string;
  readonly negated: boolean;
  /** The comment after `nodeport-guard: ` (e.g. `allow office`). */
  readonly label?: string;
  readonly rule: Rule;
}

export interface GuardBlock {
  readonly action: 'redirect' | 'drop' | 'other';
  readonly toPort?: number;
  readonly rule: Rule;
}

/** Our NPG- chain for one NodePort (DESIGN.md "The guard rules"). */
export interface PortGuard {
  readonly chain: string;
  /** The NPG-PREROUTING rule that sends this port's packets to `chain`. */
  readonly dispatch: Rule;
  readonly allow: readonly GuardAllow[];
  readonly block?: GuardBlock;
  /** True when the entry jump exists once and stands before kube-proxy's KUBE-SERVICES jump. */
  readonly effective: boolean;
}

export interface GuardEntry {
  readonly chain: string;
  /** PREROUTING rules that jump to the NPG entry chain, with their 1-based positions. */
  readonly jumps: readonly { readonly rule: Rule; readonly position: number }[];
  /** The first entry jump stands before kube-proxy's KUBE-SERVICES jump (or kube-proxy has none). */
  readonly beforeKubeServices: boolean;
}

export type ForeignEffect = 'redirect' | 'dnat' | 'accept' | 'drop' | 'return' | 'goto' | 'unknown';

/** A PREROUTING rule (not kube-proxy's, not ours) before kube-proxy's jump that can change a NodePort's fate. */
export interface ForeignRule {
  readonly rule: Rule;
  /** 1-based position in PREROUTING. */
  readonly position: number;
  readonly effect: ForeignEffect;
  /**
   * The rules that decide: the PREROUTING rule itself, or for a jump to a foreign chain the rules
   * in that chain (and chains it reaches) that rewrite or end the walk.
   */
  readonly decisive: readonly Rule[];
  /** It tests more than protocol and port (a source, an addrtype, a mark): it hits some packets only. */
  readonly conditional: boolean;
}

export interface ClusterIpPath {
  readonly address: string;
  readonly port?: number;
  /** nat OUTPUT -> KUBE-SERVICES -> KUBE-SVC-* (what node-local clients walk). */
  readonly path: readonly PathStep[];
}

export interface NodePort {
  readonly port: number;
  readonly protocol: Protocol;
  /** `namespace/name:port` from kube-proxy's comments; undefined for a dump without comments. */
  readonly service?: string;
  /** PREROUTING to the chain that picks the endpoint (KUBE-SVC/SVL/XLB, or IPVS), in walk order. */
  readonly path: readonly PathStep[];
  readonly externalTrafficPolicyLocal: boolean;
  /** Sorted by the endpoint string. */
  readonly endpoints: readonly Endpoint[];
  /** False when the endpoints cannot be known from the input (ipvs mode without ipvsadm output). */
  readonly endpointsKnown: boolean;
  /** External traffic to this port finds no endpoint (rejected, dropped, or an empty service chain). */
  readonly noEndpoints: boolean;
  /** The rule that turns such traffic away: filter KUBE-EXTERNAL-SERVICES REJECT/DROP, or a KUBE-MARK-DROP jump. */
  readonly noEndpointsRule?: Rule;
  readonly masquerade: MasqueradeMode;
  /** The service chain keeps clients on one endpoint (`-m recent`, sessionAffinity: ClientIP). */
  readonly sessionAffinity: boolean;
  readonly guard?: PortGuard;
  /** Foreign PREROUTING rules before kube-proxy's jump that may apply to this port. */
  readonly foreign: readonly ForeignRule[];
  readonly clusterIp?: ClusterIpPath;
  readonly notes: readonly string[];
}

export interface MasqueradeStep {
  /** nat POSTROUTING -> KUBE-POSTROUTING. */
  readonly path: readonly PathStep[];
  /** KUBE-MARK-MASQ's MARK rule and its `value/mask`. */
  readonly markRule?: Rule;
  readonly mark?: string;
  readonly masqueradeRule?: Rule;
}

export interface Topology {
  readonly mode: DumpProxyMode;
  readonly layout: LayoutGeneration;
  readonly backend: BackendInfo;
  /** Sorted by port, then protocol. */
  readonly nodePorts: readonly NodePort[];
  /** kube-proxy's `-j KUBE-SERVICES` in nat PREROUTING (1-based position). */
  readonly kubeServicesJump?: { readonly rule: Rule; readonly position: number };
  readonly guard?: GuardEntry;
  /** Every outcome-changing foreign PREROUTING rule before kube-proxy's jump. */
  readonly foreign: readonly ForeignRule[];
  readonly masquerade?: MasqueradeStep;
  readonly warnings: readonly string[];
}
