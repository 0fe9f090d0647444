// A node as read by READ_SCRIPT, turned into typed data (pure): both families' nat tables and our
// guard state in them, kube-proxy's mode and backend, the node's addresses and listening ports, and
// what our node-side directory holds (saved state, a pending commit-confirmed change).

import {
  type DataplaneVerdict,
  iptablesSignsFromSave,
  mergeNodeSigns,
  type NodeSigns,
  parseSignEvents,
  recognizeDataplane,
  signsFromRuleset,
} from '../../shared/dataplane/index.js';
import {
  isNoSuchTableError,
  NFT_STATE_ABSENT,
  type NftBaseChain,
  type NftGuardState,
  type NftReadResult,
  parseNftBaseChains,
  parseNftGuardTable,
} from '../../shared/guard/nft/index.js';
import { parseSavedState } from '../../shared/guard/saved-state.js';
import { type ExtractResult, extractGuardState, type FamilyGuardState } from '../../shared/guard/state.js';
import type { ListeningPort } from '../../shared/guard/warnings.js';
import type { Topology } from '../../shared/kube/index.js';
import { type Backend, parseIptablesSave, type Ruleset } from '../../shared/netfilter/index.js';
import { inspectNftDump } from '../../shared/nftables/index.js';
import { firstVisibleLine } from '../../shared/text/visible.js';
import type { Family, GuardBackend, ProxyMode } from '../../shared/vocabulary.js';
import { inspectDump } from './inspect.js';
import { nodePortsFromChain, nodePortsFromIpsets } from './nodeport-listing.js';
import { markerValue, type ScriptOutput } from './sections.js';

/** Which restore/save binaries the change script runs: kube-proxy's backend, or the node's default. */
export type ToolBackend = 'nft' | 'legacy' | 'default';

export interface FamilySnapshot {
  readonly family: Family;
  /** The dump as read (with counters): iptables-save output, or `iptables -S -v` excerpts. */
  readonly text: string;
  readonly ruleset: Ruleset;
  readonly state: FamilyGuardState;
  /** What the change script compares before changing anything (see guardExcerpt). */
  readonly excerpt: string;
  /** plan/guard reads: the chains read, in order (the change script reads them again to compare). */
  readonly chains?: readonly string[];
  /** kube-proxy's view of this family (full reads only). */
  readonly topology?: Topology;
  /** kube-proxy's NodePorts in this family (full and plan reads). */
  readonly nodePorts?: readonly ListeningPort[];
  /** `ipset list` of a full read in ipvs mode: a trace on this read evaluates `-m set` with it. */
  readonly ipsets?: { readonly text: string; readonly source: string };
  /** kube-proxy's nft table of this family as listed (`nft -j`; full reads in nftables mode): traces walk it. */
  readonly nft?: { readonly text: string; readonly source: string };
}

export interface PendingConfirm {
  readonly token: string;
  /** Node clock, seconds since the epoch. */
  readonly deadline?: number;
  readonly timer?: string;
}

export type { GuardBackend };

/** Our nft table as read (`nft -j list table inet nodeport-guard`), and the node's base chains. */
export interface NftGuardRead {
  /** Absent (nft: no such table) is a value, not an error. */
  readonly table: NftReadResult<NftGuardState>;
  /** `nft -j list chains` (guard reads): verify's priority check. */
  readonly chains?: NftReadResult<readonly NftBaseChain[]>;
  /** What the change script compares under the lock: the listing without counters, or `absent`. */
  readonly excerpt: string;
}

