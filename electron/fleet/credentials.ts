// Which credentials to offer a server, in which order, and loading private keys. Order: the key
// files named for the host (workspace or ssh config), then the ssh-agent's keys, then OpenSSH's
// default key files, then a password (asked only if the server accepts one). Keys are read once
// per fleet, so a passphrase is asked for once. Agent forwarding is never requested: we pass the
// agent for authentication only and never set ssh2's agentForward.
import { readFile } from 'node:fs/promises';
// ssh2 is CommonJS: Node's ESM loader sees only some of its names (not utils or Server), so
// values come from the default export; the CLI bundle runs as ESM with node_modules external.
import type { AuthenticationType, AuthHandlerMiddleware, ParsedKey } from 'ssh2';
import { loadSsh2 } from './ssh2-module';
import type { SshHop } from './types';

export interface CredentialSources {
  /** ssh-agent socket (SSH_AUTH_SOCK); undefined: no agent. */
  readonly agentSocket?: string;
  /**
   * Asked for an encrypted key's passphrase; undefined skips the key. `retry`: the previous answer
   * was wrong (asked at most PASSPHRASE_ATTEMPTS times, as ssh does).
   */
  readonly getPassphrase?: (keyPath: string, retry: boolean) => Promise<string | undefined>;
  /** Asked for a password when the server accepts password auth and keys did not work. */
  readonly getPassword?: (hop: SshHop, node: string) => Promise<string | undefined>;
}

export type KeyLoad =
  | { readonly status: 'loaded'; readonly path: string; readonly key: ParsedKey }
  | { readonly status: 'absent'; readonly path: string }
  | { readonly status: 'unusable'; readonly path: string; readonly note: string };

/** How often a wrong passphrase is asked again before the key is given up (ssh's default). */
export const PASSPHRASE_ATTEMPTS = 3;

/** Loads each key file once; later connections reuse the parsed key (and the passphrase given). */
export class KeyStore {
  private readonly cache = new Map<string, Promise<KeyLoad>>();

  constructor(private readonly getPassphrase?: CredentialSources['getPassphrase']) {}

  load(path: string): Promise<KeyLoad> {
    let entry = this.cache.get(path);
    if (entry === undefined) {
      entry = this.loadNow(path);
      this.cache.set(path, entry);
    }
    return entry;
  }

  private async loadNow(path: string): Promise<KeyLoad> {
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'ENOENT') return { status: 'absent', path };
      return { status: 'unusable', path, note: `cannot read key ${path}: ${(err as Error).message}` };
    }
    const ssh2 = await loadSsh2();
    let parsed = ssh2.utils.parseKey(data);
    if (parsed instanceof Error && /passphrase/i.test(parsed.message)) {
      for (let attempt = 0; ; attempt++) {
        if (attempt === PASSPHRASE_ATTEMPTS)
          return { status: 'unusable', path, note: `wrong passphrase for key ${path}` };
        const passphrase = await this.getPassphrase?.(path, attempt > 0);
        if (passphrase === undefined) {
          return {
            status: 'unusable',
            path,
            note:
              attempt === 0
                ? `key ${path} is encrypted and no passphrase was given`
                : `wrong passphrase for key ${path}`,
          };
        }
        parsed = ssh2.utils.parseKey(data, passphrase);
        if (!(parsed instanceof Error)) break;
      }
    }
    if (parsed instanceof Error) return { status: 'unusable', path, note: `key ${path}: ${parsed.message}` };
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (key === undefined || !key.isPrivateKey()) {
      return { status: 'unusable', path, note: `${path} holds no private key` };
    }
    return { status: 'loaded', path, key };
  }
}

type AuthStep =
  | { readonly kind: 'key'; readonly key: ParsedKey }
  | { readonly kind: 'agent'; readonly socket: string }
  | { readonly kind: 'password' };

export interface AuthPlan {
  readonly handler: AuthHandlerMiddleware;
  /** What was skipped or refused, for the auth-failed message (no secrets). */
  readonly notes: readonly string[];
  /** Adds a note seen while authenticating (e.g. an agent that does not answer). */
  readonly note: (text: string) => void;
}

/**
 * Builds ssh2's authHandler for one hop. Explicitly named keys that are missing or unreadable are
 * noted (a default key file that does not exist is not).
 */
export async function planAuth(
  hop: SshHop,
  node: string,
  keys: KeyStore,
  sources: CredentialSources,
): Promise<AuthPlan> {
  const notes: string[] = [];
  const steps: AuthStep[] = [];
  const loadAll = async (paths: readonly string[], explicit: boolean) => {
    for (const load of await Promise.all(paths.map((p) => keys.load(p)))) {
      if (load.status === 'loaded') steps.push({ kind: 'key', key: load.key });
      else if (load.status === 'unusable') notes.push(load.note);
      else if (explicit) notes.push(`key ${load.path} does not exist`);
    }
  };
  if (hop.identityFilesExplicit) await loadAll(hop.identityFiles, true);
  if (sources.agentSocket !== undefined && sources.agentSocket !== '') {
    steps.push({ kind: 'agent', socket: sources.agentSocket });
  }
  if (!hop.identityFilesExplicit) await loadAll(hop.identityFiles, false);
  if (sources.getPassword !== undefined) steps.push({ kind: 'password' });
  if (steps.length === 0) notes.push('no key, agent or password to offer');

  const note = (text: string) => {
    if (!notes.includes(text)) notes.push(text);
  };
  let index = 0;
  let password: Promise<string | undefined> | undefined;
  const username = hop.user;
  const handler: AuthHandlerMiddleware = (methodsLeft, _partial, next) => {
    const offered = (type: AuthenticationType) => methodsLeft === null || methodsLeft.includes(type);
    const advance = (): void => {
      for (;;) {
        const step = steps[index++];
        if (step === undefined) {
          // ssh2 takes `false` for "no more methods"; its typings omit it.
          (next as unknown as (v: false) => void)(false);
          return;
        }
        if (step.kind === 'key' || step.kind === 'agent') {
          if (!offered('publickey')) continue;
          next(
            step.kind === 'key'
              ? { type: 'publickey', username, key: step.key }
              : { type: 'agent', username, agent: step.socket },
          );
          return;
        }
        if (!offered('password')) {
          note('server does not accept passwords');
          continue;
        }
        password ??= sources.getPassword!(hop, node);
        password.then(
          (pw) => {
            if (pw === undefined) {
              note('no password given');
              advance();
            } else next({ type: 'password', username, password: pw });
          },
          () => {
            note('password prompt failed');
            advance();
          },
        );
        return;
      }
    };
    advance();
  };
  return { handler, notes, note };
}
