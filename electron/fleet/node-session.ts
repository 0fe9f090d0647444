// The one SSH session a node keeps while the workspace is open. Connects on first use, is reused
// by every later command, and is forgotten when it drops (keepalive failure, sshd restart, network
// cut), so the next command reconnects. Channels per node are limited, below sshd's MaxSessions.
import type { Client } from 'ssh2';
import type { ConnectionPool, HopListener } from './connection-pool';
import type { FleetError } from './errors';
import { raceAbort, Semaphore } from './limits';
import type { ResolvedNode } from './types';

export type SessionClient =
  | { readonly ok: true; readonly client: Client }
  | { readonly ok: false; readonly error: FleetError }
  | { readonly ok: 'cancelled' };

export class NodeSession {
  private current: Client | undefined;
  private closed = false;
  private connecting: Promise<SessionClient> | undefined;
  private readonly hopListeners = new Set<HopListener>();
  readonly channels: Semaphore;

  constructor(
    readonly node: ResolvedNode,
    private readonly pool: ConnectionPool,
    channelsPerNode: number,
  ) {
    this.channels = new Semaphore(channelsPerNode);
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
    client?.end();
  }

  close(): void {
    this.closed = true;
    this.drop();
  }
}