export interface NodeSnapshot {
  readonly node: string;
  readonly dir: string;
  readonly uid?: number;
  readonly toolBackend: ToolBackend;
  /** The backend kube-proxy writes to (hint, else the dump's header). */
  readonly kubeBackend: Backend;
  readonly mode: ProxyMode;
  readonly families: readonly FamilySnapshot[];
  /**
   * The guard this node takes: nft in kube-proxy's nftables mode (where an iptables guard does
   * nothing), and where the workspace asks for it and the node has nft (guardBackendOf); else iptables.
   */
  readonly guardBackend: GuardBackend;
  /** Our nft table, where the read looked (nftables mode; every full read). */
  readonly nftGuard?: NftGuardRead;
  /** Families the guard must cover on this node (ipv6 only where the node has IPv6). */
  readonly guardFamilies: readonly Family[];
  /** Global addresses of the node's interfaces (not loopback), without prefix length. */
  readonly addresses: readonly string[];
  readonly listening: readonly ListeningPort[];
  /** The address this machine reached the node from, as the node saw it (SSH_CONNECTION). */
  readonly sshClient?: string;
  readonly saved: {
    readonly ipv4?: string;
    readonly ipv6?: string;
    /** The nft guard's saved state (serializeNftSavedState). */
    readonly nft?: string;
    readonly meta?: string;
  };
  readonly pending?: PendingConfirm;
  readonly lastExpired?: { readonly token: string; readonly at: number; readonly rc: number };
  readonly nodeTime?: number;
  /** Our chains also exist in this other iptables backend than kube-proxy's. */
  readonly guardOtherBackend?: Backend;
  /** Who serves NodePorts here, and whether a netfilter guard sees them (full and plan reads). */
  readonly dataplane?: DataplaneVerdict;
  readonly warnings: readonly string[];
}

/** saved.meta: which change saved the state (one JSON line written by the engine). */
export interface SavedMeta {
  readonly op: string;
  readonly token: string;
  readonly time: string;
  readonly operator?: string;
}

export function parseSavedMeta(text: string | undefined): SavedMeta | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text.trim()) as Partial<SavedMeta>;
    if (typeof v.token === 'string' && typeof v.time === 'string' && typeof v.op === 'string')
      return {
        op: v.op,
        token: v.token,
        time: v.time,
        ...(typeof v.operator === 'string' ? { operator: v.operator } : {}),
      };
  } catch {
    // not ours or torn: treated as absent
  }
  return undefined;
}

export type SnapshotResult =
  | { readonly ok: true; readonly snapshot: NodeSnapshot }
  | { readonly ok: false; readonly message: string };

const FAMILY_SECTION: Readonly<Record<Family, string>> = { ipv4: 'v4', ipv6: 'v6' };
const SAVE_TOOL: Readonly<Record<Family, string>> = { ipv4: 'iptables-save', ipv6: 'ip6tables-save' };
const NFT_FAMILY: Readonly<Record<Family, string>> = { ipv4: 'ip', ipv6: 'ip6' };

const EXCERPT_LINE = /^(:NPG-|-A PREROUTING |-A NPG-|-A [^ ]+ .*-[jg] NPG-)/;

/**
 * The lines of a nat dump that the guard's state depends on, without counters: PREROUTING, our
 * chains, and rules that jump to them. The change script computes the same text from a fresh
 * `iptables-save -t nat` under the node lock (sed + grep in CHANGE_SCRIPT); a difference means the
 * plan is stale. Both sides must stay in step.
 */
