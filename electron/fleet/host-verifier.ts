// ssh2's hostVerifier for one hop. ssh2 calls it during key exchange, before user authentication,
// so no credential is ever sent to a host whose key we have not accepted. Known key: go on.
// Revoked or changed key: refuse, with no way around it here. Unknown key: ask the injected
// decider (the UI's dialog, the CLI's --accept-new-host-keys) and record an accepted key.
import type { HostVerifier } from 'ssh2';
import { type FleetError, fleetError } from './errors';
import { keyTypeOf, sha256Fingerprint } from './host-key';
import { checkHostKey, formatKnownHostsLine, type ParsedKnownHosts } from './known-hosts';
import { appendKnownHostsLine } from './known-hosts-file';
import type { HostKeySubject, UnknownHostKeyDecider } from './types';

export interface HostKeyPolicy {
  readonly knownHostsPath: string;
  readonly known: ParsedKnownHosts;
  readonly decide?: UnknownHostKeyDecider;
  /** Record accepted keys hashed (|1|salt|hash), like HashKnownHosts=yes. */
  readonly hashRecorded: boolean;
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
          fleetError.hostKeyChanged(
            node,
            hop,
            fingerprint,
            keyType,
            check.knownFingerprints,
            policy.knownHostsPath,
            check.lines,
          ),
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
        if (decision === 'accept-once') return undefined;
        if (decision !== 'accept-and-record') {
          return fleetError.hostKeyUnknown(node, hop, fingerprint, keyType, 'rejected');
        }
        const line = formatKnownHostsLine(subject.host, subject.port, key, { hashed: policy.hashRecorded });
        const written = await appendKnownHostsLine(policy.knownHostsPath, line);
        return written.ok ? undefined : fleetError.configInvalid(node, written.message);
      })
      .then((error) => {
        hooks.onDecisionEnd();
        if (error === undefined) verify(true);
        else refuse(error);
      });
  };
  return { verifier, refusal: () => refusal };
}
