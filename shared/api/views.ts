// What the engine answers: plain, readonly, JSON-safe data the UI draws. Rules travel as
// iptables-save text so the renderer never needs the netfilter model; node-sourced text is shown
// inert by the renderer (React escapes it; nothing is ever parsed as markup).
import type { Family, GuardBackend, Protocol } from '../vocabulary';

export type GuardModeView = 'enforce' | 'audit';

export interface EndpointView {
  readonly address: string;
  readonly probability: number;
  readonly chain?: string;
  /** Counters of the rule that picks this endpoint (the service chain's jump), when known. */
  readonly packets?: number;
  readonly bytes?: number;
}

export interface PathStepView {
  readonly chain: string;
  readonly kind: string;
  /** The rule that leads here, as an iptables-save line. */
  readonly via?: string;
  readonly packets?: number;
  readonly bytes?: number;
}

export interface GuardView {
  readonly chain: string;
  readonly allow: readonly { readonly source: string; readonly label?: string }[];
  readonly blockToPort?: number;
  readonly effective: boolean;
}

export interface ForeignRuleView {
  readonly position: number;
  readonly effect: string;
  readonly rule: string;
}

export interface NodePortView {
  readonly port: number;
  readonly protocol: string;
  readonly service?: string;
  readonly endpoints: readonly EndpointView[];
  readonly path: readonly PathStepView[];
  readonly noEndpoints: boolean;
  readonly localOnly: boolean;
  readonly guarded: boolean;
  readonly guard?: GuardView;
  readonly foreign: readonly ForeignRuleView[];
  readonly masquerade: 'always' | 'conditional' | 'never';
  readonly clusterIp?: {
    readonly address: string;
    readonly port?: number;
    readonly path: readonly PathStepView[];
  };
  readonly notes: readonly string[];
}

/** A NodePort's counters read now, on the path of the last full read (the diagram's live refresh). */
export interface NodePortCountersView {
  readonly view: NodePortView;
  /** When the nodes answered (ISO 8601). */
  readonly readAt: string;
  /** One line per node that could not be read now; the sum leaves them out. */
  readonly failed: readonly string[];
}

/** One row of a NodePort list: enough to find and judge it; its path comes on demand. */
export interface NodePortSummaryView {
  readonly port: number;
  readonly protocol: string;
  readonly service?: string;
  /** Endpoint addresses (`ip:port`), for the list's filter and count. */
  readonly endpoints: readonly string[];
  readonly noEndpoints: boolean;
  readonly localOnly: boolean;
  readonly guarded: boolean;
}

export interface InspectResponse {
  /** The engine keeps the dump; paths, traces and chain reads name it instead of sending it again. */
  readonly dumpId: string;
  readonly mode: string;
  readonly layout: string;
  readonly backend: string;
  /** The list only: a 5,000-service node's full paths are ~10 MB, one NodePort's a few KB. */
  readonly nodePorts: readonly NodePortSummaryView[];
  readonly warnings: readonly string[];
}

export interface TraceHopView {
  readonly chain: string;
  readonly rule: string;
  readonly line?: number;
}

export interface TraceOutcomeView {
  readonly verdict: 'dnat' | 'redirect' | 'accept' | 'drop' | 'unknown' | 'unchanged';
  readonly probability: number;
  readonly detail: string;
  readonly hops: readonly TraceHopView[];
}

export interface TraceResponse {
  readonly outcomes: readonly TraceOutcomeView[];
}

/** One chain's rules, numbered as `iptables -L --line-numbers` numbers them. */
export interface ChainRulesView {
  readonly chain: string;
  readonly family: Family;
  readonly rules: readonly {
    readonly number: number;
    readonly text: string;
    readonly packets?: number;
    readonly bytes?: number;
  }[];
}

// ---- the workspace -------------------------------------------------------------------------

export interface AllowEntryView {
  readonly cidr: string;
  readonly label?: string;
}

export interface NodePortPolicyView {
  readonly port: number;
  readonly protocol: Protocol;
  readonly mode: GuardModeView;
  readonly blackholePort: number;
  readonly service?: string;
  readonly allow: readonly AllowEntryView[];
}

export interface AddressGroupView {
  readonly name: string;
  readonly entries: readonly AllowEntryView[];
}

export interface InventoryNodeView {
  readonly name: string;
  readonly host: string;
  readonly port?: number;
  readonly user?: string;
  readonly proxyJump?: readonly string[];
}

