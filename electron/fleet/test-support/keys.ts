// Key material for tests, made fresh per run with ssh2's own generator (no fixtures to rot).
import ssh2 from 'ssh2'; // CommonJS: see connect-hop.ts

export interface TestKeyPair {
  /** OpenSSH private key text. */
  readonly privateKey: string;
  /** `type base64 comment`, as in authorized_keys. */
  readonly publicLine: string;
  /** The public key blob (what sshd sends and known_hosts stores). */
  readonly blob: Buffer;
}

type Kind = 'ed25519' | 'ecdsa' | 'rsa';

export function makeKeyPair(kind: Kind, passphrase?: string): TestKeyPair {
  const secret = passphrase === undefined ? {} : { passphrase, cipher: 'aes256-ctr', rounds: 4 };
  const pair =
    kind === 'ed25519'
      ? ssh2.utils.generateKeyPairSync('ed25519', { comment: 'npg-test', ...secret })
      : kind === 'ecdsa'
        ? ssh2.utils.generateKeyPairSync('ecdsa', { bits: 256, comment: 'npg-test', ...secret })
        : ssh2.utils.generateKeyPairSync('rsa', { bits: 2048, comment: 'npg-test', ...secret });
  const blob = Buffer.from(pair.public.split(' ')[1] ?? '', 'base64');
  return { privateKey: pair.private, publicLine: pair.public, blob };
}