export function guardExcerpt(dump: string): string {
  const out: string[] = [];
  for (const raw of dump.split('\n')) {
    const line = raw.replace(/^\[[0-9]*:[0-9]*\] /, '').replace(/^(:[^ ]* [^ ]*) \[[0-9]*:[0-9]*\]$/, '$1');
    if (EXCERPT_LINE.test(line)) out.push(line);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

/** nft -j's counters (`"packets": N, "bytes": N`); CHANGE_SCRIPT's nftex strips the same with sed. */
const NFT_COUNTERS = /"packets": [0-9]*, "bytes": [0-9]*/g;

/** The nft guard listing as the change script compares it: without counters; `absent` for no table. */
export function nftExcerpt(listing: string | undefined): string {
  return listing === undefined ? 'absent\n' : listing.replace(NFT_COUNTERS, '');
}

/** The read's nft.guard / nft.chains sections, when the read looked for our table. */
export function nftGuardOf(out: ScriptOutput): NftGuardRead | undefined {
  if (markerValue(out, 'nft-guard') !== 'read') return undefined;
  const sec = out.sections.get('nft.guard');
  let table: NftReadResult<NftGuardState>;
  let excerpt = '';
  if (!sec) table = unreadable('the node script printed no listing of our nft table');
  else if (sec.rc === 0) {
    table = parseNftGuardTable(sec.body);
    excerpt = nftExcerpt(sec.body);
  } else if (isNoSuchTableError(sec.body)) {
    table = { ok: true, value: NFT_STATE_ABSENT };
    excerpt = nftExcerpt(undefined);
  } else table = unreadable(`nft -j list table failed (exit ${sec.rc}): ${firstVisibleLine(sec.body)}`);
  const c = out.sections.get('nft.chains');
  const chains: NftReadResult<readonly NftBaseChain[]> | undefined = !c
    ? undefined
    : c.rc === 0
      ? parseNftBaseChains(c.body)
      : unreadable(`nft -j list chains failed (exit ${c.rc}): ${firstVisibleLine(c.body)}`);
  return { table, ...(chains ? { chains } : {}), excerpt };
}

function unreadable<T>(message: string): NftReadResult<T> {
  return { ok: false, error: { kind: 'bad-shape', message } };
}

/**
 * The `iptables -S -v` excerpt of a plan/guard read without counters: what `iptables -S` of the
 * same chains prints, which is what the change script compares. iptables puts ` -c PKTS BYTES`
 * last before the target, so the last occurrence on a line is the counter (a comment could hold
 * the same text earlier).
 */
export function withoutCounters(text: string): string {
  return text.replace(/^(.*) -c \d+ \d+/gm, '$1');
}

/**
 * Listening sockets from /proc/net/{tcp,udp}{,6} lines as `grep` prints them for several files
 * (`/proc/net/tcp:   0: 0A1013C6:1F90 00000000:0000 0A ...`): TCP in state 0A (LISTEN), UDP in
 * 07 (unconnected, what `ss -l` lists). Ports are hex.
 */
export function parseListening(text: string): ListeningPort[] {
  const out: ListeningPort[] = [];
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    const m =
      /^\/proc\/net\/(tcp|udp)6?: *\d+: [0-9A-F]+:([0-9A-F]{4}) [0-9A-F]+:[0-9A-F]{4} ([0-9A-F]{2}) /.exec(
        line,
      );
    if (!m) continue;
    const protocol = m[1] as 'tcp' | 'udp';
    if (m[3] !== (protocol === 'tcp' ? '0A' : '07')) continue;
    const port = Number.parseInt(m[2]!, 16);
    const key = `${protocol}/${port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ protocol, port });
  }
  return out;
}

/** `ip -o addr show`: global addresses, loopback excluded (pods and the lab put addresses there). */
export function parseAddresses(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet6?\s+([0-9a-fA-F:.]+)\/\d+\s.*\bscope global\b/.exec(line);
    if (m && m[1] !== 'lo' && m[2]) out.push(m[2]);
  }
  return out;
}

/** The node's own words, one visible line (a node is not trusted: shared/text/visible.ts). */
const firstLine = (text: string): string => firstVisibleLine(text);

/**
 * How much a read covers: every table, the nat table, PREROUTING and our chains plus kube-proxy's
 * NodePort chain (plan), or only PREROUTING and our chains (guard). See READ_SCRIPT.
 */
export type ReadMode = 'full' | 'nat' | 'plan' | 'guard';

/**
 * The guard a node takes: kube-proxy's nftables mode leaves no choice; elsewhere the workspace's
 * choice, where the read found nft on the node (it lists our table wherever nft exists and the
 * choice or the read needs it). A node without nft keeps the iptables guard, and says so.
 */
export function guardBackendOf(
  node: string,
  mode: ProxyMode,
  prefer: GuardBackend,
  nftRead: boolean,
): { readonly backend: GuardBackend; readonly warning?: string } {
  if (mode === 'nftables') return { backend: 'nft' };
  if (prefer === 'iptables') return { backend: 'iptables' };
  if (nftRead) return { backend: 'nft' };
  return {
    backend: 'iptables',
    warning: `${node}: the workspace asks for the nft guard, but the node has no nft: it keeps the iptables guard`,
  };
}

/**
 * `stderr`: the read's own stderr, where a failing command says why. `prefer`: the workspace's guard
 * backend (policy.guardBackend).
 */
export function snapshotFromOutput(
  node: string,
  out: ScriptOutput,
  what: ReadMode,
  stderr = '',
  prefer: GuardBackend = 'iptables',
): SnapshotResult {
  const warnings: string[] = [];
  const kb = markerValue(out, 'kube-backend');
  const toolBackend: ToolBackend = kb === 'nft' || kb === 'legacy' ? kb : 'default';
  const families: FamilySnapshot[] = [];
  let headerBackend: Backend = 'unknown';
  for (const family of ['ipv4', 'ipv6'] as const) {
    const sec = out.sections.get(FAMILY_SECTION[family]);
    if (!sec) {
      if (family === 'ipv4') return { ok: false, message: `${node}: the node script printed no IPv4 dump` };
      continue;
    }
    if (sec.rc !== 0) {
      const err = firstLine(out.sections.get(`${FAMILY_SECTION[family]}.stderr`)?.body ?? stderr);
      const why = `${SAVE_TOOL[family]} failed (exit ${sec.rc})${err ? `: ${err}` : ''}`;
      if (family === 'ipv4') return { ok: false, message: `${node}: ${why}` };
      warnings.push(`${node}: IPv6 not read: ${why}`);
      continue;
    }
    const r = readFamily(node, family, sec.body, what, out);
    if (!r.ok) {
      if (family === 'ipv4') return r;
      warnings.push(r.message);
      continue;
    }
    if (family === 'ipv4') headerBackend = r.value.ruleset.backend;
    families.push(r.value);
  }
  const v4 = families.find((f) => f.family === 'ipv4');
  const v6 = families.find((f) => f.family === 'ipv6');
  const addresses = parseAddresses(out.sections.get('addr')?.body ?? '');
  const hasV6 =
    v6 !== undefined &&
    (addresses.some((a) => a.includes(':')) ||
      v6.ruleset.tables.some((t) => t.name === 'nat' && t.chains.some((c) => c.name === 'KUBE-SERVICES')) ||
      v6.state.kubeServicesAt !== undefined ||
      v6.state.chains.length > 0 ||
      v6.state.entryJumps.length > 0);
  const mode: ProxyMode =
    markerValue(out, 'kube-proxy-nftables') === 'yes'
      ? 'nftables'
      : (v4?.topology?.mode ?? (what === 'plan' ? planMode(out, v4) : 'unknown'));
  const kubeBackend: Backend = toolBackend === 'default' ? headerBackend : toolBackend;
  if (v4?.topology?.backend.otherBackendPresent && toolBackend === 'default') {
    warnings.push(
      `${node}: tables of the other iptables backend exist and kube-proxy's backend hint was not found`,
    );
  }
  const state = (name: string) => {
    const s = out.sections.get(`state:${name}`);
    return s && s.rc === 0 ? s.body : undefined;
  };
  const token = state('pending/token')?.trim();
  const deadline = Number(state('pending/deadline')?.trim());
  const timer = state('pending/timer')?.trim();
  const expired = state('last-expired')?.trim().split(/\s+/);
  const uid = Number(markerValue(out, 'uid'));
  const now = Number(markerValue(out, 'now'));
  const sshClient = markerValue(out, 'ssh-client')?.split(' ')[0];
  const other = markerValue(out, 'guard-other-backend');
  const savedV4 = state('saved.v4');
  const savedV6 = state('saved.v6');
  const savedMeta = state('saved.meta');
  const savedNft = state('saved.nft');
  const nftGuard = nftGuardOf(out);
  const backend = guardBackendOf(node, mode, prefer, nftGuard !== undefined);
  const dataplane = what === 'full' || what === 'plan' ? dataplaneOf(out, what, v4, mode) : undefined;
  if (backend.warning) warnings.push(backend.warning);
  const snapshot: NodeSnapshot = {
    node,
    dir: markerValue(out, 'dir') ?? '',
    ...(Number.isInteger(uid) && markerValue(out, 'uid') ? { uid } : {}),
    toolBackend,
    kubeBackend,
    mode,
    families,
    guardBackend: backend.backend,
    ...(nftGuard ? { nftGuard } : {}),
    guardFamilies: hasV6 ? ['ipv4', 'ipv6'] : ['ipv4'],
    addresses,
    listening: parseListening(out.sections.get('listen')?.body ?? ''),
    ...(sshClient ? { sshClient } : {}),
    saved: {
      ...(savedV4 !== undefined ? { ipv4: savedV4 } : {}),
      ...(savedV6 !== undefined ? { ipv6: savedV6 } : {}),
      ...(savedNft !== undefined ? { nft: savedNft } : {}),
      ...(savedMeta !== undefined ? { meta: savedMeta } : {}),
    },
    ...(token
      ? {
          pending: {
            token,
            ...(Number.isFinite(deadline) && deadline > 0 ? { deadline } : {}),
            ...(timer ? { timer } : {}),
          },
        }
      : {}),
    ...(expired && expired.length >= 3
      ? { lastExpired: { token: expired[0]!, at: Number(expired[1]), rc: Number(expired[2]) } }
      : {}),
    ...(Number.isFinite(now) && now > 0 ? { nodeTime: now } : {}),
    ...(other === 'nft' || other === 'legacy' ? { guardOtherBackend: other } : {}),
    ...(dataplane ? { dataplane } : {}),
    warnings: [...warnings, ...(v4?.topology ? v4.topology.warnings.map((w) => `${node}: ${w}`) : [])],
  };
  return { ok: true, snapshot };
}