export interface WorkspaceView {
  readonly path: string;
  readonly name: string;
  readonly nodes: readonly InventoryNodeView[];
  readonly policy: readonly NodePortPolicyView[];
  /** policy.guardBackend: the guard on iptables- and ipvs-mode nodes (nftables mode takes nft). */
  readonly guardBackend: GuardBackend;
  /** Nodes guarded even where their dataplane may bypass netfilter (cluster.guardAnyway). */
  readonly guardAnyway: readonly string[];
  readonly groups: readonly AddressGroupView[];
  readonly podCidrs: readonly string[];
  readonly healthCheckRanges: readonly string[];
}

export interface RecentWorkspaceView {
  readonly path: string;
  readonly openedAt: string;
}

// ---- nodes and the cluster -----------------------------------------------------------------

export type NodeState = 'connecting' | 'reading' | 'ok' | 'failed';

export interface NodeSummaryView {
  readonly node: string;
  readonly mode: string;
  readonly backend: string;
  readonly families: readonly string[];
  readonly nodePorts: number;
  readonly guard: 'none' | 'healthy' | 'unhealthy';
  readonly guardChains: number;
  /** Which guard the node takes (the nft one: kube-proxy's nftables mode, or the workspace's choice). */
  readonly guardBackend?: GuardBackend;
  /** Where a netfilter guard may not see the NodePorts (Cilium, Calico eBPF, kube-router): why. */
  readonly dataplane?: { readonly guardable: 'no' | 'unsure'; readonly sentence: string };
  readonly pending?: string;
  readonly addresses: readonly string[];
  readonly warnings: readonly string[];
}

export interface NodeStatusView {
  readonly node: string;
  readonly state: NodeState;
  readonly summary?: NodeSummaryView;
  /** One line naming the node and the cause. */
  readonly error?: string;
  /** `host-key-changed` is a refusal the UI shows in red with where the old key is recorded. */
  readonly errorKind?: string;
  readonly durationMs?: number;
}

export interface ClusterNodePortView {
  readonly port: number;
  readonly protocol: string;
  readonly service?: string;
  readonly nodes: readonly string[];
  readonly endpoints: readonly string[];
  readonly local: boolean;
  readonly guardedOn: readonly string[];
  readonly ipv6On: readonly string[];
  /** The workspace's policy for this port, if any. */
  readonly policy?: GuardModeView;
  /** Nodes whose kube-proxy rules for this port differ from the majority. */
  readonly differsOn: readonly string[];
}

export interface DiscoverResponse {
  readonly nodes: readonly NodeStatusView[];
  readonly nodePorts: readonly ClusterNodePortView[];
  readonly differing: readonly { readonly node: string; readonly differences: readonly string[] }[];
  readonly readAt: string;
}

export interface HostKeyPromptView {
  readonly requestId: string;
  readonly node: string;
  readonly host: string;
  readonly port: number;
  readonly role: 'node' | 'jump-host';
  readonly fingerprint: string;
  readonly keyType: string;
}

/**
 * An encrypted key's passphrase or a node's password, asked of the person at the window. The
 * answer goes to the engine and never comes back; a remembered one is stored by the Electron main
 * process (OS keychain) and answered there, without reaching the page.
 */
export interface CredentialPromptView {
  readonly requestId: string;
  /** Absent for a key's passphrase: one key may serve every node. */
  readonly node?: string;
  readonly kind: 'passphrase' | 'password';
  readonly subject: string;
  readonly secretName: string;
  readonly retry: boolean;
  readonly canRemember: boolean;
  readonly rememberRefusal?: string;
}

/** A host key trusted on first use, announced with its fingerprint (OpenSSH's "Permanently added"). */
export interface HostKeyAcceptedView {
  readonly node: string;
  readonly host: string;
  readonly port: number;
  readonly role: 'node' | 'jump-host';
  readonly fingerprint: string;
  readonly keyType: string;
  /** false: trusted for this session only. */
  readonly recorded: boolean;
  /** The one line to show. */
  readonly message: string;
}

export interface ObservedSourceView {
  readonly source: string;
  readonly count: number;
  readonly nodes: readonly string[];
  /** From conntrack now, or from the audit rule's log (would have been blocked). */
  readonly from: 'conntrack' | 'audit';
}

export interface ObservedSourcesResponse {
  readonly port: number;
  readonly protocol: string;
  readonly sources: readonly ObservedSourceView[];
  readonly errors: readonly string[];
}

// ---- policy, plan, apply, verify ------------------------------------------------------------

