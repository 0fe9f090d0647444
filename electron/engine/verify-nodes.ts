// Verify the fleet against the policy: per node, a fresh read of the nat tables and listening
// sockets compared with the desired guard (entry jump once and before KUBE-SERVICES, chain
// contents, IPv6 side, blackhole listener, counters); for audit-mode ports, the sources that
// would have been blocked, from conntrack.
import type { AuditedSource } from '../../shared/guard/audit.js';
import { desiredGuard } from '../../shared/guard/desired.js';
import type { NodeVerify, VerifyStatus } from '../../shared/guard/verify.js';
import { overallStatus } from '../../shared/guard/verify.js';
import type { Family } from '../../shared/netfilter/index.js';
import type { Policy } from '../../shared/workspace/schema.js';
import type { ProgressListener } from '../fleet/index.js';
import { listBlockedSources } from './kill-established.js';
import { READ_SCRIPT } from './node-scripts.js';
import { parseScriptOutput } from './sections.js';
import { verifySnapshot } from './send-change.js';
import { explain, type Session } from './session.js';
import { type PendingConfirm, snapshotFromOutput } from './snapshot.js';

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
      readonly verify: NodeVerify;
      readonly audit: readonly AuditListing[];
      readonly pending?: PendingConfirm;
      readonly notes: readonly string[];
    }
  | { readonly node: string; readonly ok: false; readonly message: string };

export interface VerifyResult {
  readonly status: VerifyStatus;
  readonly nodes: readonly NodeVerifyResult[];
}

export async function verifyNodes(
  session: Session,
  policy: Policy,
  options: { readonly onProgress?: ProgressListener; readonly signal?: AbortSignal } = {},
): Promise<VerifyResult> {
  const results = await session.fleet.runOnAll<NodeVerifyResult>(
    session.nodes,
    async (ctx) => {
      const node = ctx.node.name;
      const r = await ctx.run({ op: 'read (nat)', argv: ['sh', '-c', READ_SCRIPT, 'npg-read', 'nat'] });
      if (!r.ok) return r;
      const snap = snapshotFromOutput(node, parseScriptOutput(r.stdout), 'nat');
      if (!snap.ok) return { ok: true, value: { node, ok: false, message: snap.message } };
      const s = snap.snapshot;
      const d = desiredGuard(policy, { families: s.guardFamilies });
      if (!d.ok) return { ok: true, value: { node, ok: false, message: `${node}: ${d.errors[0]?.message}` } };
      const verify = verifySnapshot(s, d.desired);
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
        value: { node, ok: true, verify, audit, notes, ...(s.pending ? { pending: s.pending } : {}) },
      };
    },
    options,
  );
  const nodes: NodeVerifyResult[] = results.map((r) =>
    r.ok
      ? r.value
      : { node: r.node, ok: false, message: 'kind' in r.error ? explain(r.error) : String(r.error) },
  );
  const verified = nodes.flatMap((n) => (n.ok ? [n.verify] : []));
  const status: VerifyStatus = nodes.some((n) => !n.ok) ? 'error' : overallStatus(verified);
  return { status, nodes };
}
