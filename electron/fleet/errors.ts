// Every way a remote step can fail, as data. Each error names its node (and the hop, when a
// bastion on the way failed) and carries a one-line message that says what happened there; the
// CLI prints the message as is, the UI may use the fields.
//
// A node is not trusted: any text it sent (stderr, a disconnect reason, a refusal from a jump
// host) enters a message only through visibleText, so an answer full of escape sequences cannot
// set the operator's window title, erase a line or print a fake "ok". The raw stdout and stderr
// fields stay as they came, for callers that parse them.
import { firstVisibleLine, visibleText } from '../../shared/text/visible';
import { formatBytes } from './limits';

interface Base {
  readonly node: string;
  /** One line: node, cause, and what to do when there is something to do. */
  readonly message: string;
}

interface AtHop extends Base {
  /** The endpoint where it failed: the node itself or a jump host on the way. */
  readonly hop: string;
}

export type FleetError =
  | (Base & { readonly kind: 'invalid-request'; readonly reason: string })
  | (Base & { readonly kind: 'config-invalid'; readonly reason: string })
  | (AtHop & { readonly kind: 'connect-failed'; readonly cause: string })
  | (AtHop & { readonly kind: 'auth-failed'; readonly user: string; readonly notes: readonly string[] })
  | (AtHop & {
      readonly kind: 'host-key-unknown';
      readonly fingerprint: string;
      readonly keyType: string;
      /** not-recorded: no decider or it rejected; cert-authority: the file trusts a CA we cannot check. */
      readonly reason: 'not-recorded' | 'rejected' | 'cert-authority-unsupported';
    })
  | (AtHop & {
      readonly kind: 'host-key-changed';
      readonly fingerprint: string;
      readonly keyType: string;
      /**
       * same-type: another key of this type is recorded. other-type: only keys of other types are
       * (knownKeyTypes); the host no longer shows them, which is as suspect as a changed key.
       */
      readonly recorded: 'same-type' | 'other-type';
      readonly knownKeyTypes: readonly string[];
      readonly knownFingerprints: readonly string[];
      readonly knownHostsPath: string;
      readonly lines: readonly number[];
    })
  | (AtHop & { readonly kind: 'host-key-revoked'; readonly fingerprint: string; readonly keyType: string })
  | (Base & {
      readonly kind: 'sudo-denied';
      readonly user: string;
      readonly reason: 'password-required' | 'not-allowed' | 'no-tty' | 'sudo-missing';
      readonly stderr: string;
    })
  | (Base & {
      readonly kind: 'timeout';
      readonly phase: 'connect' | 'run';
      readonly op: string;
      readonly timeoutMs: number;
    })
  | (Base & {
      readonly kind: 'exit-code';
      readonly op: string;
      readonly code: number | null;
      readonly signal: string | undefined;
      readonly stdout: string;
      readonly stderr: string;
    })
  | (Base & {
      readonly kind: 'output-exceeded';
      readonly op: string;
      readonly stream: 'stdout' | 'stderr';
      /** The cap that was passed; the command may still run on the node. */
      readonly limitBytes: number;
    })
  | (Base & { readonly kind: 'cancelled'; readonly op: string })
  | (Base & {
      readonly kind: 'connection-lost';
      readonly op: string;
      /** The command may or may not have run: the caller must re-read state before retrying. */
      readonly cause: string;
    })
  | (Base & { readonly kind: 'internal'; readonly cause: string });

export type FleetErrorKind = FleetError['kind'];

/** " (via bastion X)" when a hop on the way failed, empty when the node itself did. */
function via(node: string, hop: string): string {
  return hop === node ? '' : ` (jump host ${hop})`;
}

