// The UI's node use cases: discover (every node read, each reported as it answers), one
// NodePort's path on one node, traces and chain listings on a node's last read, and the sources
// seen right now (conntrack) for a NodePort.
import type {
  ApiResult,
  ChainRulesView,
  DiscoverResponse,
  EngineCall,
  NodePortView,
  NodeStatusView,
  NodeSummaryView,
  ObservedSourcesResponse,
  ParsedRequestOf,
  TraceResponse,
} from '../../../shared/api.js';
import { parseCidr } from '../../../shared/guard/cidr.js';
import { entryJumpRule } from '../../../shared/guard/rules.js';
import { familyGuardHealthy } from '../../../shared/guard/state.js';
import { parseNftRuleset } from '../../../shared/nftables/index.js';
import { clusterView } from '../cluster.js';
import { listFlows } from '../kill-established.js';
import { nftGuardSummary } from '../nft-change.js';
import { readErrorMessage, readNode } from '../session.js';
import type { NodeSnapshot } from '../snapshot.js';
import { traceNftListings } from '../trace.js';
import { nodePortView } from '../views.js';
import { chainRulesOf, NFT_TRACE_REFUSAL, nftChainRules, traceOn } from './dumps.js';
import { badInput, cancelled, ok } from './results.js';
import { sumOverNodes } from './sum-counters.js';
import type { WorkspaceState } from './workspace-state.js';

/**
 * The contract's bound on a summary's addresses (NodeSummarySchema). An ipvs-mode node carries
 * every ClusterIP on kube-ipvs0, so a large cluster has more: the first ones (the node's own
 * interfaces come first in `ip -o addr`) are shown, rather than an event the contract refuses.
 */
const MAX_SUMMARY_ADDRESSES = 1024;

export function nodeSummary(s: NodeSnapshot): NodeSummaryView {
  const chains = s.families.flatMap((f) => f.state.chains.filter((c) => c.name !== 'NPG-PREROUTING'));
  const healthy = s.families.every((f) => familyGuardHealthy(f.state, entryJumpRule()));
  const n = s.guardBackend === 'nft' ? nftGuardSummary(s) : undefined;
  const nft = n ? { guard: n.guard, guardChains: n.ports.size } : undefined;
  return {
    node: s.node,
    mode: s.mode,
    backend: s.kubeBackend,
    families: s.guardFamilies,
    nodePorts: s.families.find((f) => f.family === 'ipv4')?.topology?.nodePorts.length ?? 0,
    guardBackend: s.guardBackend,
    ...(s.dataplane && s.dataplane.guardable !== 'yes'
      ? { dataplane: { guardable: s.dataplane.guardable, sentence: s.dataplane.sentence } }
      : {}),
    ...(nft ?? {
      guard: s.families.every((f) => f.state.chains.length === 0)
        ? 'none'
        : healthy
          ? 'healthy'
          : 'unhealthy',
      guardChains: chains.length,
    }),
    ...(s.pending ? { pending: s.pending.token } : {}),
    addresses: s.addresses.slice(0, MAX_SUMMARY_ADDRESSES),
    warnings: s.warnings,
  };
}

export async function discover(
  state: WorkspaceState,
  call: EngineCall,
): Promise<ApiResult<DiscoverResponse>> {
  const loaded = state.require('discover');
  const names = loaded.workspace.inventory.nodes.map((n) => n.name);
  const statuses = new Map<string, NodeStatusView>();
  const report = (s: NodeStatusView) => {
    statuses.set(s.node, s);
    call.emit({ kind: 'node', status: s });
  };
  for (const node of names) report({ node, state: 'connecting' });
  await state.follow(call, async () => {
    const session = await state.session();
    await session.fleet.runOnAll(
      names,
      async (ctx) => {
        const node = ctx.node.name;
        const started = Date.now();
        const r = await readNode(
          ctx.run,
          node,
          'full',
          [],
          loaded.workspace.policy.guardBackend ?? 'iptables',
        );
        const durationMs = Date.now() - started;
        if (r.ok) {
          state.snapshots.set(node, r.value);
          report({ node, state: 'ok', summary: nodeSummary(r.value), durationMs });
        } else {
          // A read cut short by a cancel says nothing about the node: keep its last good read.
          if (r.error.kind !== 'cancelled') state.snapshots.delete(node);
          report({
            node,
            state: 'failed',
            error: readErrorMessage(r.error),
            errorKind: r.error.kind,
            durationMs,
          });
        }
        return r;
      },
      {
        signal: call.signal,
        onProgress: (e) => {
          if (e.phase === 'running' && statuses.get(e.node)?.state === 'connecting')
            report({ node: e.node, state: 'reading' });
        },
      },
    );
  });
  if (call.signal.aborted) return cancelled('discover');
  state.readAt = new Date().toISOString();
  return ok(clusterResponse(state, names, statuses));
}

