// Opening the fleet for a workspace and reading its nodes: the engine's entry to the network.
// Host keys the known_hosts file lacks are refused unless the caller accepts new keys (the CLI's
// --accept-new-host-keys, which records them); a changed key is always refused by the fleet.

import { GUARD_CHAIN_PATTERN, type GuardBackend } from '../../shared/vocabulary.js';
import {
  type CredentialSources,
  type Fleet,
  type FleetError,
  type HostKeyAcceptedListener,
  type HostKeyDecision,
  type NodeResult,
  type NodeStepContext,
  openFleet,
  type ProgressListener,
  type StepOutcome,
  type UnknownHostKeyDecider,
} from '../fleet/index.js';
import { READ_SCRIPT } from './node-scripts.js';
import { parseScriptOutput, type ScriptOutput } from './sections.js';
import { type NodeSnapshot, type ReadMode, snapshotFromOutput } from './snapshot.js';
import type { LoadedWorkspace } from './workspace-file.js';

/**
 * Per node: `once` after a first verify (a single `npg verify` never pays for a listing it will
 * not use); the second verify of the session reads with the listing, later ones compare.
 */
export type CachedGuardRead = 'once' | ListedGuardRead;

export interface ListedGuardRead {
  /** The chains the policy wanted when it was read: another policy means another read. */
  readonly wanted: string;
  /** When the full read was taken (ms since the epoch). */
  readonly at: number;
  /** The read, with the listing taken before it as its `nft` section. */
  readonly out: ScriptOutput;
  /** The chains listed (in both families): later listings ask for the same. */
  readonly listed: readonly string[];
}

export interface SessionOptions {
  /** Record host keys known_hosts does not have yet (the operator checked them). */
  readonly acceptNewHostKeys?: boolean;
  /** ~/.ssh/config by default; null reads none. */
  readonly sshConfigPath?: string | null;
  readonly concurrency?: number;
  readonly connectTimeoutMs?: number;
  readonly stepTimeoutMs?: number;
  /** Only these nodes (inventory names); default all. */
  readonly nodes?: readonly string[];
  /** Asks a person about an unknown host key (the UI's prompt); overrides acceptNewHostKeys. */
  readonly onUnknownHostKey?: UnknownHostKeyDecider;
  /** Told of every host key trusted on first use, to announce it (CLI: stderr; UI: an event). */
  readonly onHostKeyAccepted?: HostKeyAcceptedListener;
  /** Asks a person for an encrypted key's passphrase or a password (the UI's prompt). */
  readonly credentials?: Pick<CredentialSources, 'getPassphrase' | 'getPassword'>;
}

export interface Session {
  readonly fleet: Fleet;
  /** The nodes this session works on, in inventory order. */
  readonly nodes: readonly string[];
  readonly warnings: readonly string[];
  /** Per node, the last guard read and the nft listing taken before it (see verify-read.ts). */
  readonly guardReads?: Map<string, CachedGuardRead>;
  close(): Promise<void>;
}

export type OpenResult =
  | { readonly ok: true; readonly session: Session }
  | { readonly ok: false; readonly message: string };

/** Checks `--node` names against the inventory without touching the network. */
export function selectNodes(
  loaded: LoadedWorkspace,
  wanted: readonly string[] | undefined,
): { ok: true; nodes: string[] } | { ok: false; message: string } {
  const all = loaded.workspace.inventory.nodes.map((n) => n.name);
  if (all.length === 0) return { ok: false, message: `workspace ${loaded.path}: the inventory has no nodes` };
  if (!wanted || wanted.length === 0) return { ok: true, nodes: all };
  const unknown = wanted.filter((n) => !all.includes(n));
  if (unknown.length > 0)
    return { ok: false, message: `--node ${unknown.join(',')}: not in the inventory (${all.join(', ')})` };
  return { ok: true, nodes: all.filter((n) => wanted.includes(n)) };
}

