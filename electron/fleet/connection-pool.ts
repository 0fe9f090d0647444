// Opens the connection to a node, through its bastions. Bastion connections are shared: every
// node behind the same chain tunnels through one connection per hop (keyed by the chain so far),
// which is kept until it drops or the fleet closes. The node connection itself belongs to the
// node's session (node-session.ts).
import type { Duplex } from 'node:stream';
import type { Client } from 'ssh2';
import { connectHop, type HopConnect } from './connect-hop';
import { type CredentialSources, type KeyStore, planAuth } from './credentials';
import { type FleetError, fleetError } from './errors';
import { readKnownHostsFile } from './known-hosts-file';
import type {
  HostKeyAcceptedListener,
  HostKeySubject,
  ResolvedNode,
  SshHop,
  UnknownHostKeyDecider,
} from './types';

export interface PoolSettings {
  readonly knownHostsPath: string;
  readonly onUnknownHostKey?: UnknownHostKeyDecider;
  readonly onHostKeyAccepted?: HostKeyAcceptedListener;
  readonly hashRecordedHostKeys: boolean;
  readonly credentials: CredentialSources;
  readonly keys: KeyStore;
  readonly connectTimeoutMs: number;
  readonly keepaliveIntervalMs: number;
  readonly keepaliveCountMax: number;
}

/** Called as each hop starts connecting, for progress reporting. */
export type HopListener = (hop: string) => void;

/** Errors are built naming the node that asked first; a shared failure is re-told for each node. */
export function errorForNode(error: FleetError, node: string): FleetError {
  if (error.node === node) return error;
  const message = error.message.startsWith(error.node)
    ? node + error.message.slice(error.node.length)
    : error.message;
  return { ...error, node, message };
}

export class ConnectionPool {
  private readonly jumps = new Map<string, Promise<HopConnect>>();
  private closed = false;

  constructor(private readonly settings: PoolSettings) {}

  /** Connects to the node (through its jump hosts); the caller owns the returned client. */
  async connectNode(node: ResolvedNode, onHop: HopListener): Promise<HopConnect> {
    let via: Client | undefined;
    let viaName = '';
    for (const [i, hop] of node.jumps.entries()) {
      const key = node.jumps
        .slice(0, i + 1)
        .map((h) => `${h.user}@${h.host}:${h.port}`)
        .join('>');
      const jump = await this.jumpClient(key, hop, via, viaName, node.name, onHop);
      if (!jump.ok) return { ok: false, error: errorForNode(jump.error, node.name) };
      via = jump.client;
      viaName = hop.name;
    }
    onHop(node.name);
    const subject: HostKeySubject = {
      name: node.name,
      host: node.host,
      port: node.port,
      role: 'node',
      forNode: node.name,
    };
    return this.connect(node, subject, via, viaName);
  }

  private jumpClient(
    key: string,
    hop: SshHop,
    via: Client | undefined,
    viaName: string,
    forNode: string,
    onHop: HopListener,
  ): Promise<HopConnect> {
    const existing = this.jumps.get(key);
    if (existing !== undefined) return existing;
    onHop(hop.name);
    const subject: HostKeySubject = {
      name: hop.name,
      host: hop.host,
      port: hop.port,
      role: 'jump-host',
      forNode,
    };
    const pending = this.connect(hop, subject, via, viaName).then((result) => {
      if (!result.ok || this.closed) {
        this.jumps.delete(key);
        if (result.ok) result.client.end();
        return result;
      }
      result.client.once('close', () => {
        if (this.jumps.get(key) === pending) this.jumps.delete(key);
      });
      return result;
    });
    this.jumps.set(key, pending);
    return pending;
  }

  private async connect(
    hop: SshHop,
    subject: HostKeySubject,
    via: Client | undefined,
    viaName: string,
  ): Promise<HopConnect> {
    if (this.closed)
      return { ok: false, error: fleetError.connectFailed(subject.forNode, hop.name, 'the fleet is closed') };
    const s = this.settings;
    const known = await readKnownHostsFile(s.knownHostsPath);
    if (!known.ok) return { ok: false, error: fleetError.configInvalid(subject.forNode, known.message) };
    let sock: Duplex | undefined;
    if (via !== undefined) {
      const tunnel = await forward(via, hop.host, hop.port);
      if (!tunnel.ok) {
        return {
          ok: false,
          error: fleetError.connectFailed(
            subject.forNode,
            viaName,
            `tunnel to ${hop.host}:${hop.port} refused: ${tunnel.message}`,
          ),
        };
      }
      sock = tunnel.stream;
    }
    const auth = await planAuth(hop, subject.forNode, s.keys, s.credentials);
    return connectHop({
      hop,
      subject,
      ...(sock === undefined ? {} : { sock }),
      hostKeys: {
        knownHostsPath: s.knownHostsPath,
        known: known.known,
        hashRecorded: s.hashRecordedHostKeys,
        ...(s.onUnknownHostKey === undefined ? {} : { decide: s.onUnknownHostKey }),
        ...(s.onHostKeyAccepted === undefined ? {} : { onAccepted: s.onHostKeyAccepted }),
      },
      auth,
      connectTimeoutMs: s.connectTimeoutMs,
      keepaliveIntervalMs: s.keepaliveIntervalMs,
      keepaliveCountMax: s.keepaliveCountMax,
    });
  }

  /** Ends the shared bastion connections; later connects fail. */
  async close(): Promise<void> {
    this.closed = true;
    const pending = [...this.jumps.values()];
    this.jumps.clear();
    for (const result of await Promise.all(pending)) if (result.ok) result.client.end();
  }
}

/** A direct-tcpip channel from `via` to host:port: the byte stream for the next hop's SSH. */
function forward(
  via: Client,
  host: string,
  port: number,
): Promise<{ ok: true; stream: Duplex } | { ok: false; message: string }> {
  return new Promise((resolve) => {
    try {
      // The originator address is informational for sshd; 127.0.0.1:0 says "a local client".
      via.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
        if (err) resolve({ ok: false, message: err.message });
        else resolve({ ok: true, stream });
      });
    } catch (err) {
      resolve({ ok: false, message: (err as Error).message });
    }
  });
}
