// The diagram's live counters: only the nat table of the nodes asked is read again (no discover),
// and its counters are laid over the path of the nodes' last full read (../live-counters.ts). The
// last full read is not replaced: a nat read lacks what discover keeps (other tables, ipsets).
import type {
  ApiResult,
  EngineCall,
  NodePortCountersView,
  NodePortView,
  ParsedRequestOf,
} from '../../../shared/api.js';
import { findTable } from '../../../shared/netfilter/model.js';
import { familyName } from '../../../shared/vocabulary.js';
import { overlayCounters } from '../live-counters.js';
import { readErrorMessage, readNode } from '../session.js';
import { nodePort } from './nodes.js';
import { badInput, cancelled, failed, ok } from './results.js';
import { sumOverNodes } from './sum-counters.js';
import type { WorkspaceState } from './workspace-state.js';

export async function nodePortCounters(
  state: WorkspaceState,
  req: ParsedRequestOf<'nodePortCounters'>,
  call: EngineCall,
): Promise<ApiResult<NodePortCountersView>> {
  const loaded = state.require('counters');
  // Inventory order, so that the sum draws the same first node as nodePort's `*`.
  const names =
    req.node === '*'
      ? loaded.workspace.inventory.nodes.map((n) => n.name).filter((n) => state.snapshots.has(n))
      : [req.node];
  const bases = new Map<string, NodePortView>();
  for (const node of names) {
    const r = nodePort(state, { ...req, node });
    if (r.ok) bases.set(node, r.value);
    else if (req.node !== '*') return r;
  }
  if (bases.size === 0)
    return badInput(`${req.protocol}/${req.port}: no node read serves it; read the nodes (R)`);

  const fresh = new Map<string, NodePortView>();
  const errors: string[] = [];
  await state.follow(call, async () => {
    const session = await state.session();
    await session.fleet.runOnAll(
      [...bases.keys()],
      async (ctx) => {
        const node = ctx.node.name;
        const r = await readNode(ctx.run, node, 'nat');
        if (!r.ok) {
          if (r.error.kind !== 'cancelled') errors.push(readErrorMessage(r.error));
          return r;
        }
        const nat = r.value.families.find((f) => f.family === req.family)?.ruleset;
        const table = nat ? findTable(nat, 'nat') : undefined;
        const base = bases.get(node);
        if (!table || !base) errors.push(`${node}: no ${familyName(req.family)} nat table in this read`);
        else fresh.set(node, overlayCounters(base, table).view);
        return { ok: true, value: null };
      },
      { signal: call.signal },
    );
  });
  if (call.signal.aborted) return cancelled('counters');
  if (fresh.size === 0) {
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    return failed(`${errors[0] ?? `${req.protocol}/${req.port}: no node answered`}${more}`);
  }
  const readAt = new Date().toISOString();
  if (req.node !== '*')
    return ok({ view: fresh.values().next().value as NodePortView, readAt, failed: errors });
  const sum = sumOverNodes([...fresh].map(([node, view]) => ({ node, view })));
  if (!sum) return failed(`${req.protocol}/${req.port}: no node answered`);
  return ok({ view: sum, readAt, failed: errors });
}