export const fleetError = {
  invalidRequest: (node: string, op: string, reason: string): FleetError => ({
    kind: 'invalid-request',
    node,
    reason,
    message: `${node}: refused to run ${op}: ${reason}`,
  }),
  configInvalid: (node: string, reason: string): FleetError => ({
    kind: 'config-invalid',
    node,
    reason,
    message: `${node}: ${reason}`,
  }),
  /** `cause` may hold the peer's words (a disconnect reason, a refused tunnel): shown visible. */
  connectFailed: (node: string, hop: string, cause: string): FleetError => {
    const shown = visibleText(cause);
    return {
      kind: 'connect-failed',
      node,
      hop,
      cause: shown,
      message: `${node}${via(node, hop)}: cannot connect: ${shown}`,
    };
  },
  authFailed: (node: string, hop: string, user: string, notes: readonly string[]): FleetError => ({
    kind: 'auth-failed',
    node,
    hop,
    user,
    notes,
    message: `${node}${via(node, hop)}: authentication as ${user} failed${notes.length ? ` (${notes.map((n) => visibleText(n)).join('; ')})` : ''}`,
  }),
  hostKeyUnknown: (
    node: string,
    hop: string,
    fingerprint: string,
    keyType: string,
    reason: 'not-recorded' | 'rejected' | 'cert-authority-unsupported',
  ): FleetError => ({
    kind: 'host-key-unknown',
    node,
    hop,
    fingerprint,
    keyType,
    reason,
    message:
      reason === 'cert-authority-unsupported'
        ? `${node}${via(node, hop)}: host key ${keyType} ${fingerprint} is vouched for only by a @cert-authority line in known_hosts, which NodePort Guard does not check; record the host key itself`
        : `${node}${via(node, hop)}: host key ${keyType} ${fingerprint} is not in known_hosts${reason === 'rejected' ? ' and was not accepted' : ''}; check the fingerprint on the host and accept it to connect`,
  }),
  hostKeyChanged: (
    node: string,
    hop: string,
    fingerprint: string,
    keyType: string,
    known: {
      readonly recorded: 'same-type' | 'other-type';
      readonly knownKeyTypes: readonly string[];
      readonly knownFingerprints: readonly string[];
      readonly knownHostsPath: string;
      readonly lines: readonly number[];
    },
  ): FleetError => {
    const where = `${known.knownHostsPath}:${known.lines.join(',')}`;
    const what =
      known.recorded === 'same-type'
        ? `presents ${keyType} ${fingerprint}, known_hosts (${where}) has ${known.knownFingerprints.join(', ')}`
        : `presents ${keyType} ${fingerprint}, but known_hosts (${where}) has only ${known.knownKeyTypes.join(', ')} on record for it (${known.knownFingerprints.join(', ')})`;
    return {
      kind: 'host-key-changed',
      node,
      hop,
      fingerprint,
      keyType,
      ...known,
      message: `${node}${via(node, hop)}: HOST KEY CHANGED: ${what}; refusing to connect (someone may be intercepting; if the host was reinstalled, remove the old line by hand)`,
    };
  },
  hostKeyRevoked: (node: string, hop: string, fingerprint: string, keyType: string): FleetError => ({
    kind: 'host-key-revoked',
    node,
    hop,
    fingerprint,
    keyType,
    message: `${node}${via(node, hop)}: host key ${keyType} ${fingerprint} is marked @revoked in known_hosts; refusing to connect`,
  }),
  sudoDenied: (
    node: string,
    user: string,
    reason: 'password-required' | 'not-allowed' | 'no-tty' | 'sudo-missing',
    stderr: string,
  ): FleetError => ({
    kind: 'sudo-denied',
    node,
    user,
    reason,
    stderr,
    message: `${node}: ${user} cannot run commands as root with sudo -n (${
      reason === 'sudo-missing' ? 'sudo is not installed' : firstVisibleLine(stderr)
    }); grant NOPASSWD sudo for the guard's commands or connect as root`,
  }),
  timeout: (node: string, phase: 'connect' | 'run', op: string, timeoutMs: number): FleetError => ({
    kind: 'timeout',
    node,
    phase,
    op,
    timeoutMs,
    message:
      phase === 'connect'
        ? `${node}: no SSH session within ${timeoutMs} ms`
        : `${node}: ${op} did not finish within ${timeoutMs} ms and was stopped`,
  }),
  exitCode: (
    node: string,
    op: string,
    code: number | null,
    signal: string | undefined,
    stdout: string,
    stderr: string,
  ): FleetError => ({
    kind: 'exit-code',
    node,
    op,
    code,
    signal,
    stdout,
    stderr,
    message: `${node}: ${op} ${code === null ? `killed by signal ${signal ?? '?'}` : `exited with ${code}`}${
      firstVisibleLine(stderr) ? `: ${firstVisibleLine(stderr)}` : ''
    }`,
  }),
  outputExceeded: (
    node: string,
    op: string,
    stream: 'stdout' | 'stderr',
    limitBytes: number,
  ): FleetError => ({
    kind: 'output-exceeded',
    node,
    op,
    stream,
    limitBytes,
    message: `${node}: ${stream === 'stdout' ? 'output' : 'stderr'} of ${op} exceeded ${formatBytes(limitBytes)}; stopped reading (the command may still run on the node)`,
  }),
  cancelled: (node: string, op: string): FleetError => ({
    kind: 'cancelled',
    node,
    op,
    message: `${node}: ${op} cancelled`,
  }),
  /** `readOnly`: the command only read, so whether it ran does not matter to anyone. */
  connectionLost: (node: string, op: string, cause: string, readOnly = false): FleetError => {
    const shown = visibleText(cause);
    return {
      kind: 'connection-lost',
      node,
      op,
      cause: shown,
      message: `${node}: connection lost during ${op} (${shown})${readOnly ? '' : '; it may or may not have run'}`,
    };
  },
  internal: (node: string, cause: string): FleetError => {
    const shown = visibleText(cause);
    return { kind: 'internal', node, cause: shown, message: `${node}: internal error: ${shown}` };
  },
} as const;
