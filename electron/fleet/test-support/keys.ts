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

/**
 * ssh2's generator makes an unparseable ed25519 key about once in 256 (it strips a leading zero
 * byte of the public key: mscdex/ssh2#1390, #1513), which made tests fail at random; a pair that
 * ssh2 cannot read back is made again (bounded).
 */
export function makeKeyPair(kind: Kind, passphrase?: string): TestKeyPair {
  for (let attempt = 0; attempt < 16; attempt++) {
    const pair = generate(kind, passphrase);
    const pub = ssh2.utils.parseKey(pair.public);
    const priv = ssh2.utils.parseKey(pair.private, passphrase);
    if (pub instanceof Error || priv instanceof Error) continue;
    const blob = Buffer.from(pair.public.split(' ')[1] ?? '', 'base64');
    return { privateKey: pair.private, publicLine: pair.public, blob };
  }
  throw new Error(`ssh2 made no readable ${kind} key pair in 16 attempts`);
}

function generate(kind: Kind, passphrase: string | undefined): { private: string; public: string } {
  const secret = passphrase === undefined ? {} : { passphrase, cipher: 'aes256-ctr', rounds: 4 };
  return kind === 'ed25519'
    ? ssh2.utils.generateKeyPairSync('ed25519', { comment: 'npg-test', ...secret })
    : kind === 'ecdsa'
      ? ssh2.utils.generateKeyPairSync('ecdsa', { bits: 256, comment: 'npg-test', ...secret })
      : ssh2.utils.generateKeyPairSync('rsa', { bits: 2048, comment: 'npg-test', ...secret });
}
