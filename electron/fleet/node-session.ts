// The one SSH session a node keeps while the workspace is open. Connects on first use, is reused
// by every later command, and is forgotten when it drops (keepalive failure, sshd restart, network
// cut), so the next command reconnects. Channels per node are limited, below sshd's MaxSessions.
// Commands without stdin run in the node's persistent shell (shell-channel.ts) when it is free.
import type { Client } from 'ssh2';
import type { ConnectionPool, HopListener } from './connection-pool';
import type { FleetError } from './errors';
import { type ExecOptions, type ExecOutcome, execCommand } from './exec-command';
import { type OutputLimits, raceAbort, Semaphore } from './limits';
import { type AskOptions, ResidentChannel } from './resident-channel';
import { ShellChannel } from './shell-channel';
import type { ResidentProgram, ResolvedNode } from './types';

export type SessionClient =
  | { readonly ok: true; readonly client: Client }
  | { readonly ok: false; readonly error: FleetError }
  | { readonly ok: 'cancelled' };

/** One command as text for an exec channel's login shell and for the persistent `/bin/sh` (sudo.ts). */
export interface CommandTexts {
  readonly exec: string;
  readonly shell: string;
}

export class NodeSession {
  private current: Client | undefined;
  private closed = false;
  private connecting: Promise<SessionClient> | undefined;
  private readonly hopListeners = new Set<HopListener>();
  private shell:
    | { readonly client: Client; readonly channel: Promise<ShellChannel | { readonly message: string }> }
    | undefined;
  private readonly residents = new Map<
    string,
    {
      readonly client: Client;
      readonly command: string;
      readonly channel: Promise<ResidentChannel | { readonly message: string }>;
    }
  >();
  readonly channels: Semaphore;

  constructor(
    readonly node: ResolvedNode,
    private readonly pool: ConnectionPool,
    channelsPerNode: number,
    private readonly persistentShell: boolean,
  ) {
    this.channels = new Semaphore(channelsPerNode);
  }

  /**
   * Runs a command on `client`: in the persistent shell when it has no stdin and the shell is
   * free, else on an exec channel of its own (a second command at once never waits for the shell).
   */
  async execute(client: Client, command: CommandTexts, options: ExecOptions): Promise<ExecOutcome> {
    if (options.stdin !== undefined || !this.persistentShell)
      return execCommand(client, command.exec, options);
    let entry = this.shell;
    if (entry === undefined || entry.client !== client) {
      this.closeShell();
      entry = { client, channel: ShellChannel.open(client) };
      this.shell = entry;
    }
    const shell = await entry.channel;
    if (!(shell instanceof ShellChannel)) {
      if (this.shell === entry) this.shell = undefined;
      return { status: 'channel-failed', message: `cannot open the node shell: ${shell.message}` };
    }
    if (shell.closed) {
      // Retired after a timeout or cancellation, or ended on the node: start a new one.
      if (this.shell === entry) this.shell = undefined;
      return this.execute(client, command, options);
    }
    if (!shell.idle) return execCommand(client, command.exec, options);
    return shell.run(command.shell, options);
  }

  /** Asks `program`'s resident on this connection, starting it on first use. */
  async ask(
    client: Client,
    program: ResidentProgram,
    command: string,
    input: string,
    options: AskOptions & { readonly limits?: OutputLimits },
  ): Promise<ExecOutcome> {
    let entry = this.residents.get(program.name);
    if (entry === undefined || entry.client !== client || entry.command !== command) {
      this.closeResident(program.name);
      entry = { client, command, channel: ResidentChannel.open(client, command, program, options.limits) };
      this.residents.set(program.name, entry);
    }
    const resident = await entry.channel;
    if (!(resident instanceof ResidentChannel)) {
      if (this.residents.get(program.name) === entry) this.residents.delete(program.name);
      return { status: 'channel-failed', message: `cannot start ${program.name}: ${resident.message}` };
    }
    const outcome = await resident.ask(input, options);
    // Retired (timeout, cancel) or ended on the node: the next ask starts it again.
    if (resident.closed && this.residents.get(program.name) === entry) this.residents.delete(program.name);
    return outcome;
  }

  private closeResident(name: string): void {
    const entry = this.residents.get(name);
    this.residents.delete(name);
    void entry?.channel.then((r) => {
      if (r instanceof ResidentChannel) r.close();
    });
  }

  private closeShell(): void {
    const entry = this.shell;
    this.shell = undefined;
    void entry?.channel.then((s) => {
      if (s instanceof ShellChannel) s.close();
    });
  }

  /** The open client, connecting first if needed; concurrent callers share one connect. */
  async client(signal: AbortSignal | undefined, onHop: HopListener): Promise<SessionClient> {
    if (this.current !== undefined) return { ok: true, client: this.current };
    this.hopListeners.add(onHop);
    this.connecting ??= this.connect();
    const result = await raceAbort(this.connecting, signal);
    this.hopListeners.delete(onHop);
    return result === 'aborted' ? { ok: 'cancelled' } : result;
  }

  private async connect(): Promise<SessionClient> {
    const result = await this.pool.connectNode(this.node, (hop) => {
      for (const listener of this.hopListeners) listener(hop);
    });
    this.connecting = undefined;
    if (!result.ok) return result;
    const client = result.client;
    if (this.closed) {
      client.end();
      return { ok: 'cancelled' };
    }
    this.current = client;
    client.once('close', () => {
      if (this.current === client) this.current = undefined;
    });
    return { ok: true, client };
  }

  /** Drops the connection (after a failure that suggests it is dead); the next use reconnects. */
  drop(): void {
    const client = this.current;
    this.current = undefined;
    this.closeShell();
    for (const name of [...this.residents.keys()]) this.closeResident(name);
    client?.end();
  }

  close(): void {
    this.closed = true;
    this.drop();
  }
}
