// `npg inspect` without --file: every node of the workspace read over SSH (the full read `npg
// discover` makes: every table, ipsets, ipvs) and shown as `npg inspect --file` shows one dump, per
// node and IP family. A node that cannot be read is reported and the others still shown (exit 2).
import { type InspectJson, toInspectJson } from '../../../shared/kube/index.js';
import type { Family } from '../../../shared/vocabulary.js';
import { readErrorMessage, readNodes } from '../../engine/session.js';
import type { NodeSnapshot } from '../../engine/snapshot.js';
import { EXIT_DIFFERENCE, EXIT_FAILURE, EXIT_OK } from '../exit.js';
import { say } from '../io.js';
import { type FleetCliOptions, loadOrFail, printJson, progress, withSession } from './common.js';
import { type PortFilter, selectPort } from './inspect-port.js';
import { humanReport } from './inspect-report.js';

export interface FamilyInspection extends InspectJson {
  readonly family: Family;
}

export type NodeInspection =
  | { readonly node: string; readonly ok: true; readonly families: readonly FamilyInspection[] }
  | { readonly node: string; readonly ok: false; readonly error: string };

/** The node's families that have kube-proxy's view (ipv6 only where the node has IPv6). */
export function inspectSnapshot(s: NodeSnapshot): NodeInspection {
  const families: FamilyInspection[] = [];
  for (const f of s.families) {
    if (!f.topology || !s.guardFamilies.includes(f.family)) continue;
    families.push({ family: f.family, ...toInspectJson(f.topology) });
  }
  return { node: s.node, ok: true, families };
}

/** Only the NodePort `port` asks for, in every family. */
function onlyPort(n: NodeInspection, port: PortFilter | undefined): NodeInspection {
  if (!n.ok || !port) return n;
  return { ...n, families: n.families.map((f) => ({ ...f, ...selectPort(f, port) })) };
}

export function nodesReport(inspections: readonly NodeInspection[], port?: PortFilter): string {
  return inspections
    .map((n) => {
      if (!n.ok) return `${n.node}: not read: ${n.error}`;
      if (n.families.length === 0) return `${n.node}: no nat table read`;
      return n.families
        .map((f) => `${n.node} (${f.family})\n${humanReport(f, f.warnings, port)}`)
        .join('\n\n');
    })
    .join('\n\n');
}

/** `port`: only that NodePort; exit 1 when a node that was read has it in no family. */
export async function runInspectNodes(opts: FleetCliOptions, port?: PortFilter): Promise<number> {
  const loaded = await loadOrFail(opts);
  return withSession(loaded, opts, async (session) => {
    const results = await readNodes(session, session.nodes, 'full', {
      onProgress: progress(opts, 'read'),
      prefer: loaded.workspace.policy.guardBackend ?? 'iptables',
    });
    const inspections = results.map(
      (r): NodeInspection =>
        r.ok ? inspectSnapshot(r.value) : { node: r.node, ok: false, error: readErrorMessage(r.error) },
    );
    if (opts.json) printJson({ nodes: inspections.map((n) => onlyPort(n, port)) });
    else say(`${nodesReport(inspections, port)}\n`);
    if (!inspections.every((n) => n.ok)) return EXIT_FAILURE;
    const missing = inspections.some(
      (n) => n.ok && port && n.families.every((f) => selectPort(f, port).nodePorts.length === 0),
    );
    return missing ? EXIT_DIFFERENCE : EXIT_OK;
  });
}
