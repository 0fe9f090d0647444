// Verify's read of a node, with a shortcut for the repeats of one session (verify --watch, the
// desktop's refresh). The second verify of a session on a node lists our chains through the
// node's resident nft (nft-resident.ts: rule handles and counters) before its guard read; later
// verifies ask for the same listing while QUICK_SCRIPT reads sockets and pending state (one
// process on the node instead of a dozen, each ~4-9 ms of CPU on a small VM) and, when the
// listing is unchanged but for counters, reuse the read with the new counters. Any difference, a
// node without nft or with the legacy backend, or a failure: a full guard read, as without it.
//
// The one thing nft cannot show is the text of an iptables comment (an opaque xt match): a rule
// replaced in place (`iptables -R`) with only its comment changed keeps its handle and looks the
// same. Comments are labels, not behaviour; still, a listing stands in for a read for at most
// QUICK_MAX_AGE_MS, then the next verify reads in full again.

import { GUARD_CHAIN_PATTERN, type GuardBackend } from '../../shared/vocabulary.js';
import type { NodeStepContext, StepOutcome } from '../fleet/index.js';
import { refreshedOutput } from './nft-listing.js';
import { NFT_RESIDENTS, nftListRequest } from './nft-resident.js';
import { QUICK_SCRIPT } from './node-scripts.js';
import { parseScriptOutput, type ScriptOutput } from './sections.js';
import { type CachedGuardRead, type ListedGuardRead, type ReadError, readNodeOutput } from './session.js';
import { type NodeSnapshot, snapshotFromOutput } from './snapshot.js';

/** How long a full read may be reused through nft listings (see above). */
export const QUICK_MAX_AGE_MS = 30_000;

export async function readForVerify(
  ctx: Pick<NodeStepContext, 'run' | 'ask'>,
  node: string,
  chains: readonly string[],
  cache: Map<string, CachedGuardRead> | undefined,
  maxAgeMs = QUICK_MAX_AGE_MS,
  prefer: GuardBackend = 'iptables',
): Promise<StepOutcome<NodeSnapshot, ReadError>> {
  const wanted = chains.filter((c) => GUARD_CHAIN_PATTERN.test(c));
  const key = wanted.join(' ');
  const hit = cache?.get(node);
  if (hit && hit !== 'once' && hit.wanted === key && Date.now() - hit.at <= maxAgeMs) {
    const [q, listing] = await Promise.all([
      ctx.run({ op: 'read (quick)', argv: ['sh', '-c', QUICK_SCRIPT, 'npg-quick'], readOnly: true }),
      listChains(ctx, hit.listed),
    ]);
    if (q.ok && listing !== undefined) {
      const merged = refreshedOutput(hit.out, withListing(parseScriptOutput(q.stdout), listing));
      const snap = merged && snapshotFromOutput(node, merged, 'guard', q.stderr, prefer);
      if (snap?.ok) return { ok: true, value: snap.snapshot };
    }
    cache?.delete(node);
  }
  const started = Date.now();
  // First the listing, then the read: a change between the two shows in the next listing.
  const listed = [...new Set(['PREROUTING', 'NPG-PREROUTING', ...wanted])];
  const listing = hit === undefined ? undefined : await listChains(ctx, listed);
  const r = await readNodeOutput(ctx.run, node, 'guard', wanted, prefer);
  if (!r.ok) return r;
  const entry =
    listing === undefined ? undefined : cacheable(withListing(r.value.out, listing), listed, key, started);
  cache?.set(node, entry ?? 'once');
  return { ok: true, value: r.value.snapshot };
}

/** Both families' listings of `chains`, from the node's resident nft; undefined when either failed. */
async function listChains(
  ctx: Pick<NodeStepContext, 'ask'>,
  chains: readonly string[],
): Promise<string | undefined> {
  const answers = await Promise.all(
    (['ip', 'ip6'] as const).map((f) =>
      ctx.ask({ program: NFT_RESIDENTS[f], input: nftListRequest(f, chains) }),
    ),
  );
  return answers.every((a) => a.ok) ? answers.map((a) => (a.ok ? a.stdout : '')).join('') : undefined;
}

function withListing(out: ScriptOutput, listing: string): ScriptOutput {
  return { ...out, sections: new Map([...out.sections, ['nft', { name: 'nft', body: listing, rc: 0 }]]) };
}

/**
 * A guard read that a listing can stand in for: kube-proxy (so our rules) on nft, every chain it
 * read listed, and counters the listing can refresh.
 */
function cacheable(
  out: ScriptOutput,
  listed: readonly string[],
  wanted: string,
  at: number,
): ListedGuardRead | undefined {
  if (out.markers.get('kube-backend')?.[0] !== 'nft') return undefined;
  // The nft guard's table is not in the iptables listing: such a read is never stood in for.
  if (out.markers.has('nft-guard')) return undefined;
  const read = [...(out.markers.get('chains.v4') ?? []), ...(out.markers.get('chains.v6') ?? [])];
  if (!read.every((c) => listed.includes(c))) return undefined;
  if (!refreshedOutput(out, out)) return undefined;
  return { wanted, at, out, listed };
}
