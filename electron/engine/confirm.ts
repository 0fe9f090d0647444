// Confirm a commit-confirmed change: on a new connection, each node stops its timer and drops the
// pending change under the node lock. A node whose timer already fired says so (it restored the
// saved guard): then the change is gone there and confirm reports it as a difference.
import type { ProgressListener } from '../fleet/index.js';
import { CONFIRM_SCRIPT } from './node-scripts.js';
import { parseScriptOutput } from './sections.js';
import { explain, type Session } from './session.js';

export type ConfirmOutcome =
  | { readonly node: string; readonly status: 'confirmed'; readonly token: string }
  | { readonly node: string; readonly status: 'none'; readonly message: string }
  | { readonly node: string; readonly status: 'expired'; readonly token: string; readonly message: string }
  | { readonly node: string; readonly status: 'other'; readonly token: string; readonly message: string }
  | { readonly node: string; readonly status: 'failed'; readonly message: string };

export async function confirmNodes(
  session: Session,
  nodes: readonly string[],
  token: string | undefined,
  options: { readonly onProgress?: ProgressListener } = {},
): Promise<readonly ConfirmOutcome[]> {
  const want = token ?? 'any';
  const results = await session.fleet.runOnAll<ConfirmOutcome>(
    nodes,
    async (ctx) => {
      const node = ctx.node.name;
      const r = await ctx.run({
        op: 'confirm',
        argv: ['sh', '-c', CONFIRM_SCRIPT, 'npg-confirm', want],
        okExitCodes: [0, 2, 5, 6],
      });
      if (!r.ok) return r;
      const out = parseScriptOutput(r.stdout);
      const [kind = '', value = ''] = out.markers.get('result') ?? [];
      const expired = out.markers.get('last-expired');
      switch (kind) {
        case 'confirmed':
          return { ok: true, value: { node, status: 'confirmed', token: value } };
        case 'other':
          return {
            ok: true,
            value: {
              node,
              status: 'other',
              token: value,
              message: `${node}: the pending change is ${value}, not ${want}; left armed`,
            },
          };
        case 'none':
          if (expired && (want === 'any' || expired[0] === want) && expired[0])
            return {
              ok: true,
              value: {
                node,
                status: 'expired',
                token: expired[0],
                message: `${node}: too late: the timer restored the saved guard (change ${expired[0]}${expired[2] === '0' ? '' : ', restore reported errors'})`,
              },
            };
          return {
            ok: true,
            value: { node, status: 'none', message: `${node}: no change waits for confirmation` },
          };
        case 'locked':
          return {
            ok: true,
            value: { node, status: 'failed', message: `${node}: the node lock is held by another change` },
          };
        default:
          return {
            ok: true,
            value: {
              node,
              status: 'failed',
              message: `${node}: confirm script stopped: ${kind || `exit ${r.code}`}`,
            },
          };
      }
    },
    options,
  );
  return results.map((r) => (r.ok ? r.value : { node: r.node, status: 'failed', message: explain(r.error) }));
}
