import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createSecretStore,
  parseSecretsFile,
  type SafeStorageLike,
  SECRETS_FILE,
  secretStorageRefusal,
  serializeSecretsFile,
} from './secrets.js';

/** A fake safeStorage: "encryption" reverses and tags the bytes, so plain text never hits the file. */
function fakeSafeStorage(opts: { available?: boolean; backend?: string } = {}) {
  const calls: string[] = [];
  const s: SafeStorageLike = {
    isEncryptionAvailable: () => opts.available ?? true,
    getSelectedStorageBackend: () => opts.backend ?? 'gnome_libsecret',
    encryptString: (plain) => {
      calls.push('encrypt');
      return Buffer.concat([Buffer.from('ENC:'), Buffer.from([...Buffer.from(plain)].reverse())]);
    },
    decryptString: (enc) => {
      calls.push('decrypt');
      if (!enc.subarray(0, 4).equals(Buffer.from('ENC:')))
        throw new Error('Error while decrypting the ciphertext');
      return Buffer.from([...enc.subarray(4)].reverse()).toString();
    },
  };
  return { s, calls };
}

describe('secretStorageRefusal', () => {
  it('allows a real keychain', () => {
    expect(secretStorageRefusal(fakeSafeStorage().s, 'linux')).toBeUndefined();
    expect(secretStorageRefusal(fakeSafeStorage({ backend: 'kwallet6' }).s, 'linux')).toBeUndefined();
    expect(secretStorageRefusal(fakeSafeStorage().s, 'darwin')).toBeUndefined();
    expect(secretStorageRefusal(fakeSafeStorage().s, 'win32')).toBeUndefined();
  });

  it('refuses when encryption is unavailable, on any platform', () => {
    for (const platform of ['linux', 'darwin', 'win32']) {
      const why = secretStorageRefusal(fakeSafeStorage({ available: false }).s, platform);
      expect(why).toMatch(/keychain is not available/);
      expect(why).not.toContain('\n');
    }
  });

  it("refuses Linux's basic_text (plain text) backend, and an unknown one", () => {
    expect(secretStorageRefusal(fakeSafeStorage({ backend: 'basic_text' }).s, 'linux')).toMatch(/plain text/);
    expect(secretStorageRefusal(fakeSafeStorage({ backend: 'unknown' }).s, 'linux')).toMatch(/not known/);
    const noBackendFn: SafeStorageLike = { ...fakeSafeStorage().s, getSelectedStorageBackend: undefined };
    expect(secretStorageRefusal(noBackendFn, 'linux')).toBeDefined();
    // The backend question is Linux-only.
    expect(secretStorageRefusal(noBackendFn, 'darwin')).toBeUndefined();
  });
});

describe('secrets file format', () => {
  it('round-trips and treats anything malformed as empty with a warning', () => {
    const m = new Map([['ssh:prod', 'QUJD']]);
    expect(parseSecretsFile(serializeSecretsFile(m))).toEqual({ entries: m });
    for (const bad of ['x', '[]', '{"version":2,"secrets":{}}', '{"version":1,"secrets":{"a":1}}', 'null']) {
      const r = parseSecretsFile(bad);
      expect(r.entries.size, bad).toBe(0);
      expect(r.warning, bad).toBeDefined();
    }
  });
});

describe('secret store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'npg-secrets-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores encrypted, never in plain text; has/get/delete', async () => {
    const { s } = fakeSafeStorage();
    const store = createSecretStore({ safeStorage: s, dir, platform: 'linux' });
    expect(await store.has('ssh:prod')).toBe(false);
    expect(await store.get('ssh:prod')).toEqual({ ok: true, value: null });
    expect(await store.set('ssh:prod', 'correct horse')).toEqual({ ok: true, value: null });
    expect(await store.has('ssh:prod')).toBe(true);
    const onDisk = await readFile(join(dir, SECRETS_FILE), 'utf8');
    expect(onDisk).not.toContain('correct horse');
    expect(Buffer.from(JSON.parse(onDisk).secrets['ssh:prod'], 'base64').toString()).not.toContain('correct');
    expect(await store.get('ssh:prod')).toEqual({ ok: true, value: 'correct horse' });
    expect(await store.delete('ssh:prod')).toEqual({ ok: true, value: true });
    expect(await store.delete('ssh:prod')).toEqual({ ok: true, value: false });
    expect(await store.has('ssh:prod')).toBe(false);
  });

  it.each([
    ['encryption unavailable', { available: false }],
    ['the basic_text backend', { backend: 'basic_text' }],
  ])('refuses to store with %s: a typed one-line error, nothing written', async (_what, cfg) => {
    const { s, calls } = fakeSafeStorage(cfg);
    const store = createSecretStore({ safeStorage: s, dir, platform: 'linux' });
    const r = await store.set('ssh:prod', 'pw');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('unavailable');
      expect(r.error.message).not.toContain('\n');
    }
    expect(calls).toEqual([]);
    await expect(readFile(join(dir, SECRETS_FILE))).rejects.toThrow(/ENOENT/);
    expect((await store.get('ssh:prod')).ok).toBe(false);
  });

  it('delete works even where encryption is unavailable', async () => {
    const good = createSecretStore({ safeStorage: fakeSafeStorage().s, dir, platform: 'linux' });
    await good.set('a', 'pw');
    const bad = createSecretStore({
      safeStorage: fakeSafeStorage({ available: false }).s,
      dir,
      platform: 'linux',
    });
    expect(await bad.has('a')).toBe(true);
    expect(await bad.delete('a')).toEqual({ ok: true, value: true });
  });

  it('checks names and passphrases', async () => {
    const store = createSecretStore({ safeStorage: fakeSafeStorage().s, dir, platform: 'darwin' });
    expect(await store.set('', 'pw')).toMatchObject({ ok: false, error: { code: 'bad-input' } });
    expect(await store.set('x'.repeat(300), 'pw')).toMatchObject({ ok: false, error: { code: 'bad-input' } });
    expect(await store.set('a', '')).toMatchObject({ ok: false, error: { code: 'bad-input' } });
    expect(await store.set('a', 5 as unknown as string)).toMatchObject({ ok: false });
    expect(await store.get('')).toMatchObject({ ok: false, error: { code: 'bad-input' } });
    expect(await store.has('')).toBe(false);
  });

  it('a secret that no longer decrypts is a failed result, not a throw; a malformed file warns', async () => {
    await writeFile(join(dir, SECRETS_FILE), serializeSecretsFile(new Map([['a', 'bm90IG91cnM=']])));
    const warnings: string[] = [];
    const store = createSecretStore({
      safeStorage: fakeSafeStorage().s,
      dir,
      platform: 'linux',
      warn: (l) => warnings.push(l),
    });
    const r = await store.get('a');
    expect(r).toMatchObject({ ok: false, error: { code: 'failed' } });
    await writeFile(join(dir, SECRETS_FILE), 'garbage');
    expect(await store.has('a')).toBe(false);
    expect(warnings).toHaveLength(1);
  });

  it('concurrent sets are serialised: none is lost', async () => {
    const store = createSecretStore({ safeStorage: fakeSafeStorage().s, dir, platform: 'linux' });
    await Promise.all(['a', 'b', 'c', 'd'].map((n) => store.set(n, `pw-${n}`)));
    for (const n of ['a', 'b', 'c', 'd']) expect(await store.get(n)).toEqual({ ok: true, value: `pw-${n}` });
  });
});
