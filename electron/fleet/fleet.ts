// The fleet: every node of the open workspace, one SSH session each, and the one chokepoint for
// running remote commands (run). runOnAll drives a step on many nodes at once, under the
// concurrency limit, with progress events and per-node results in inventory order.

import { getMaxListeners, setMaxListeners } from 'node:events';
import type { Client } from 'ssh2';
import { checkArgv } from './command-policy';
import { ConnectionPool } from './connection-pool';
import { type CredentialSources, KeyStore } from './credentials';
import { type FleetError, fleetError } from './errors';
import type { ExecOutcome } from './exec-command';
import { DEFAULT_OUTPUT_LIMITS, NodeGate, type OutputLimits } from './limits';
import { NodeSession } from './node-session';
import { classifySudoFailure, commandText, NODE_TIMEOUT_EXIT, shellCommandText } from './sudo';
import type {
  AskRequest,
  HostKeyAcceptedListener,
  ProgressEvent,
  ProgressListener,
  ResolvedNode,
  RunRequest,
  RunResult,
  UnknownHostKeyDecider,
} from './types';

/** Abort listeners one node's step may hold on the caller's signal at once (gate, channel, command). */
const LISTENERS_PER_NODE = 4;

export interface FleetOptions {
  /** In inventory order; results of runOnAll come back in this order. */
  readonly nodes: readonly ResolvedNode[];
  readonly knownHostsPath: string;
  /** Asked about keys known_hosts lacks; without it, unknown keys are refused. */
  readonly onUnknownHostKey?: UnknownHostKeyDecider;
  /** Told of every key trusted on first use (recorded or once), to announce it with its fingerprint. */
  readonly onHostKeyAccepted?: HostKeyAcceptedListener;
  readonly credentials?: CredentialSources;
  /** Nodes worked on at once (default 32). */
  readonly concurrency?: number;
  /** Commands at once on one node (default 4; OpenSSH's MaxSessions is 10). */
  readonly channelsPerNode?: number;
  /** TCP + key exchange + authentication, per hop (default 15 s; paused while a person decides on a host key). */
  readonly connectTimeoutMs?: number;
  /** Default limit for one command (default 120 s). */
  readonly stepTimeoutMs?: number;
  /** Bytes one command may return per stream before we stop reading (default limits.ts). */
  readonly outputLimits?: OutputLimits;
  /** SSH keepalive interval (default 15 s) and unanswered count before the session drops (default 3). */
  readonly keepaliveIntervalMs?: number;
  readonly keepaliveCountMax?: number;
  /** Record accepted host keys hashed (default false: plain, so people can review the file). */
  readonly hashRecordedHostKeys?: boolean;
  /**
   * Run commands without stdin in one long-lived shell per node instead of an exec channel each
   * (default true). Off only for servers that answer exec requests themselves (the unit tests').
   */
  readonly persistentShell?: boolean;
}

export interface RunOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
}

export type StepOutcome<T, E = never> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: E | FleetError };

export type NodeResult<T, E = never> =
  | { readonly node: string; readonly ok: true; readonly value: T; readonly durationMs: number }
  | {
      readonly node: string;
      readonly ok: false;
      readonly error: E | FleetError;
      readonly durationMs: number;
    };

export interface NodeStepContext {
  readonly node: ResolvedNode;
  readonly signal: AbortSignal | undefined;
  /** fleet.run on this node, with this runOnAll's signal and progress listener. */
  readonly run: (request: RunRequest) => Promise<RunResult>;
  /** fleet.ask on this node, likewise. */
  readonly ask: (request: AskRequest) => Promise<RunResult>;
}

export type NodeStep<T, E = never> = (ctx: NodeStepContext) => Promise<StepOutcome<T, E>>;

const DEFAULTS = {
  concurrency: 32,
  channelsPerNode: 4,
  connectTimeoutMs: 15_000,
  stepTimeoutMs: 120_000,
  keepaliveIntervalMs: 15_000,
  keepaliveCountMax: 3,
} as const;

