// Established flows keep their conntrack DNAT after a block. `--kill-established` lists the
// guarded ports' flows with conntrack, keeps the sources the allow-list does not admit (the same
// test audit mode uses), and deletes exactly those entries: source + protocol + original port.
// Also the audit listing for verify: which sources would have been blocked.
import {
  type AuditedSource,
  type ConntrackFlow,
  parseConntrackFlows,
  wouldBeBlocked,
} from '../../shared/guard/audit.js';
import type { GuardedPort } from '../../shared/guard/desired.js';
import { firstVisibleLine } from '../../shared/text/visible.js';
import type { Family } from '../../shared/vocabulary.js';
import type { Fleet } from '../fleet/index.js';
import type { NodeChange } from './node-change.js';
import { explain } from './session.js';

export interface KillResult {
  /** `tcp/30001 198.18.100.12`: entries deleted per blocked source. */
  readonly deleted: readonly { readonly port: number; readonly protocol: string; readonly source: string }[];
  readonly errors: readonly string[];
}

type Run = Fleet['run'];

/** `conntrack -L` of a port's flows; a missing conntrack tool is an error naming the node. */
export async function listFlows(
  run: (req: Parameters<Run>[1]) => ReturnType<Run>,
  node: string,
  port: { readonly port: number; readonly protocol: string },
  family: Family,
): Promise<{ ok: true; flows: readonly ConntrackFlow[] } | { ok: false; message: string }> {
  const r = await run({
    op: 'conntrack -L',
    argv: ['conntrack', '-L', '-f', family, '-p', port.protocol, '--orig-port-dst', String(port.port)],
    okExitCodes: [0, 1],
  });
  if (!r.ok) return { ok: false, message: explain(r.error) };
  if (r.code !== 0 && r.stdout.trim() === '' && /not found|error/i.test(r.stderr))
    return { ok: false, message: `${node}: conntrack -L failed: ${firstVisibleLine(r.stderr)}` };
  return { ok: true, flows: parseConntrackFlows(r.stdout) };
}

/** The port's flows from sources its allow-list does not admit (audit mode, --kill-established). */
export async function listBlockedSources(
  run: (req: Parameters<Run>[1]) => ReturnType<Run>,
  node: string,
  port: GuardedPort,
  family: Family,
): Promise<{ ok: true; sources: readonly AuditedSource[] } | { ok: false; message: string }> {
  const listed = await listFlows(run, node, port, family);
  return listed.ok ? { ok: true, sources: wouldBeBlocked(port, listed.flows) } : listed;
}

export async function killEstablished(fleet: Fleet, change: NodeChange): Promise<KillResult> {
  const deleted: { port: number; protocol: string; source: string }[] = [];
  const errors: string[] = [];
  const run = (req: Parameters<Run>[1]) => fleet.run(change.node, req);
  // The guard the change installs: an apply that switches to the nft guard removes iptables chains.
  const guard = change.nft?.policy ?? change.desired;
  for (const port of guard.ports) {
    if (port.mode !== 'enforce') continue;
    for (const f of guard.families) {
      const listed = await listBlockedSources(run, change.node, port, f.family);
      if (!listed.ok) {
        errors.push(listed.message);
        continue;
      }
      for (const s of listed.sources) {
        const r = await run({
          op: 'conntrack -D',
          argv: [
            'conntrack',
            '-D',
            '-f',
            f.family,
            '-p',
            port.protocol,
            '--orig-port-dst',
            String(port.port),
            '-s',
            s.source,
          ],
          okExitCodes: [0, 1],
        });
        if (r.ok) deleted.push({ port: port.port, protocol: port.protocol, source: s.source });
        else errors.push(explain(r.error));
      }
    }
  }
  return { deleted, errors };
}