function clusterResponse(
  state: WorkspaceState,
  names: readonly string[],
  statuses: ReadonlyMap<string, NodeStatusView>,
): DiscoverResponse {
  const snaps = names.flatMap((n) => {
    const s = state.snapshots.get(n);
    return s ? [s] : [];
  });
  const view = clusterView(snaps);
  const policy = state.require('discover').workspace.policy.nodePorts;
  return {
    nodes: names.map((node) => statuses.get(node) ?? { node, state: 'failed', error: `${node}: not read` }),
    nodePorts: view.nodePorts.map((p) => {
      const key = `${p.protocol}/${p.port}`;
      const pol = policy.find((x) => x.port === p.port && x.protocol === p.protocol);
      return {
        ...p,
        ...(pol ? { policy: pol.mode } : {}),
        differsOn: view.differing
          .filter((d) => d.differences.some((line) => line.includes(`NodePort ${key}`)))
          .map((d) => d.node),
      };
    }),
    differing: view.differing,
    readAt: state.readAt ?? new Date().toISOString(),
  };
}

function snapshotOf(state: WorkspaceState, node: string): NodeSnapshot | string {
  state.require('read');
  const s = state.snapshots.get(node);
  return s ?? `${node}: not read yet (or its last read failed); discover first`;
}

export function nodePort(state: WorkspaceState, req: ParsedRequestOf<'nodePort'>): ApiResult<NodePortView> {
  if (req.node === '*') {
    const views = [...state.snapshots.keys()].flatMap((node) => {
      const r = nodePort(state, { ...req, node });
      return r.ok ? [{ node, view: r.value }] : [];
    });
    const sum = sumOverNodes(views);
    return sum ? ok(sum) : badInput(`${req.protocol}/${req.port}: no node read serves it`);
  }
  const s = snapshotOf(state, req.node);
  if (typeof s === 'string') return badInput(s);
  const fam = s.families.find((f) => f.family === req.family);
  const np = fam?.topology?.nodePorts.find((p) => p.port === req.port && p.protocol === req.protocol);
  if (!np)
    return badInput(
      `${req.node}: ${req.protocol}/${req.port} is not a NodePort there (${req.family === 'ipv4' ? 'IPv4' : 'IPv6'})`,
    );
  return ok(nodePortView(np));
}

