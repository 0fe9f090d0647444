// `npg discover`: read every node (both families' tables, kube-proxy mode and backend, addresses,
// our guard and any pending commit-confirmed change) and show the cluster: NodePorts merged across
// nodes, and the nodes whose kube-proxy rules differ from the rest.
import type { Command } from 'commander';
import { entryJumpRule } from '../../../shared/guard/rules.js';
import { familyGuardHealthy } from '../../../shared/guard/state.js';
import { clusterView } from '../../engine/cluster.js';
import { nftGuardSummary } from '../../engine/nft-change.js';
import { readErrorMessage, readNodes } from '../../engine/session.js';
import type { NodeSnapshot } from '../../engine/snapshot.js';
import { EXIT_FAILURE, EXIT_OK } from '../exit.js';
import { formatTable } from '../format-table.js';
import { say } from '../io.js';
import {
  type FleetCliOptions,
  fleetOptions,
  loadOrFail,
  note,
  printJson,
  progress,
  type Runner,
  withSession,
} from './common.js';

/** The nft guard of a node in kube-proxy's nftables mode: none / healthy / unhealthy, and its ports. */
function nftView(s: NodeSnapshot) {
  const n = nftGuardSummary(s);
  return { state: n.guard, ports: [...n.ports].sort() };
}

export function nodeSummary(s: NodeSnapshot) {
  return {
    node: s.node,
    ok: true as const,
    mode: s.mode,
    backend: s.kubeBackend,
    families: s.guardFamilies,
    nodePorts: s.families.find((f) => f.family === 'ipv4')?.topology?.nodePorts.length ?? 0,
    guardBackend: s.guardBackend,
    // Our table also where the iptables guard is chosen, when it is there (left by a switch back).
    ...(s.guardBackend === 'nft' || nftGuardSummary(s).guard !== 'none' ? { nft: nftView(s) } : {}),
    guard: s.families.map((f) => ({
      family: f.family,
      chains: f.state.chains.map((c) => c.name),
      entryJumps: f.state.entryJumps.map((e) => e.position),
      healthy: familyGuardHealthy(f.state, entryJumpRule()),
    })),
    ...(s.pending ? { pending: s.pending } : {}),
    ...(s.dataplane
      ? {
          dataplane: {
            name: s.dataplane.dataplane,
            guardable: s.dataplane.guardable,
            sentence: s.dataplane.sentence,
            evidence: s.dataplane.evidence,
          },
        }
      : {}),
    addresses: s.addresses,
    warnings: s.warnings,
  };
}

export async function runDiscover(opts: FleetCliOptions): Promise<number> {
  const loaded = await loadOrFail(opts);
  return withSession(loaded, opts, async (session) => {
    const results = await readNodes(session, session.nodes, 'full', {
      onProgress: progress(opts, 'read'),
      prefer: loaded.workspace.policy.guardBackend ?? 'iptables',
    });
    const snapshots = results.flatMap((r) => (r.ok ? [r.value] : []));
    const failed = results.flatMap((r) =>
      r.ok ? [] : [{ node: r.node, ok: false as const, error: readErrorMessage(r.error) }],
    );
    const view = clusterView(snapshots);
    if (opts.json) {
      printJson({
        nodes: results.map((r) => (r.ok ? nodeSummary(r.value) : failed.find((f) => f.node === r.node))),
        nodePorts: view.nodePorts,
        differing: view.differing,
      });
    } else {
      const rows = results.map((r) => {
        if (!r.ok) return [r.node, 'unreachable', '', '', '', readErrorMessage(r.error)];
        const s = nodeSummary(r.value);
        const guard = s.guard.flatMap((g) => g.chains.filter((c) => c !== 'NPG-PREROUTING')).length;
        const n = s.nft;
        const state = n
          ? n.state === 'none'
            ? 'nft: none'
            : `nft: ${n.ports.length} port${n.ports.length === 1 ? '' : 's'}${n.state === 'healthy' ? '' : ' (table not healthy)'}`
          : s.guard.every((g) => g.chains.length === 0)
            ? 'none'
            : `${guard} chain${guard === 1 ? '' : 's'}${s.guard.every((g) => g.healthy) ? '' : ' (entry jump not healthy)'}`;
        return [
          s.node,
          s.mode,
          s.backend,
          s.families.map((f) => (f === 'ipv4' ? 'v4' : 'v6')).join('+'),
          String(s.nodePorts),
          `${state}${s.pending ? `, confirm pending (${s.pending.token})` : ''}`,
        ];
      });
      const out = [formatTable(['NODE', 'MODE', 'BACKEND', 'FAMILIES', 'NODEPORTS', 'GUARD'], rows), ''];
      out.push(
        view.nodePorts.length
          ? formatTable(
              ['PORT', 'PROTO', 'SERVICE', 'NODES', 'GUARDED', 'ENDPOINTS'],
              view.nodePorts.map((p) => [
                String(p.port),
                p.protocol,
                p.service ?? '-',
                `${p.nodes.length}/${snapshots.length}${p.ipv6On.length ? ' (+v6)' : ''}`,
                `${p.guardedOn.length}/${snapshots.length}`,
                p.local ? `${p.endpoints.length} (per node, ETP=Local)` : p.endpoints.join(' ') || 'none',
              ]),
            )
          : 'no NodePorts found',
      );
      for (const d of view.differing) out.push(`differs: ${d.node}: ${d.differences.join('; ')}`);
      // A node whose NodePorts a netfilter guard may not see: said where the operator reads.
      for (const s of snapshots)
        if (s.dataplane && s.dataplane.guardable !== 'yes')
          out.push(`dataplane: ${s.node}: ${s.dataplane.sentence}`);
      say(`${out.join('\n')}\n`);
      for (const s of snapshots) for (const w of s.warnings) note(opts, `warning: ${w}`);
    }
    return failed.length > 0 ? EXIT_FAILURE : EXIT_OK;
  });
}

export function registerDiscover(program: Command, run: Runner): void {
  fleetOptions(
    program
      .command('discover')
      .description(
        'read every node: kube-proxy mode and backend, NodePorts, guard state; flag nodes that differ',
      ),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  npg discover --workspace cluster.yaml\n  npg discover --workspace cluster.yaml --json | jq .differing',
    )
    .action((opts: FleetCliOptions) => run(runDiscover(opts)));
}