export class Fleet {
  /** Node names in inventory order. */
  readonly nodeNames: readonly string[];
  private readonly sessions: ReadonlyMap<string, NodeSession>;
  private readonly order: ReadonlyMap<string, number>;
  private readonly gate: NodeGate;
  private readonly pool: ConnectionPool;
  private readonly stepTimeoutMs: number;
  private readonly limits: OutputLimits;
  private closed = false;

  constructor(options: FleetOptions) {
    this.pool = new ConnectionPool({
      knownHostsPath: options.knownHostsPath,
      ...(options.onUnknownHostKey === undefined ? {} : { onUnknownHostKey: options.onUnknownHostKey }),
      ...(options.onHostKeyAccepted === undefined ? {} : { onHostKeyAccepted: options.onHostKeyAccepted }),
      hashRecordedHostKeys: options.hashRecordedHostKeys ?? false,
      credentials: options.credentials ?? {},
      keys: new KeyStore(options.credentials?.getPassphrase),
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      keepaliveIntervalMs: options.keepaliveIntervalMs ?? DEFAULTS.keepaliveIntervalMs,
      keepaliveCountMax: options.keepaliveCountMax ?? DEFAULTS.keepaliveCountMax,
    });
    const channels = options.channelsPerNode ?? DEFAULTS.channelsPerNode;
    const shell = options.persistentShell ?? true;
    this.sessions = new Map(
      options.nodes.map((n) => [n.name, new NodeSession(n, this.pool, channels, shell)]),
    );
    this.nodeNames = options.nodes.map((n) => n.name);
    this.order = new Map(this.nodeNames.map((n, i) => [n, i]));
    this.gate = new NodeGate(options.concurrency ?? DEFAULTS.concurrency);
    this.stepTimeoutMs = options.stepTimeoutMs ?? DEFAULTS.stepTimeoutMs;
    this.limits = options.outputLimits ?? DEFAULT_OUTPUT_LIMITS;
  }

  node(name: string): ResolvedNode | undefined {
    return this.sessions.get(name)?.node;
  }

  /** Runs one command on one node: the chokepoint every remote command goes through. */
  async run(node: string, request: RunRequest, options: RunOptions = {}): Promise<RunResult> {
    const started = Date.now();
    const result = await this.runOn(node, request, options.signal, options.onProgress);
    emit(
      options.onProgress,
      result.ok
        ? { node, phase: 'done', durationMs: Date.now() - started }
        : { node, phase: 'failed', message: result.error.message, durationMs: Date.now() - started },
    );
    return result;
  }

  /** Asks a node's resident program (started on first use, kept while the connection lasts). */
  async ask(node: string, request: AskRequest, options: RunOptions = {}): Promise<RunResult> {
    return this.askOn(node, request, options.signal, options.onProgress);
  }

  /**
   * Runs `step` on each node, at most `concurrency` nodes at a time. Every node gets a result, in
   * inventory order (names not in the inventory come last, as invalid-request failures).
   */
  async runOnAll<T, E extends { readonly message: string } = never>(
    nodes: readonly string[],
    step: NodeStep<T, E>,
    options: RunOptions = {},
  ): Promise<readonly NodeResult<T, E>[]> {
    const unique = [...new Set(nodes)];
    const rank = (n: string) => this.order.get(n) ?? Number.MAX_SAFE_INTEGER;
    const ordered = unique.sort((a, b) => rank(a) - rank(b));
    // Every node waits on the caller's one signal (gate, channel, command): a few listeners per
    // node, each removed when done. Node's default limit of 10 calls that a leak from the 11th
    // node on (MaxListenersExceededWarning from discover, apply, verify --watch).
    if (options.signal) {
      const wanted = ordered.length * LISTENERS_PER_NODE + 10;
      if (getMaxListeners(options.signal) < wanted) setMaxListeners(wanted, options.signal);
    }
    return Promise.all(ordered.map((name) => this.stepOn(name, step, options)));
  }

