// Facts about an SSH public key blob (the wire format: string type, then type-specific fields),
// as sshd presents it during key exchange and as known_hosts stores it in base64.
import { createHash } from 'node:crypto';

/** OpenSSH's fingerprint format: `SHA256:` + unpadded base64 of the blob's SHA-256. */
export function sha256Fingerprint(blob: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside the blob (ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, ...). */
export function keyTypeOf(blob: Uint8Array): string | undefined {
  if (blob.length < 4) return undefined;
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const len = view.getUint32(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) return undefined;
  const type = Buffer.from(blob.subarray(4, 4 + len)).toString('latin1');
  return /^[a-z0-9@.-]+$/.test(type) ? type : undefined;
}

/** The short name OpenSSH prints for a key type ("(ED25519)" in "Permanently added ..."). */
export function keyTypeLabel(type: string): string {
  if (type === 'ssh-ed25519') return 'ED25519';
  if (type === 'ssh-rsa') return 'RSA';
  if (type.startsWith('ecdsa-sha2-')) return 'ECDSA';
  return type;
}

/** ssh2's host key algorithm names for each key type it can verify. */
const ALGORITHMS_BY_KEY_TYPE: Readonly<Record<string, readonly string[]>> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/** ssh2's default order, which we keep for hosts with nothing recorded. */
export const DEFAULT_HOST_KEY_ALGORITHMS: readonly string[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/**
 * Host key algorithms with those of the already-recorded key types first, as OpenSSH orders them:
 * a server with ed25519 and rsa keys, of which only rsa is recorded, then shows its rsa key and is
 * recognised, instead of showing an unrecorded ed25519 key and asking the user again.
 */
export function hostKeyAlgorithmsPreferring(recordedTypes: readonly string[]): string[] {
  const first = recordedTypes.flatMap((t) => ALGORITHMS_BY_KEY_TYPE[t] ?? []);
  return [...new Set([...first, ...DEFAULT_HOST_KEY_ALGORITHMS])];
}