export function traceOnNode(
  state: WorkspaceState,
  node: string,
  req: Omit<ParsedRequestOf<'trace'>, 'source'>,
): ApiResult<TraceResponse> {
  const s = snapshotOf(state, node);
  if (typeof s === 'string') return badInput(s);
  const src = parseCidr(req.src);
  const family = src.ok ? src.value.family : 'ipv4';
  const fam = s.families.find((f) => f.family === family);
  if (!fam) return badInput(`${node}: no ${family === 'ipv4' ? 'IPv4' : 'IPv6'} rules were read`);
  const local = s.addresses.filter((a) => (family === 'ipv6') === a.includes(':'));
  const dst = req.dst ?? local[0];
  if (!dst) return badInput(`${node}: no node address of that family is known; type one`);
  const ours = ourTableListing(s);
  const packet = {
    src: req.src,
    dst,
    dport: req.dport,
    protocol: req.protocol,
    ...(req.inInterface ? { inInterface: req.inInterface } : {}),
    localAddresses: local.includes(dst) ? local : [dst, ...local],
  };
  // kube-proxy's nftables mode: its table and ours, walked in netfilter's order.
  if (s.mode === 'nftables') {
    if (!fam.nft) return badInput(`${node}: ${NFT_TRACE_REFUSAL}`);
    const r = traceNftListings({ ...packet, listings: [fam.nft, ...(ours ? [ours] : [])] });
    return r.ok ? ok(r.value.view) : badInput(r.message);
  }
  // The nft guard on an iptables or ipvs node runs before iptables' nat PREROUTING: a packet it
  // redirects never reaches kube-proxy's rules; one it lets on is traced through them.
  if (ours) {
    const r = traceNftListings({ ...packet, listings: [ours] });
    if (!r.ok) return badInput(r.message);
    if (
      r.value.view.outcomes.some(
        (o) => o.verdict === 'redirect' || o.verdict === 'drop' || o.verdict === 'unknown',
      )
    )
      return ok(r.value.view);
  }
  return traceOn(
    { text: fam.text, source: node, ...(fam.ipsets ? { ipsets: fam.ipsets } : {}) },
    { ...req, dst },
    local,
  );
}

/** Our nft table as the node's read listed it (counters left out), where it holds a guard. */
function ourTableListing(s: NodeSnapshot): { text: string; source: string } | undefined {
  const t = s.nftGuard?.table;
  if (!t?.ok || t.value.table === 'absent' || !s.nftGuard) return undefined;
  return { text: s.nftGuard.excerpt, source: `${s.node} nft -j list table inet nodeport-guard` };
}

export function chainRulesOnNode(
  state: WorkspaceState,
  node: string,
  chain: string,
  family: 'ipv4' | 'ipv6',
): ApiResult<ChainRulesView> {
  const s = snapshotOf(state, node);
  if (typeof s === 'string') return badInput(s);
  const fam = s.families.find((f) => f.family === family);
  if (!fam) return badInput(`${node}: no ${family} rules were read`);
  // kube-proxy's nftables mode: its chains are in its own table, kept as listed by the read.
  if (s.mode === 'nftables') {
    if (!fam.nft)
      return badInput(`${node}: kube-proxy's nft table was not read for ${family}; read the node again`);
    const r = parseNftRuleset(fam.nft.text);
    if (!r.ok) return badInput(`${fam.nft.source}: ${r.error.message}`);
    return nftChainRules(r.ruleset, family, chain);
  }
  return chainRulesOf(fam.ruleset, chain, family);
}

/** Sources with flows to the port right now, on every node (conntrack), most flows first. */
export async function observedSources(
  state: WorkspaceState,
  req: ParsedRequestOf<'observedSources'>,
  call: EngineCall,
): Promise<ApiResult<ObservedSourcesResponse>> {
  const loaded = state.require('observed sources');
  const names = loaded.workspace.inventory.nodes.map((n) => n.name);
  const counts = new Map<string, { count: number; nodes: Set<string> }>();
  const errors: string[] = [];
  await state.follow(call, async () => {
    const session = await state.session();
    await session.fleet.runOnAll(
      names,
      async (ctx) => {
        for (const family of ['ipv4', 'ipv6'] as const) {
          const listed = await listFlows(ctx.run, ctx.node.name, req, family);
          if (!listed.ok) {
            errors.push(listed.message);
            return { ok: true, value: null };
          }
          for (const f of listed.flows) {
            if (f.destinationPort !== req.port) continue;
            const c = counts.get(f.source) ?? { count: 0, nodes: new Set<string>() };
            c.count += 1;
            c.nodes.add(ctx.node.name);
            counts.set(f.source, c);
          }
        }
        return { ok: true, value: null };
      },
      { signal: call.signal },
    );
  });
  if (call.signal.aborted) return cancelled('observed sources');
  return ok({
    port: req.port,
    protocol: req.protocol,
    sources: [...counts]
      .sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]))
      .slice(0, 1000)
      .map(([source, c]) => ({
        source,
        count: c.count,
        nodes: [...c.nodes].sort(),
        from: 'conntrack' as const,
      })),
    errors,
  });
}
