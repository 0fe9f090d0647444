import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostKeyAlgorithmsPreferring, keyTypeOf, sha256Fingerprint } from './host-key';
import {
  checkHostKey,
  formatKnownHostsLine,
  knownHostsName,
  matchPatternList,
  parseKnownHosts,
  recordedKeyTypes,
} from './known-hosts';
import { makeKeyPair, type TestKeyPair } from './test-support/keys';

const exec = promisify(execFile);

let ed: TestKeyPair;
let ed2: TestKeyPair;
let ec: TestKeyPair;
let dir: string;

beforeAll(async () => {
  ed = makeKeyPair('ed25519');
  ed2 = makeKeyPair('ed25519');
  ec = makeKeyPair('ecdsa');
  dir = await mkdtemp(join(tmpdir(), 'npg-kh-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const b64 = (k: TestKeyPair) => k.blob.toString('base64');

describe('host key facts', () => {
  it('computes the fingerprint the way ssh-keygen -l prints it', async () => {
    const file = join(dir, 'ed.pub');
    await writeFile(file, `${ed.publicLine}\n`);
    const { stdout } = await exec('ssh-keygen', ['-l', '-E', 'sha256', '-f', file]);
    expect(stdout.split(' ')[1]).toBe(sha256Fingerprint(ed.blob));
    expect(sha256Fingerprint(ed.blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('reads the key type inside the blob and orders algorithms by what is recorded', () => {
    expect(keyTypeOf(ed.blob)).toBe('ssh-ed25519');
    expect(keyTypeOf(ec.blob)).toBe('ecdsa-sha2-nistp256');
    expect(keyTypeOf(Buffer.from('nonsense'))).toBeUndefined();
    expect(hostKeyAlgorithmsPreferring(['ssh-rsa']).slice(0, 3)).toEqual([
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
    ]);
    expect(hostKeyAlgorithmsPreferring([])[0]).toBe('ssh-ed25519');
  });
});

describe('known_hosts matching', () => {
  it('matches OpenSSH host patterns with wildcards and negation', () => {
    expect(matchPatternList(['198.18.0.*'], '198.18.0.11')).toBe(true);
    expect(matchPatternList(['198.18.0.1?'], '198.18.0.11')).toBe(true);
    expect(matchPatternList(['198.18.0.1?'], '198.18.0.1')).toBe(false);
    expect(matchPatternList(['*.lab', '!bad.lab'], 'bad.lab')).toBe(false);
    expect(matchPatternList(['NODE1'], 'node1')).toBe(true);
    expect(knownHostsName('198.18.0.11', 22)).toBe('198.18.0.11');
    expect(knownHostsName('198.18.0.11', 2222)).toBe('[198.18.0.11]:2222');
  });

  it('recognises a known key, a changed key, a key of another type and an unknown host', () => {
    const known = parseKnownHosts(
      [
        '# comment',
        `node1,198.18.0.11 ssh-ed25519 ${b64(ed)} root@node1`,
        `[node2]:2222 ssh-ed25519 ${b64(ed)}`,
        '',
      ].join('\n'),
    );
    expect(known.problems).toEqual([]);
    expect(checkHostKey(known, '198.18.0.11', 22, ed.blob)).toEqual({ status: 'known', line: 2 });
    expect(checkHostKey(known, 'node1', 22, ed2.blob)).toEqual({
      status: 'changed',
      knownFingerprints: [sha256Fingerprint(ed.blob)],
      lines: [2],
    });
    // Not new: node1 is known by an ed25519 key, and an ecdsa key alone must not get it trusted.
    expect(checkHostKey(known, 'node1', 22, ec.blob)).toEqual({
      status: 'other-type',
      knownKeyTypes: ['ssh-ed25519'],
      knownFingerprints: [sha256Fingerprint(ed.blob)],
      lines: [2],
    });
    expect(checkHostKey(known, 'node2', 22, ed.blob)).toEqual({ status: 'unknown', certAuthority: false });
    expect(checkHostKey(known, 'node2', 2222, ed.blob)).toMatchObject({ status: 'known' });
    expect(recordedKeyTypes(known, 'node1', 22)).toEqual(['ssh-ed25519']);
  });

  it('refuses revoked keys and notes @cert-authority lines it does not support', () => {
    const known = parseKnownHosts(
      [
        `@revoked * ssh-ed25519 ${b64(ed)}`,
        `node1 ssh-ed25519 ${b64(ed)}`,
        `@cert-authority *.lab ssh-ed25519 ${b64(ed2)}`,
      ].join('\n'),
    );
    expect(checkHostKey(known, 'node1', 22, ed.blob)).toEqual({ status: 'revoked', line: 1 });
    expect(checkHostKey(known, 'n.lab', 22, ec.blob)).toMatchObject({
      status: 'unknown',
      certAuthority: true,
    });
  });

  it('reports unreadable lines and keeps reading', () => {
    const known = parseKnownHosts(
      [
        'garbage',
        `@weird h ssh-ed25519 ${b64(ed)}`,
        '|1|bad|bad ssh-ed25519 AAAA',
        `h ssh-ed25519 ${b64(ed)}`,
      ].join('\n'),
    );
    expect(known.entries).toHaveLength(1);
    expect(known.problems.map((p) => p.line)).toEqual([1, 2, 3]);
  });

  it('reads entries hashed by ssh-keygen -H', async () => {
    const file = join(dir, 'hashed');
    await writeFile(
      file,
      `198.18.0.11 ssh-ed25519 ${b64(ed)}\n[198.18.0.12]:2222 ecdsa-sha2-nistp256 ${b64(ec)}\n`,
    );
    await exec('ssh-keygen', ['-H', '-f', file]);
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/^\|1\|/);
    const known = parseKnownHosts(text);
    expect(checkHostKey(known, '198.18.0.11', 22, ed.blob)).toMatchObject({ status: 'known' });
    expect(checkHostKey(known, '198.18.0.11', 22, ed2.blob)).toMatchObject({ status: 'changed' });
    expect(checkHostKey(known, '198.18.0.12', 2222, ec.blob)).toMatchObject({ status: 'known' });
    expect(checkHostKey(known, '198.18.0.12', 22, ec.blob)).toMatchObject({ status: 'unknown' });
    // A hashed record of another type counts as a record too.
    expect(checkHostKey(known, '198.18.0.11', 22, ec.blob)).toMatchObject({
      status: 'other-type',
      knownKeyTypes: ['ssh-ed25519'],
    });
  });

  it('writes lines that OpenSSH finds, plain and hashed', async () => {
    const file = join(dir, 'written');
    await writeFile(
      file,
      formatKnownHostsLine('198.18.0.21', 22, ed.blob, { hashed: false }) +
        formatKnownHostsLine('198.18.0.22', 2200, ec.blob, { hashed: true }),
    );
    const plain = await exec('ssh-keygen', ['-F', '198.18.0.21', '-f', file]);
    expect(plain.stdout).toContain(b64(ed));
    const hashed = await exec('ssh-keygen', ['-F', '[198.18.0.22]:2200', '-f', file]);
    expect(hashed.stdout).toContain(b64(ec));
  });
});
