// The fleet's data at its boundaries: where a node is and how to reach it, what a caller asks to
// run, and what comes back. Everything is readonly; results and errors are discriminated unions.
import type { FleetError } from './errors';

/** One SSH endpoint after inventory, defaults and ~/.ssh/config are merged. */
export interface SshHop {
  /** Inventory name (node or jump host), or the ProxyJump text for hops from ~/.ssh/config. */
  readonly name: string;
  /** Address or DNS name to connect to; also the name looked up in known_hosts. */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Private key files to offer, in order (absolute paths). */
  readonly identityFiles: readonly string[];
  /**
   * True when identityFiles came from the workspace or ssh config. When false they are OpenSSH's
   * default files (~/.ssh/id_ed25519, id_ecdsa, id_rsa), and a missing one is not an error.
   */
  readonly identityFilesExplicit: boolean;
}

export interface ResolvedNode extends SshHop {
  /** Run commands through `sudo -n` (non-root users). */
  readonly sudo: boolean;
  /** Bastions, outermost first: we connect to jumps[0], tunnel to jumps[1], ..., then to the node. */
  readonly jumps: readonly SshHop[];
}

/** A remote command, as data: never a shell string. */
export interface RunRequest {
  /** Operation name for progress and logs, e.g. 'iptables-save'. */
  readonly op: string;
  /** argv[0] from ALLOWED_COMMANDS; every element is quoted by quoteShellArg. */
  readonly argv: readonly string[];
  readonly stdin?: string | Buffer;
  /** Exit codes that count as success (default [0]). */
  readonly okExitCodes?: readonly number[];
  /** Limit for this command once the connection is up (default: the fleet's step timeout). */
  readonly timeoutMs?: number;
  /** Overrides the node's sudo setting (e.g. false for `id`, which needs no rights). */
  readonly sudo?: boolean;
  /**
   * The command only reads: when we stop waiting (timeout, cancel), letting it run to its end on
   * the node harms nothing, so it runs without the node-side `timeout` wrapper (see sudo.ts).
   */
  readonly readOnly?: boolean;
}

/**
 * A program a node keeps running on a channel of its own while the connection lasts, answering
 * requests on its stdin (Fleet.ask). Its stdout is the answers; its framing is ours to define.
 */
export interface ResidentProgram {
  /** One resident per node and name; the op name in progress and errors. */
  readonly name: string;
  /** Started like any command (checkArgv, sudo), without a node-side deadline. */
  readonly argv: readonly string[];
  /** Text sent after each request that makes the program print something holding `nonce`. */
  readonly endRequest: (nonce: string) => string;
  /**
   * The answer's length in `output` once everything the end request prints has arrived;
   * undefined until then. `newFrom`: where the bytes not seen by the previous call begin, so a
   * long answer arriving in many chunks is scanned once, not once per chunk (search from a little
   * before it, as far back as the end text can start).
   */
  readonly answerLength: (output: Buffer, nonce: string, newFrom: number) => number | undefined;
}

export interface AskRequest {
  readonly program: ResidentProgram;
  readonly input: string;
  /** Limit for this answer (default: the fleet's step timeout). */
  readonly timeoutMs?: number;
}

export interface RunSuccess {
  readonly ok: true;
  readonly node: string;
  readonly op: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
  readonly durationMs: number;
}

export interface RunFailure {
  readonly ok: false;
  readonly node: string;
  readonly op: string;
  readonly error: FleetError;
  readonly durationMs: number;
}

export type RunResult = RunSuccess | RunFailure;

export type ProgressEvent =
  | { readonly node: string; readonly phase: 'connecting'; readonly hop: string }
  | { readonly node: string; readonly phase: 'running'; readonly op: string }
  | { readonly node: string; readonly phase: 'done'; readonly durationMs: number }
  | {
      readonly node: string;
      readonly phase: 'failed';
      readonly message: string;
      readonly durationMs: number;
    };

export type ProgressListener = (event: ProgressEvent) => void;

/** Where the host key decision is asked for: a node, or a bastion on the way to one. */
export interface HostKeySubject {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly role: 'node' | 'jump-host';
  /** For a jump host: the node whose connection needed it. */
  readonly forNode: string;
}

/** `accept-once`: trust the key for this connection only, without recording it (the UI's "trust once"). */
export type HostKeyDecision = 'accept-and-record' | 'accept-once' | 'reject';

/** Asked when a host presents a key that known_hosts does not have (never for a changed key). */
export type UnknownHostKeyDecider = (
  subject: HostKeySubject,
  fingerprint: string,
  keyType: string,
) => Promise<HostKeyDecision>;

/** A host key trusted on first use: announced to the operator, as OpenSSH does. */
export interface HostKeyAccepted {
  readonly subject: HostKeySubject;
  readonly keyType: string;
  readonly fingerprint: string;
  /** true: appended to known_hosts; false: trusted for this connection only. */
  readonly recorded: boolean;
  readonly knownHostsPath: string;
  /**
   * One line naming the node, in OpenSSH's words plus the fingerprint: `node1: Warning:
   * Permanently added '[198.18.0.11]:2222' (ED25519) to the list of known hosts (path): SHA256:...`.
   */
  readonly message: string;
}

export type HostKeyAcceptedListener = (event: HostKeyAccepted) => void;