  private async stepOn<T, E extends { readonly message: string }>(
    name: string,
    step: NodeStep<T, E>,
    { signal, onProgress }: RunOptions,
  ): Promise<NodeResult<T, E>> {
    const started = Date.now();
    const finish = (outcome: StepOutcome<T, E>): NodeResult<T, E> => {
      const durationMs = Date.now() - started;
      if (outcome.ok) {
        emit(onProgress, { node: name, phase: 'done', durationMs });
        return { node: name, ok: true, value: outcome.value, durationMs };
      }
      emit(onProgress, { node: name, phase: 'failed', message: outcome.error.message, durationMs });
      return { node: name, ok: false, error: outcome.error, durationMs };
    };
    const session = this.sessions.get(name);
    if (session === undefined)
      return finish({
        ok: false,
        error: fleetError.invalidRequest(name, 'step', 'no such node in the inventory'),
      });
    const leave = await this.gate.enter(name, signal);
    if (leave === undefined) return finish({ ok: false, error: fleetError.cancelled(name, 'step') });
    try {
      const ctx: NodeStepContext = {
        node: session.node,
        signal,
        run: (request) => this.runOn(name, request, signal, onProgress),
        ask: (request) => this.askOn(name, request, signal, onProgress),
      };
      return finish(await step(ctx));
    } catch (err) {
      return finish({
        ok: false,
        error: fleetError.internal(name, err instanceof Error ? err.message : String(err)),
      });
    } finally {
      leave();
    }
  }

  private async runOn(
    node: string,
    request: RunRequest,
    signal: AbortSignal | undefined,
    onProgress: ProgressListener | undefined,
  ): Promise<RunResult> {
    const op = typeof request.op === 'string' && request.op !== '' ? request.op : 'command';
    const check = checkArgv(request.argv);
    const timeoutMs = request.timeoutMs ?? this.stepTimeoutMs;
    const session = this.sessions.get(node);
    const sudo = request.sudo ?? session?.node.sudo ?? false;
    const deadlineMs = request.readOnly === true ? undefined : timeoutMs;
    const command = check.ok
      ? {
          exec: commandText(request.argv, sudo, deadlineMs),
          shell: shellCommandText(request.argv, sudo, deadlineMs),
        }
      : undefined;
    return this.onNode(
      node,
      op,
      {
        invalid: check.ok ? undefined : check.reason,
        timeoutMs,
        sudo,
        nodeDeadline: deadlineMs !== undefined,
      },
      request.okExitCodes ?? [0],
      signal,
      onProgress,
      async (s, client) => {
        const release = await s.channels.acquire(signal);
        if (release === undefined) return { status: 'cancelled' };
        try {
          return await s.execute(client, command!, {
            ...(request.stdin === undefined ? {} : { stdin: request.stdin }),
            timeoutMs,
            limits: this.limits,
            ...(signal === undefined ? {} : { signal }),
          });
        } finally {
          release();
        }
      },
    );
  }

  private async askOn(
    node: string,
    request: AskRequest,
    signal: AbortSignal | undefined,
    onProgress: ProgressListener | undefined,
  ): Promise<RunResult> {
    const program = request.program;
    const check = checkArgv(program.argv);
    const timeoutMs = request.timeoutMs ?? this.stepTimeoutMs;
    const sudo = this.sessions.get(node)?.node.sudo ?? false;
    // The program lives as long as the connection: no node-side deadline (sudo.ts).
    const command = check.ok ? commandText(program.argv, sudo, undefined) : '';
    return this.onNode(
      node,
      program.name,
      { invalid: check.ok ? undefined : check.reason, timeoutMs, sudo, nodeDeadline: false },
      [0],
      signal,
      onProgress,
      (s, client) =>
        s.ask(client, program, command, request.input, {
          timeoutMs,
          limits: this.limits,
          ...(signal === undefined ? {} : { signal }),
        }),
    );
  }

