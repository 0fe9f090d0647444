// Verify's read of a node, with a shortcut for the repeats of one session (verify --watch, the
// desktop's refresh). From the second verify of a session on, the guard read also lists our
// chains through nft, with rule handles, before it reads them; later verifies send only
// QUICK_SCRIPT (nft listing, sockets, pending state: 4 processes on the node instead of a dozen,
// each ~4-9 ms of CPU on a small VM) and, when the listing is unchanged but for counters, reuse
// the read with the new counters. Any difference, a node without nft or with the legacy backend,
// or a failure: a full guard read, as without it.
//
// The one thing nft cannot show is the text of an iptables comment (an opaque xt match): a rule
// replaced in place (`iptables -R`) with only its comment changed keeps its handle and looks the
// same. Comments are labels, not behaviour; still, a listing stands in for a read for at most
// QUICK_MAX_AGE_MS, then the next verify reads in full again.
import type { NodeStepContext, StepOutcome } from '../fleet/index.js';
import { refreshedOutput } from './nft-listing.js';
import { QUICK_SCRIPT } from './node-scripts.js';
import { parseScriptOutput, type ScriptOutput } from './sections.js';
import { type ReadError, readNodeOutput } from './session.js';
import { type NodeSnapshot, snapshotFromOutput } from './snapshot.js';

/** How long a full read may be reused through nft listings (see above). */
export const QUICK_MAX_AGE_MS = 30_000;

/**
 * Per node: `once` after a first verify (a single `npg verify` never pays for a listing it will
 * not use); the second verify of the session reads with the listing, later ones compare.
 */
export type CachedGuardRead = 'once' | ListedGuardRead;

interface ListedGuardRead {
  /** The chains the policy wanted when it was read: another policy means another read. */
  readonly wanted: string;
  /** When the full read was taken (ms since the epoch). */
  readonly at: number;
  readonly out: ScriptOutput;
  /** QUICK_SCRIPT's arguments: the chains listed, IPv4 then `--` then IPv6. */
  readonly quickArgs: readonly string[];
}

const CHAIN = /^NPG-[A-Z0-9-]+$/;

export async function readForVerify(
  run: NodeStepContext['run'],
  node: string,
  chains: readonly string[],
  cache: Map<string, CachedGuardRead> | undefined,
  maxAgeMs = QUICK_MAX_AGE_MS,
): Promise<StepOutcome<NodeSnapshot, ReadError>> {
  const wanted = chains.filter((c) => CHAIN.test(c));
  const key = wanted.join(' ');
  const hit = cache?.get(node);
  if (hit && hit !== 'once' && hit.wanted === key && Date.now() - hit.at <= maxAgeMs) {
    const q = await run({
      op: 'read (quick)',
      argv: ['sh', '-c', QUICK_SCRIPT, 'npg-quick', ...hit.quickArgs],
    });
    const merged = q.ok ? refreshedOutput(hit.out, parseScriptOutput(q.stdout)) : undefined;
    if (merged && q.ok) {
      const snap = snapshotFromOutput(node, merged, 'guard', q.stderr);
      if (snap.ok) return { ok: true, value: snap.snapshot };
    }
    cache?.delete(node);
  }
  const started = Date.now();
  const nftListing = hit !== undefined;
  const r = await readNodeOutput(run, node, 'guard', wanted, { nftListing });
  if (!r.ok) return r;
  const entry = nftListing ? cacheable(r.value.out, key, started) : undefined;
  cache?.set(node, entry ?? 'once');
  return { ok: true, value: r.value.snapshot };
}

/** A guard read whose nft listing covers every chain it read, and whose counters it can refresh. */
function cacheable(out: ScriptOutput, wanted: string, at: number): ListedGuardRead | undefined {
  const listed4 = out.markers.get('nft-chains.v4') ?? [];
  const listed6 = out.markers.get('nft-chains.v6') ?? [];
  const read4 = out.markers.get('chains.v4') ?? [];
  const read6 = out.markers.get('chains.v6') ?? [];
  if (listed4.length === 0) return undefined;
  if (!read4.every((c) => listed4.includes(c)) || !read6.every((c) => listed6.includes(c))) return undefined;
  // The listing must be able to stand in for the read it was taken with.
  if (!refreshedOutput(out, out)) return undefined;
  return { wanted, at, out, quickArgs: [...listed4, '--', ...listed6] };
}
