// One SSH connection to one endpoint, directly or over a stream tunnelled through the previous
// hop (ssh2's `sock` option; the tunnel is that hop's forwardOut channel). Resolves once the
// session is authenticated, or with the typed reason it is not.
import type { Duplex } from 'node:stream';
// ssh2 is CommonJS: Node's ESM loader sees only some of its names (not utils or Server), so
// values come from the default export; the CLI bundle runs as ESM with node_modules external.
import type { Client, ClientErrorExtensions, ServerHostKeyAlgorithm } from 'ssh2';
import type { AuthPlan } from './credentials';
import { type FleetError, fleetError } from './errors';
import { hostKeyAlgorithmsPreferring } from './host-key';
import { type HostKeyPolicy, makeHostVerifier } from './host-verifier';
import { recordedKeyTypes } from './known-hosts';
import { loadSsh2 } from './ssh2-module';
import type { HostKeySubject, SshHop } from './types';

export interface HopConnectOptions {
  readonly hop: SshHop;
  readonly subject: HostKeySubject;
  /** A tunnel through the previous hop; direct TCP when absent. */
  readonly sock?: Duplex;
  readonly hostKeys: HostKeyPolicy;
  readonly auth: AuthPlan;
  readonly connectTimeoutMs: number;
  readonly keepaliveIntervalMs: number;
  readonly keepaliveCountMax: number;
}

export type HopConnect =
  | { readonly ok: true; readonly client: Client }
  | { readonly ok: false; readonly error: FleetError };

type SshError = Error & Partial<ClientErrorExtensions> & { code?: string };

export async function connectHop(options: HopConnectOptions): Promise<HopConnect> {
  const { hop, subject, auth } = options;
  const node = subject.forNode;
  const ssh2 = await loadSsh2();
  return new Promise((resolve) => {
    const client = new ssh2.Client();
    let settled = false;
    let lastError: SshError | undefined;
    let timer: NodeJS.Timeout | undefined;
    let remainingMs = options.connectTimeoutMs;
    let startedAt = Date.now();

    const finish = (result: HopConnect) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!result.ok) client.destroy();
      resolve(result);
    };
    const arm = () => {
      startedAt = Date.now();
      timer = setTimeout(
        () =>
          finish({
            ok: false,
            error: fleetError.timeout(node, 'connect', `connect to ${hop.name}`, options.connectTimeoutMs),
          }),
        remainingMs,
      );
    };
    const verification = makeHostVerifier(subject, options.hostKeys, {
      onDecisionStart: () => {
        clearTimeout(timer);
        remainingMs = Math.max(1, remainingMs - (Date.now() - startedAt));
      },
      onDecisionEnd: () => {
        if (!settled) arm();
      },
    });

    const mapError = (err: SshError): FleetError => {
      const refusal = verification.refusal();
      if (refusal !== undefined) return refusal;
      switch (err.level) {
        case 'client-authentication':
          return fleetError.authFailed(node, hop.name, hop.user, auth.notes);
        case 'client-timeout':
          return fleetError.timeout(node, 'connect', `connect to ${hop.name}`, options.connectTimeoutMs);
        case 'client-socket':
          return fleetError.connectFailed(
            node,
            hop.name,
            `${hop.host}:${hop.port}: ${err.code ?? err.message}`,
          );
        default:
          return fleetError.connectFailed(node, hop.name, `${hop.host}:${hop.port}: ${err.message}`);
      }
    };

    // ssh2 emits 'error' for agent problems and keeps trying other methods: a note, not a failure.
    // This listener stays for the client's life, so no late 'error' is ever unhandled.
    client.on('error', (err: SshError) => {
      if (err.level === 'agent') {
        auth.note(`ssh-agent: ${err.message}`);
        return;
      }
      lastError = err;
      finish({ ok: false, error: mapError(err) });
    });
    client.once('ready', () => finish({ ok: true, client }));
    client.once('close', () => {
      const refusal = verification.refusal();
      finish({
        ok: false,
        error:
          refusal ??
          (lastError
            ? mapError(lastError)
            : fleetError.connectFailed(node, hop.name, 'connection closed by peer')),
      });
    });

    arm();
    try {
      client.connect({
        host: hop.host,
        port: hop.port,
        username: hop.user,
        ...(options.sock === undefined ? {} : { sock: options.sock }),
        hostVerifier: verification.verifier,
        authHandler: auth.handler,
        algorithms: {
          serverHostKey: hostKeyAlgorithmsPreferring(
            recordedKeyTypes(options.hostKeys.known, hop.host, hop.port),
          ) as ServerHostKeyAlgorithm[],
        },
        // Our own timer (above) bounds the handshake and pauses while a person decides on a key.
        readyTimeout: 0,
        keepaliveInterval: options.keepaliveIntervalMs,
        keepaliveCountMax: options.keepaliveCountMax,
      });
      // Small request/response exchanges: Nagle + delayed ACK would add ~40 ms per round trip.
      if (options.sock === undefined) client.setNoDelay(true);
    } catch (err) {
      finish({ ok: false, error: fleetError.connectFailed(node, hop.name, (err as Error).message) });
    }
  });
}