  /**
   * The part of run and ask that does not depend on how the command travels: checks, the node
   * gate, connecting, one retry when a channel cannot open, and the outcome as a RunResult.
   */
  private async onNode(
    node: string,
    op: string,
    how: { invalid: string | undefined; timeoutMs: number; sudo: boolean; nodeDeadline: boolean },
    okCodes: readonly number[],
    signal: AbortSignal | undefined,
    onProgress: ProgressListener | undefined,
    send: (session: NodeSession, client: Client) => Promise<ExecOutcome>,
  ): Promise<RunResult> {
    const started = Date.now();
    const fail = (error: FleetError): RunResult => ({
      ok: false,
      node,
      op,
      error,
      durationMs: Date.now() - started,
    });
    const session = this.sessions.get(node);
    if (session === undefined)
      return fail(fleetError.invalidRequest(node, op, 'no such node in the inventory'));
    if (this.closed) return fail(fleetError.invalidRequest(node, op, 'the fleet is closed'));
    if (how.invalid !== undefined) return fail(fleetError.invalidRequest(node, op, how.invalid));
    const { timeoutMs } = how;
    if (!(timeoutMs > 0)) return fail(fleetError.invalidRequest(node, op, `bad timeout ${timeoutMs}`));

    const leave = await this.gate.enter(node, signal);
    if (leave === undefined) return fail(fleetError.cancelled(node, op));
    try {
      // A channel that cannot open means the command never started, so one retry on a fresh
      // connection is safe (typically a connection that died before keepalive noticed).
      for (let attempt = 0; ; attempt++) {
        const got = await session.client(signal, (hop) =>
          emit(onProgress, { node, phase: 'connecting', hop }),
        );
        if (got.ok === 'cancelled') return fail(fleetError.cancelled(node, op));
        if (!got.ok) return fail(got.error);
        emit(onProgress, { node, phase: 'running', op });
        const outcome = await send(session, got.client);
        switch (outcome.status) {
          case 'exited': {
            const stdout = outcome.stdout.toString('utf8');
            const stderr = outcome.stderr.toString('utf8');
            if (outcome.code !== null && okCodes.includes(outcome.code)) {
              return {
                ok: true,
                node,
                op,
                stdout,
                stderr,
                code: outcome.code,
                durationMs: Date.now() - started,
              };
            }
            if (outcome.code === NODE_TIMEOUT_EXIT && how.nodeDeadline)
              return fail(fleetError.timeout(node, 'run', op, timeoutMs));
            const denial = how.sudo ? classifySudoFailure(outcome.code, stderr) : undefined;
            if (denial !== undefined)
              return fail(fleetError.sudoDenied(node, session.node.user, denial, stderr));
            return fail(fleetError.exitCode(node, op, outcome.code, outcome.signal, stdout, stderr));
          }
          case 'timeout':
            return fail(fleetError.timeout(node, 'run', op, timeoutMs));
          case 'cancelled':
            return fail(fleetError.cancelled(node, op));
          case 'output-exceeded':
            return fail(fleetError.outputExceeded(node, op, outcome.stream, outcome.limitBytes));
          case 'connection-lost':
            session.drop();
            return fail(fleetError.connectionLost(node, op, outcome.message, !how.nodeDeadline));
          case 'channel-failed':
            session.drop();
            if (attempt === 0) continue;
            return fail(fleetError.connectFailed(node, node, `cannot open a channel: ${outcome.message}`));
        }
      }
    } finally {
      leave();
    }
  }

  /** Closes one node's session (the next command reconnects). */
  disconnect(node: string): void {
    this.sessions.get(node)?.drop();
  }

  /** Closes every session and bastion connection; later runs fail with invalid-request. */
  async close(): Promise<void> {
    this.closed = true;
    for (const session of this.sessions.values()) session.close();
    await this.pool.close();
  }
}

function emit(listener: ProgressListener | undefined, event: ProgressEvent): void {
  if (listener === undefined) return;
  try {
    listener(event);
  } catch {
    // A broken progress display must not break the operation it displays.
  }
}
