// Passphrases the user asked us to remember, encrypted with the OS keychain through Electron's
// safeStorage (injected, so the decisions are unit-tested with a fake). Stored only on request,
// and refused outright where safeStorage would not really protect them: encryption unavailable,
// or on Linux the 'basic_text' backend (no keyring: a hard-coded key, i.e. plain text in effect).
// Secrets never go to the renderer: has/set/delete may back UI actions, get is for main only.
import { join } from 'node:path';
import { readOptionalFile, serialQueue, writeFileAtomic } from './atomic-file.js';

export const SECRETS_FILE = 'secrets.json';
const MAX_NAME_CHARS = 256;
const MAX_SECRET_CHARS = 4096;

/** The part of Electron's safeStorage this module uses. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  /** Linux only in Electron. */
  getSelectedStorageBackend?(): string;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

export interface SecretError {
  readonly code: 'unavailable' | 'bad-input' | 'failed';
  readonly message: string;
}

export type SecretResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: SecretError };

const fail = (code: SecretError['code'], message: string): { ok: false; error: SecretError } => ({
  ok: false,
  error: { code, message },
});

/** Why secrets cannot be stored safely here (one line), or undefined when they can. */
export function secretStorageRefusal(safeStorage: SafeStorageLike, platform: string): string | undefined {
  if (!safeStorage.isEncryptionAvailable()) {
    return 'cannot remember the passphrase: the OS keychain is not available; you will be asked each time';
  }
  if (platform === 'linux') {
    const backend = safeStorage.getSelectedStorageBackend?.() ?? 'unknown';
    if (backend === 'basic_text') {
      return 'cannot remember the passphrase: no keyring (gnome-keyring or KWallet) is running, so it would be stored in plain text';
    }
    if (backend === 'unknown') {
      return 'cannot remember the passphrase: the keyring backend is not known yet';
    }
  }
  return undefined;
}

function checkName(name: unknown): string | undefined {
  return typeof name === 'string' && name.length > 0 && name.length <= MAX_NAME_CHARS
    ? undefined
    : `secret name must be 1-${MAX_NAME_CHARS} characters`;
}

/** Parses secrets.json ({version: 1, secrets: {name: base64}}); malformed -> empty and a warning. */
export function parseSecretsFile(text: string): { readonly entries: Map<string, string>; warning?: string } {
  try {
    const raw = JSON.parse(text) as { version?: unknown; secrets?: unknown };
    if (raw?.version === 1 && typeof raw.secrets === 'object' && raw.secrets !== null) {
      const entries = Object.entries(raw.secrets);
      if (entries.every(([, v]) => typeof v === 'string'))
        return { entries: new Map(entries as [string, string][]) };
    }
  } catch {
    // fall through
  }
  return { entries: new Map(), warning: 'malformed; treating it as empty' };
}

export function serializeSecretsFile(entries: ReadonlyMap<string, string>): string {
  return `${JSON.stringify({ version: 1, secrets: Object.fromEntries(entries) }, null, 2)}\n`;
}

export interface SecretStore {
  /** Whether a secret is stored under this name (no decryption, no keychain prompt). */
  has(name: string): Promise<boolean>;
  /** Encrypts and stores; refused (code 'unavailable') where safeStorage would not protect it. */
  set(name: string, secret: string): Promise<SecretResult<null>>;
  /** Forgets a secret; works even where encryption is unavailable. Value: whether it existed. */
  delete(name: string): Promise<SecretResult<boolean>>;
  /** MAIN PROCESS ONLY: the decrypted secret, or null when none is stored. Never expose over IPC. */
  get(name: string): Promise<SecretResult<string | null>>;
}

export function createSecretStore(opts: {
  readonly safeStorage: SafeStorageLike;
  /** app.getPath('userData') in the app. */
  readonly dir: string;
  readonly platform?: string;
  readonly warn?: (line: string) => void;
}): SecretStore {
  const file = join(opts.dir, SECRETS_FILE);
  const platform = opts.platform ?? process.platform;
  const warn = opts.warn ?? ((line: string) => console.warn(line));
  const queue = serialQueue();

  async function read(): Promise<Map<string, string>> {
    const text = await readOptionalFile(file);
    if (text === undefined) return new Map();
    const { entries, warning } = parseSecretsFile(text);
    if (warning) warn(`secrets: ${file}: ${warning}`);
    return entries;
  }

  const failed = (what: string, err: unknown) =>
    fail(
      'failed',
      `cannot ${what} the passphrase (${(err as Error)?.message?.split('\n')[0] ?? String(err)})`,
    );

  return {
    async has(name) {
      if (checkName(name)) return false;
      try {
        return (await read()).has(name);
      } catch {
        return false;
      }
    },

    set(name, secret) {
      const bad = checkName(name);
      if (bad) return Promise.resolve(fail('bad-input', bad));
      if (typeof secret !== 'string' || secret.length === 0 || secret.length > MAX_SECRET_CHARS) {
        return Promise.resolve(fail('bad-input', `passphrase must be 1-${MAX_SECRET_CHARS} characters`));
      }
      const refused = secretStorageRefusal(opts.safeStorage, platform);
      if (refused) return Promise.resolve(fail('unavailable', refused));
      return queue(async () => {
        try {
          const entries = await read();
          entries.set(name, opts.safeStorage.encryptString(secret).toString('base64'));
          await writeFileAtomic(file, serializeSecretsFile(entries));
          return { ok: true, value: null } as const;
        } catch (err) {
          return failed('store', err);
        }
      });
    },

    delete(name) {
      const bad = checkName(name);
      if (bad) return Promise.resolve(fail('bad-input', bad));
      return queue(async () => {
        try {
          const entries = await read();
          if (!entries.delete(name)) return { ok: true, value: false } as const;
          await writeFileAtomic(file, serializeSecretsFile(entries));
          return { ok: true, value: true } as const;
        } catch (err) {
          return failed('forget', err);
        }
      });
    },

    async get(name) {
      const bad = checkName(name);
      if (bad) return fail('bad-input', bad);
      const refused = secretStorageRefusal(opts.safeStorage, platform);
      if (refused) return fail('unavailable', refused);
      try {
        const stored = (await read()).get(name);
        if (stored === undefined) return { ok: true, value: null };
        return { ok: true, value: opts.safeStorage.decryptString(Buffer.from(stored, 'base64')) };
      } catch (err) {
        return failed('read', err);
      }
    },
  };
}