/**
 * The dataplane verdict of a full or plan read: the node's own signs (pinned BPF maps, processes,
 * Cilium's config: DATAPLANE_SIGNS_SCRIPT), with the chains the read saw: every table's of a full
 * read; of a plan read only PREROUTING's rules, their jump targets and kube-proxy's NodePort chain,
 * so its names are `unplaced` (the nat table was not read whole: absence proves nothing).
 */
function dataplaneOf(
  out: ScriptOutput,
  what: 'full' | 'plan',
  v4: FamilySnapshot | undefined,
  mode: ProxyMode,
): DataplaneVerdict {
  let chains: NodeSigns = {};
  if (v4 && what === 'full') chains = signsFromRuleset(v4.ruleset);
  else if (v4) {
    const seen = iptablesSignsFromSave(v4.text).unplaced;
    const targets = [...v4.text.matchAll(/ -[jg] ([A-Za-z0-9_.:-]+)/g)].map((m) => m[1]!);
    const np = out.markers.get('nodeport-chain.v4') ?? [];
    chains = { iptables: { tables: {}, unplaced: [...new Set([...seen, ...targets, ...np])] } };
  }
  const nft: NodeSigns = mode === 'nftables' ? { nftTables: ['ip kube-proxy'] } : {};
  return recognizeDataplane(mergeNodeSigns(parseSignEvents(out.events), chains, nft));
}

