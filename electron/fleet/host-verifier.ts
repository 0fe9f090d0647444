// ssh2's hostVerifier for one hop. ssh2 calls it during key exchange, before user authentication,
// so no credential is ever sent to a host whose key we have not accepted. Known key: go on.
// Revoked or changed key: refuse, with no way around it here. Unknown key: ask the injected
// decider (the UI's dialog, the CLI's --accept-new-host-keys) and record an accepted key. A key
// of a type the file has no record of, for a host it knows by a key of another type, is no
// unknown key: it is refused like a changed one. Every key trusted on first use is announced.
import type { HostVerifier } from 'ssh2';
import { type FleetError, fleetError } from './errors';
import { keyTypeLabel, keyTypeOf, sha256Fingerprint } from './host-key';
import { checkHostKey, formatKnownHostsLine, knownHostsName, type ParsedKnownHosts } from './known-hosts';
import { appendKnownHostsLine } from './known-hosts-file';
import type {
  HostKeyAccepted,
  HostKeyAcceptedListener,
  HostKeySubject,
  UnknownHostKeyDecider,
} from './types';

export interface HostKeyPolicy {
  readonly knownHostsPath: string;
  readonly known: ParsedKnownHosts;
  readonly decide?: UnknownHostKeyDecider;
  /** Record accepted keys hashed (|1|salt|hash), like HashKnownHosts=yes. */
  readonly hashRecorded: boolean;
  /** Told of every key trusted on first use, once it is recorded (or trusted once). */
  readonly onAccepted?: HostKeyAcceptedListener;
}

/** The announcement of a key trusted on first use: OpenSSH's line, plus the fingerprint. */
export function hostKeyAccepted(
  subject: HostKeySubject,
  keyType: string,
  fingerprint: string,
  recorded: boolean,
  knownHostsPath: string,
): HostKeyAccepted {
  const who = subject.role === 'node' ? subject.forNode : `${subject.forNode} (jump host ${subject.name})`;
  const name = knownHostsName(subject.host, subject.port);
  const label = keyTypeLabel(keyType);
  const message = recorded
    ? `${who}: Warning: Permanently added '${name}' (${label}) to the list of known hosts (${knownHostsPath}): ${fingerprint}`
    : `${who}: Warning: trusting '${name}' (${label}) ${fingerprint} for this session only; not recorded in known_hosts`;
  return { subject, keyType, fingerprint, recorded, knownHostsPath, message };
}

export interface VerifierHooks {
  /** The decision may wait for a person: the connect timeout must not run meanwhile. */
  readonly onDecisionStart: () => void;
  readonly onDecisionEnd: () => void;
}

export interface HostVerification {
  readonly verifier: HostVerifier;
  /** Why the key was refused, once it was; ssh2 itself only says "Host denied". */
  readonly refusal: () => FleetError | undefined;
}

export function makeHostVerifier(
  subject: HostKeySubject,
  policy: HostKeyPolicy,
  hooks: VerifierHooks,
): HostVerification {
  let refusal: FleetError | undefined;
  const node = subject.forNode;
  const hop = subject.name;
  const verifier: HostVerifier = (key, verify) => {
    const keyType = keyTypeOf(key) ?? 'unknown-type';
    const fingerprint = sha256Fingerprint(key);
    const refuse = (error: FleetError) => {
      refusal = error;
      verify(false);
    };
    const check = checkHostKey(policy.known, subject.host, subject.port, key);
    switch (check.status) {
      case 'known':
        verify(true);
        return;
      case 'revoked':
        refuse(fleetError.hostKeyRevoked(node, hop, fingerprint, keyType));
        return;
      case 'changed':
        refuse(
          fleetError.hostKeyChanged(node, hop, fingerprint, keyType, {
            recorded: 'same-type',
            knownKeyTypes: [keyType],
            knownFingerprints: check.knownFingerprints,
            knownHostsPath: policy.knownHostsPath,
            lines: check.lines,
          }),
        );
        return;
      case 'other-type':
        refuse(
          fleetError.hostKeyChanged(node, hop, fingerprint, keyType, {
            recorded: 'other-type',
            knownKeyTypes: check.knownKeyTypes,
            knownFingerprints: check.knownFingerprints,
            knownHostsPath: policy.knownHostsPath,
            lines: check.lines,
          }),
        );
        return;
      case 'unknown':
        break;
    }
    if (check.certAuthority) {
      refuse(fleetError.hostKeyUnknown(node, hop, fingerprint, keyType, 'cert-authority-unsupported'));
      return;
    }
    const decide = policy.decide;
    if (decide === undefined) {
      refuse(fleetError.hostKeyUnknown(node, hop, fingerprint, keyType, 'not-recorded'));
      return;
    }
    hooks.onDecisionStart();
    decide(subject, fingerprint, keyType)
      .catch(() => 'reject' as const)
      .then(async (decision) => {
        const announce = (recorded: boolean) => {
          try {
            policy.onAccepted?.(
              hostKeyAccepted(subject, keyType, fingerprint, recorded, policy.knownHostsPath),
            );
          } catch {
            // A broken display must not break the connection it reports on.
          }
        };
        if (decision === 'accept-once') {
          announce(false);
          return undefined;
        }
        if (decision !== 'accept-and-record') {
          return fleetError.hostKeyUnknown(node, hop, fingerprint, keyType, 'rejected');
        }
        const line = formatKnownHostsLine(subject.host, subject.port, key, { hashed: policy.hashRecorded });
        const written = await appendKnownHostsLine(policy.knownHostsPath, line);
        if (!written.ok) return fleetError.configInvalid(node, written.message);
        announce(true);
        return undefined;
      })
      .then((error) => {
        hooks.onDecisionEnd();
        if (error === undefined) verify(true);
        else refuse(error);
      });
  };
  return { verifier, refusal: () => refusal };
}
