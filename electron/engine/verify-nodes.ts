// Verify the fleet against the policy: per node, a fresh read of the nat tables and listening
// sockets compared with the desired guard (entry jump once and before KUBE-SERVICES, chain
// contents, IPv6 side, blackhole listener, counters); for audit-mode ports, the sources that
// would have been blocked, from conntrack.
import type { AuditedSource } from '../../shared/guard/audit.js';
import { desiredGuard } from '../../shared/guard/desired.js';
import type { VerifyStatus } from '../../shared/guard/verify.js';
import type { Family } from '../../shared/vocabulary.js';
import type { Policy } from '../../shared/workspace/schema.js';
import type { ProgressListener } from '../fleet/index.js';
import { listBlockedSources } from './kill-established.js';
import { blockCounterKey } from './probe-nodes.js';
import { type GuardVerify, verifyGuard, worstStatus } from './send-change.js';
import { explain, readNode, type Session } from './session.js';
import type { PendingConfirm } from './snapshot.js';
import { readForVerify } from './verify-read.js';

export interface AuditListing {
  readonly port: number;
  readonly protocol: string;
  readonly family: Family;
  readonly sources: readonly AuditedSource[];
}

export type NodeVerifyResult =
  | {
      readonly node: string;
      readonly ok: true;
      readonly verify: GuardVerify;
      readonly audit: readonly AuditListing[];
      readonly pending?: PendingConfirm;
      readonly notes: readonly string[];
      /** The node's global addresses as it reported them (for `--probe-all-addresses`). */
      readonly addresses: readonly string[];
    }
  | { readonly node: string; readonly ok: false; readonly message: string };

export interface VerifyResult {
  readonly status: VerifyStatus;
  readonly nodes: readonly NodeVerifyResult[];
}

/** Each verified node's block-rule counters, by blockCounterKey (probe-nodes.ts). */
export function blockCountersOf(result: VerifyResult): Map<string, number> {
  const out = new Map<string, number>();
  for (const n of result.nodes) {
    if (!n.ok) continue;
    for (const f of n.verify.findings)
      if (f.kind === 'counters') out.set(blockCounterKey(n.node, f.family, f.protocol, f.port), f.packets);
  }
  return out;
}

export async function verifyNodes(
  session: Session,
  policy: Policy,
  options: {
    readonly onProgress?: ProgressListener;
    readonly signal?: AbortSignal;
    /** `guard` (default): PREROUTING and our chains only; `nat`: the whole nat table. */
    readonly read?: 'guard' | 'nat';
    /** How long a guard read may be reused through nft listings (verify-read.ts; 0: never). */
    readonly quickReadMaxAgeMs?: number;
    /** Only these nodes of the session (default: all). */
    readonly nodes?: readonly string[];
  } = {},
): Promise<VerifyResult> {
  const what = options.read ?? 'guard';
  const prefer = policy.guardBackend ?? 'iptables';
  const all = desiredGuard(policy);
  const chains = all.ok ? all.desired.families.flatMap((f) => f.chains.map((c) => c.name)) : [];
  const results = await session.fleet.runOnAll<NodeVerifyResult>(
    options.nodes ? session.nodes.filter((n) => options.nodes?.includes(n)) : session.nodes,
    async (ctx) => {
      const node = ctx.node.name;
      const snap =
        what === 'guard'
          ? await readForVerify(
              ctx,
              node,
              [...new Set(chains)],
              session.guardReads,
              options.quickReadMaxAgeMs,
              prefer,
            )
          : await readNode(ctx.run, node, what, [...new Set(chains)], prefer);
      if (!snap.ok) {
        const e = snap.error;
        return {
          ok: true,
          value: { node, ok: false, message: e.kind === 'unreadable' ? e.message : explain(e) },
        };
      }
      const s = snap.value;
      const d = desiredGuard(policy, { families: s.guardFamilies });
      if (!d.ok) return { ok: true, value: { node, ok: false, message: `${node}: ${d.errors[0]?.message}` } };
      const verify = verifyGuard(s, d.desired);
      const audit: AuditListing[] = [];
      const notes: string[] = [...s.warnings];
      for (const port of d.desired.ports) {
        if (port.mode !== 'audit') continue;
        for (const family of s.guardFamilies) {
          const listed = await listBlockedSources(ctx.run, node, port, family);
          if (listed.ok)
            audit.push({ port: port.port, protocol: port.protocol, family, sources: listed.sources });
          else notes.push(`audit listing not read: ${listed.message}`);
        }
      }
      if (s.pending) {
        const left = s.pending.deadline && s.nodeTime ? s.pending.deadline - s.nodeTime : undefined;
        notes.push(
          left !== undefined && left < 0
            ? `${node}: a commit-confirmed change (${s.pending.token}) is past its deadline and was not rolled back: its timer is gone`
            : `${node}: a commit-confirmed change (${s.pending.token}) waits for npg confirm${left !== undefined ? ` (${left} s left)` : ''}`,
        );
      }
      return {
        ok: true,
        value: {
          node,
          ok: true,
          verify,
          audit,
          notes,
          addresses: s.addresses,
          ...(s.pending ? { pending: s.pending } : {}),
        },
      };
    },
    {
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  const nodes: NodeVerifyResult[] = results.map((r) =>
    r.ok
      ? r.value
      : { node: r.node, ok: false, message: 'kind' in r.error ? explain(r.error) : String(r.error) },
  );
  const verified = nodes.flatMap((n) => (n.ok ? [n.verify] : []));
  const status: VerifyStatus = nodes.some((n) => !n.ok) ? 'error' : worstStatus(verified);
  return { status, nodes };
}