function readFamily(
  node: string,
  family: Family,
  text: string,
  what: ReadMode,
  out: ScriptOutput,
): { ok: true; value: FamilySnapshot } | { ok: false; message: string } {
  const source = `${node} ${SAVE_TOOL[family]}`;
  const ipset = out.sections.get('ipset');
  const ipvs = out.sections.get('ipvs');
  let ruleset: Ruleset;
  let topology: Topology | undefined;
  const hasNat = /^\*nat$/m.test(text);
  const partial = what === 'guard' || what === 'plan';
  if (what === 'full' && hasNat) {
    const r = inspectDump({
      text,
      source,
      ...(ipset && ipset.rc === 0 ? { ipsets: { text: ipset.body, source: `${node} ipset list` } } : {}),
      ...(ipvs && ipvs.rc === 0 ? { ipvs: { text: ipvs.body, source: `${node} ipvsadm -Ln` } } : {}),
    });
    if (!r.ok) return { ok: false, message: r.message };
    ruleset = r.value.ruleset;
    topology = r.value.topology;
  } else {
    const r = parseIptablesSave(text, { family, ...(partial ? { table: 'nat' } : {}) });
    if (!r.ok) return { ok: false, message: `${source} line ${r.error.line}: ${r.error.message}` };
    ruleset = r.ruleset;
  }
  const extracted: ExtractResult = extractGuardState(ruleset, family, { excerpt: partial });
  if (!extracted.ok) return { ok: false, message: `${node}: ${extracted.error}` };
  const suffix = FAMILY_SECTION[family];
  const chains = partial ? (out.markers.get(`chains.${suffix}`) ?? []) : undefined;
  if (chains !== undefined && chains[0] !== 'PREROUTING')
    return { ok: false, message: `${node}: the node script did not say which ${suffix} chains it read` };
  // kube-proxy's nftables mode: its NodePorts live in its own table, read by the nftables reader.
  let nftListing: { text: string; source: string } | undefined;
  if (what === 'full') {
    const nft = out.sections.get(`nft.${suffix}`);
    if (nft && nft.rc === 0) {
      nftListing = { text: nft.body, source: `${node} nft -j list table ${NFT_FAMILY[family]} kube-proxy` };
      const r = inspectNftDump({ ...nftListing, json: true, family });
      if (!r.ok) return { ok: false, message: r.message };
      topology = r.value.topology;
    }
  }
  const listed =
    what === 'plan'
      ? listedNodePorts(out, family)
      : topology?.nodePorts.map((n) => ({ port: n.port, protocol: n.protocol }));
  return {
    ok: true,
    value: {
      family,
      text,
      ruleset,
      state: extracted.state,
      excerpt: partial ? withoutCounters(text) : guardExcerpt(text),
      ...(chains ? { chains } : {}),
      ...(topology ? { topology } : {}),
      ...(listed ? { nodePorts: listed } : {}),
      ...(what === 'full' && ipset && ipset.rc === 0
        ? { ipsets: { text: ipset.body, source: `${node} ipset list` } }
        : {}),
      ...(nftListing ? { nft: nftListing } : {}),
    },
  };
}