export async function openSession(
  loaded: LoadedWorkspace,
  options: SessionOptions = {},
): Promise<OpenResult> {
  const selected = selectNodes(loaded, options.nodes);
  if (!selected.ok) return selected;
  const decide: UnknownHostKeyDecider =
    options.onUnknownHostKey ??
    (async (): Promise<HostKeyDecision> => (options.acceptNewHostKeys ? 'accept-and-record' : 'reject'));
  const opened = await openFleet(loaded.workspace.inventory, {
    workspaceDir: loaded.dir,
    onUnknownHostKey: decide,
    ...(options.onHostKeyAccepted !== undefined ? { onHostKeyAccepted: options.onHostKeyAccepted } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
    ...(options.sshConfigPath !== undefined ? { sshConfigPath: options.sshConfigPath } : {}),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    ...(options.stepTimeoutMs !== undefined ? { stepTimeoutMs: options.stepTimeoutMs } : {}),
  });
  if (!opened.ok) return { ok: false, message: opened.problems.map((p) => p.message).join('; ') };
  const fleet = opened.fleet;
  return {
    ok: true,
    session: {
      fleet,
      nodes: selected.nodes,
      warnings: opened.warnings,
      guardReads: new Map(),
      close: () => fleet.close(),
    },
  };
}

/** A host key refusal says how to go on. */
export function explain(error: FleetError): string {
  if (error.kind === 'host-key-unknown' && error.reason !== 'cert-authority-unsupported')
    return `${error.message} (pass --accept-new-host-keys to record it)`;
  return error.message;
}

export type ReadError =
  | FleetError
  | { readonly kind: 'unreadable'; readonly node: string; readonly message: string };

/**
 * One node with READ_SCRIPT: `full` for discover, rollback and remove; `plan` to plan an apply;
 * `guard` (+ the chains the policy wants) to verify; `nat` for export.
 */
export async function readNode(
  run: NodeStepContext['run'],
  node: string,
  what: ReadMode,
  chains: readonly string[] = [],
  prefer: GuardBackend = 'iptables',
): Promise<StepOutcome<NodeSnapshot, ReadError>> {
  const r = await readNodeOutput(run, node, what, chains, prefer);
  return r.ok ? { ok: true, value: r.value.snapshot } : r;
}

/**
 * readNode, with the script's parsed output too (verify keeps it to compare later reads with).
 * `prefer`: the workspace's guard backend; nft makes the read list our nft table too.
 */
export async function readNodeOutput(
  run: NodeStepContext['run'],
  node: string,
  what: ReadMode,
  chains: readonly string[] = [],
  prefer: GuardBackend = 'iptables',
): Promise<StepOutcome<{ readonly snapshot: NodeSnapshot; readonly out: ScriptOutput }, ReadError>> {
  const wanted = what === 'guard' ? chains.filter((c) => GUARD_CHAIN_PATTERN.test(c)) : [];
  const arg = prefer === 'nft' && what !== 'full' ? `${what}-nft` : what;
  const r = await run({
    op: `read (${what})`,
    argv: ['sh', '-c', READ_SCRIPT, 'npg-read', arg, ...wanted],
    readOnly: true,
  });
  if (!r.ok) return r;
  const out = parseScriptOutput(r.stdout);
  const snap = snapshotFromOutput(node, out, what, r.stderr, prefer);
  if (!snap.ok) return { ok: false, error: { kind: 'unreadable', node, message: snap.message } };
  return { ok: true, value: { snapshot: snap.snapshot, out } };
}

export async function readNodes(
  session: Session,
  nodes: readonly string[],
  what: ReadMode,
  options: {
    readonly signal?: AbortSignal;
    readonly onProgress?: ProgressListener;
    /** The workspace's guard backend (policy.guardBackend). */
    readonly prefer?: GuardBackend;
  } = {},
): Promise<readonly NodeResult<NodeSnapshot, ReadError>[]> {
  const { prefer, ...run } = options;
  return session.fleet.runOnAll<NodeSnapshot, ReadError>(
    nodes,
    (ctx) => readNode(ctx.run, ctx.node.name, what, [], prefer),
    run,
  );
}

export function readErrorMessage(error: ReadError): string {
  return error.kind === 'unreadable' ? error.message : explain(error);
}
