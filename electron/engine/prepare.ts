// Read the nodes and plan a change on each: the shared first half of plan, apply, rollback and
// remove. The policy is checked before any node is contacted.

import { parseCidr } from '../../shared/guard/cidr.js';
import { desiredGuard } from '../../shared/guard/desired.js';
import { fingerprint } from '../../shared/guard/hash.js';
import { KNOWN_HEALTH_CHECK_RANGES } from '../../shared/guard/warnings.js';
import type { Policy } from '../../shared/workspace/schema.js';
import type { ProgressListener } from '../fleet/index.js';
import { type LocalStore, latestSavedState } from './local-store.js';
import {
  applyChange,
  type ChangeOp,
  type ChangeResult,
  type ClusterChecks,
  dataplaneRefusal,
  type NodeChange,
  removeChange,
  rollbackChange,
} from './node-change.js';
import { textFieldProblem } from './policy-edit.js';
import { readErrorMessage, readNodes, type Session } from './session.js';
import { type NodeSnapshot, parseSavedMeta, type SavedMeta } from './snapshot.js';

export interface Unplanned {
  readonly node: string;
  /** unreachable: could not read; unplannable: read, but no change can be made (e.g. nothing saved). */
  readonly status: 'unreachable' | 'unplannable';
  readonly message: string;
  /** Left alone because its dataplane may serve NodePorts before netfilter (can be overridden). */
  readonly dataplane?: true;
}

export interface Prepared {
  readonly changes: readonly NodeChange[];
  readonly unplanned: readonly Unplanned[];
  /** Rollback: nodes the latest change did not touch, left as they are. */
  readonly untouched: readonly { readonly node: string; readonly message: string }[];
  readonly snapshots: readonly NodeSnapshot[];
}

/** The policy's problems (one line each), or none; no node is contacted. */
export function checkPolicy(policy: Policy): string[] {
  const d = desiredGuard(policy);
  const problems = d.ok ? [] : d.errors.map((e) => e.message);
  policy.nodePorts.forEach((np, i) => {
    const s =
      np.service === undefined
        ? undefined
        : textFieldProblem(`policy.nodePorts[${i}].service`, np.service, 300);
    if (s) problems.push(s);
    np.allow.forEach((a, j) => {
      const l =
        a.label === undefined
          ? undefined
          : textFieldProblem(`policy.nodePorts[${i}].allow[${j}].label`, a.label, 200);
      if (l) problems.push(l);
    });
  });
  return problems;
}

export function policyHash(policy: Policy): string {
  return fingerprint(JSON.stringify(policy));
}

/** --pod-cidr / --lb-health-check values: CIDRs, or the names gcp / azure. */
export function parseCheckCidrs(
  flag: string,
  values: readonly string[],
): { ok: true; cidrs: string[] } | { ok: false; message: string } {
  const named: Record<string, readonly string[]> = KNOWN_HEALTH_CHECK_RANGES;
  const out: string[] = [];
  for (const v of values) {
    const n = named[v.toLowerCase()];
    if (n && flag === '--lb-health-check') {
      out.push(...n);
      continue;
    }
    const r = parseCidr(v, flag);
    if (!r.ok) return { ok: false, message: r.error.message };
    out.push(r.value.cidr);
  }
  return { ok: true, cidrs: [...new Set(out)] };
}

export interface PrepareOptions {
  readonly checks?: ClusterChecks;
  /** For rollback: the local store, whose copy is used where a node has no saved state. */
  readonly store?: LocalStore;
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
}

export async function prepare(
  session: Session,
  op: ChangeOp,
  policy: Policy,
  options: PrepareOptions = {},
): Promise<Prepared> {
  // An apply needs only PREROUTING, our chains and kube-proxy's NodePort list (a plan read: no
  // 5,000-service dump); rollback and remove read everything, to find every chain of ours.
  const results = await readNodes(session, session.nodes, op === 'apply' ? 'plan' : 'full', {
    prefer: policy.guardBackend ?? 'iptables',
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const snapshots: NodeSnapshot[] = [];
  const unplanned: Unplanned[] = [];
  const untouched: { node: string; message: string }[] = [];
  for (const r of results) {
    if (r.ok) snapshots.push(r.value);
    else unplanned.push({ node: r.node, status: 'unreachable', message: readErrorMessage(r.error) });
  }
  const hosts = session.nodes.flatMap((n) => {
    const host = session.fleet.node(n)?.host;
    return host && parseCidr(host).ok ? [host] : [];
  });
  const nodeAddresses = [...new Set([...hosts, ...snapshots.flatMap((s) => s.addresses)])];
  // As the fleet connects (inventory, then ~/.ssh/config): a guard on one of these cuts SSH off.
  const sshPorts = session.nodes.flatMap((n) => {
    const port = session.fleet.node(n)?.port;
    return port === undefined ? [] : [{ node: n, port }];
  });
  const changes: NodeChange[] = [];
  // Rollback undoes the latest change: nodes whose saved state came from an older one were not
  // part of it (their last apply was a no-op there) and are left as they are.
  const latest = op === 'rollback' ? latestToken(snapshots) : undefined;
  for (const s of snapshots) {
    let r: ChangeResult;
    switch (op) {
      case 'apply':
        r = applyChange(s, policy, { nodeAddresses, sshPorts, ...options.checks });
        break;
      case 'rollback': {
        let snap = s;
        const meta = parseSavedMeta(s.saved.meta);
        if (latest && meta && meta.token !== latest.token) {
          untouched.push({
            node: s.node,
            message: `${s.node}: not changed by the latest change (${latest.token}, ${latest.time}); left as it is`,
          });
          continue;
        }
        if (
          s.saved.ipv4 === undefined &&
          s.saved.ipv6 === undefined &&
          s.saved.nft === undefined &&
          options.store
        ) {
          const local = await latestSavedState(options.store, s.node);
          if (local && (!latest || local.stamp.endsWith(latest.token))) {
            const v4 = local.files.get('v4');
            const v6 = local.files.get('v6');
            const nft = local.files.get('nft');
            snap = {
              ...s,
              saved: { ...(v4 ? { ipv4: v4 } : {}), ...(v6 ? { ipv6: v6 } : {}), ...(nft ? { nft } : {}) },
            };
          }
        }
        r = rollbackChange(snap);
        break;
      }
      case 'remove':
        r = removeChange(s);
        break;
    }
    if (r.ok) changes.push(r.change);
    else {
      const dataplane = op === 'apply' && r.message === dataplaneRefusal(s, options.checks ?? {});
      unplanned.push({
        node: s.node,
        status: 'unplannable',
        message: r.message,
        ...(dataplane ? { dataplane } : {}),
      });
    }
  }
  const order = new Map(session.nodes.map((n, i) => [n, i]));
  changes.sort((a, b) => (order.get(a.node) ?? 0) - (order.get(b.node) ?? 0));
  unplanned.sort((a, b) => (order.get(a.node) ?? 0) - (order.get(b.node) ?? 0));
  untouched.sort((a, b) => (order.get(a.node) ?? 0) - (order.get(b.node) ?? 0));
  return { changes, unplanned, untouched, snapshots };
}

/** The newest change recorded in the nodes' saved.meta. */
export function latestToken(snapshots: readonly NodeSnapshot[]): SavedMeta | undefined {
  let best: SavedMeta | undefined;
  for (const s of snapshots) {
    const m = parseSavedMeta(s.saved.meta);
    if (m && (!best || m.time > best.time)) best = m;
  }
  return best;
}