/** kube-proxy's mode from a plan read: which NodePort chain exists, else whether it has rules at all. */
function planMode(out: ScriptOutput, v4: FamilySnapshot | undefined): ProxyMode {
  switch (markerValue(out, 'nodeport-chain.v4')) {
    case 'KUBE-NODEPORTS':
      return 'iptables';
    case 'KUBE-NODE-PORT':
      return 'ipvs';
    default:
      return v4?.state.kubeServicesAt !== undefined ? 'unknown' : 'none';
  }
}

/** NodePorts of a plan read: KUBE-NODEPORTS rules (iptables mode) or the NodePort ipsets (ipvs). */
function listedNodePorts(out: ScriptOutput, family: Family): ListeningPort[] | undefined {
  const suffix = FAMILY_SECTION[family];
  const chain = markerValue(out, `nodeport-chain.${suffix}`);
  if (chain === 'KUBE-NODEPORTS')
    return nodePortsFromChain(out.sections.get(`nodeports.${suffix}`)?.body ?? '');
  if (chain === 'KUBE-NODE-PORT') {
    const ipset = out.sections.get('ipset');
    return ipset && ipset.rc === 0 ? nodePortsFromIpsets(ipset.body, family) : undefined;
  }
  return [];
}

/** The saved state the node holds for rollback, per family, or why it cannot be used. */
export function savedStates(
  snapshot: NodeSnapshot,
): { ok: true; states: FamilyGuardState[] } | { ok: false; message: string } {
  const states: FamilyGuardState[] = [];
  for (const family of ['ipv4', 'ipv6'] as const) {
    const text = snapshot.saved[family];
    if (text === undefined) continue;
    const r = parseSavedState(text, family);
    if (!r.ok) return { ok: false, message: `${snapshot.node}: ${snapshot.dir}/saved: ${r.error}` };
    states.push(r.state);
  }
  if (states.length === 0)
    return {
      ok: false,
      message: `${snapshot.node}: no saved guard state on the node (nothing to roll back to)`,
    };
  return { ok: true, states };
}