export interface PolicyResponse {
  readonly workspace: WorkspaceView;
  /** What normalising did (duplicates, covered entries, host bits), one line each. */
  readonly notes: readonly string[];
  /** Lockout warnings known without reading nodes (pod CIDR, health checks, IPv6 left open). */
  readonly warnings: readonly string[];
}

export interface NodePlanView {
  readonly node: string;
  readonly noop: boolean;
  readonly backend: string;
  readonly diff: readonly string[];
  readonly transactions: readonly { readonly family: string; readonly text: string }[];
  readonly warnings: readonly string[];
  readonly errors: readonly string[];
}

export interface PlanResponse {
  readonly nodes: readonly NodePlanView[];
  /** Which guard each node takes, and a backend switch's order (empty when all are iptables). */
  readonly backends: readonly string[];
  /** Nodes with the same plan, grouped: each group's nodes and its diff. */
  readonly groups: readonly { readonly nodes: readonly string[]; readonly diff: readonly string[] }[];
  /** `dataplane`: left alone because its dataplane may bypass netfilter; setGuardAnyway overrides. */
  readonly unplanned: readonly {
    readonly node: string;
    readonly message: string;
    readonly dataplane?: boolean;
  }[];
  readonly planHash: string;
  readonly exitCode: number;
}

export interface NodeOutcomeView {
  readonly node: string;
  readonly status: 'applied' | 'drift' | 'unchanged' | 'failed' | 'stale' | 'pending' | 'skipped';
  readonly line: string;
  /** Unix seconds (node clock) when the commit-confirmed timer restores the old guard. */
  readonly rollsBackAt?: number;
}

export interface ChangeResponse {
  readonly op: 'apply' | 'rollback' | 'remove';
  readonly outcome: string;
  readonly message?: string;
  readonly nodes: readonly NodeOutcomeView[];
  readonly confirmWithinSeconds?: number;
  readonly exitCode: number;
}

export interface ConfirmResponse {
  readonly nodes: readonly { readonly node: string; readonly status: string; readonly message?: string }[];
  readonly exitCode: number;
}

export interface VerifyCellView {
  readonly node: string;
  readonly port: number;
  readonly protocol: string;
  readonly status: 'ok' | 'drift' | 'error';
  /** Every non-info finding, one line each, in words. */
  readonly reasons: readonly string[];
  readonly blocked?: number;
}

export interface VerifyResponse {
  readonly status: 'ok' | 'drift' | 'error';
  readonly cells: readonly VerifyCellView[];
  /** Node-wide findings and nodes that could not be read. */
  readonly nodes: readonly {
    readonly node: string;
    readonly status: 'ok' | 'drift' | 'error';
    readonly reasons: readonly string[];
  }[];
  readonly probes: readonly { readonly line: string; readonly ok: boolean }[];
  readonly at: string;
  readonly exitCode: number;
}

export interface ExportResponse {
  readonly files: readonly { readonly name: string; readonly text: string }[];
  readonly writtenTo?: string;
}

export interface HistoryEntryView {
  readonly time: string;
  readonly op: string;
  readonly operator?: string;
  readonly outcome?: string;
  readonly token?: string;
  readonly nodes: readonly { readonly node: string; readonly status: string }[];
  /** The plan's hash: all that entries written before plans were kept have. */
  readonly plan?: string;
  /** The plan's diff, nodes with the same plan once (as the plan tab showed it). */
  readonly plans?: readonly { readonly nodes: readonly string[]; readonly diff: readonly string[] }[];
}

export interface HistoryResponse {
  readonly entries: readonly HistoryEntryView[];
  readonly warnings: readonly string[];
}

/** Progress events of long calls; ApiEventSchema (events.ts) checks them at the receiving end. */
export type ApiEvent =
  | { readonly kind: 'node'; readonly status: NodeStatusView }
  | { readonly kind: 'host-key'; readonly prompt: HostKeyPromptView }
  | { readonly kind: 'host-key-accepted'; readonly accepted: HostKeyAcceptedView }
  | { readonly kind: 'credential'; readonly prompt: CredentialPromptView }
  | {
      readonly kind: 'phase';
      readonly phase: 'reading' | 'planned' | 'canary' | 'rolling-out' | 'verifying' | 'done';
      readonly detail?: string;
    }
  | { readonly kind: 'outcome'; readonly outcome: NodeOutcomeView }
  | { readonly kind: 'verify'; readonly result: VerifyResponse };
