import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { makeKeyPair } from './keys';

describe('test key pairs', () => {
  // ssh2's generator alone makes ~1 in 256 ed25519 pairs it cannot read back (mscdex/ssh2#1390).
  it('are always readable by ssh2 (500 ed25519 pairs)', () => {
    for (let i = 0; i < 500; i++) {
      const k = makeKeyPair('ed25519');
      expect(ssh2.utils.parseKey(k.publicLine)).not.toBeInstanceOf(Error);
      expect(ssh2.utils.parseKey(k.privateKey)).not.toBeInstanceOf(Error);
    }
  });
});
