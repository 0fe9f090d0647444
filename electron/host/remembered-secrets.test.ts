// The keychain layer between IPC and the engine: a stored secret answers the engine's question
// without the page seeing it; otherwise the page is asked and told whether "remember" works here;
// a remembered secret that turns out wrong is forgotten and the page is asked.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiEvent, ApiResult, CredentialPromptView } from '../../shared/api.js';
import { createSecretStore, type SafeStorageLike, type SecretStore } from '../shell/secrets.js';
import type { Dispatch } from './dispatch.js';
import { withRememberedSecrets } from './remembered-secrets.js';

const safeStorage: SafeStorageLike = {
  isEncryptionAvailable: () => true,
  getSelectedStorageBackend: () => 'gnome_libsecret',
  encryptString: (plain) => Buffer.from(`ENC:${[...plain].reverse().join('')}`),
  decryptString: (enc) => [...enc.toString().slice(4)].reverse().join(''),
};

/**
 * Stands in for the engine's side of the contract: `discover` asks for the key's passphrase (again,
 * with retry, while the answer is not `right`, up to three times) and answers with what it was given.
 */
function fakeEngine(right: string) {
  const waiting = new Map<string, (s: string | null) => void>();
  const answers: (string | null)[] = [];
  let n = 0;
  const dispatch: Dispatch = async (method, payload, ctx = {}) => {
    if (method === 'credentialAnswer') {
      const p = payload as { requestId: string; secret: string | null; remember: boolean };
      if (p.remember) throw new Error('remember reached the engine');
      const w = waiting.get(p.requestId);
      if (!w) return { ok: false, error: { code: 'bad-input', message: 'expired' } };
      waiting.delete(p.requestId);
      w(p.secret);
      return { ok: true, value: null };
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const prompt: CredentialPromptView = {
        requestId: `r${++n}`,
        kind: 'passphrase',
        subject: '/home/op/.ssh/id_ed25519',
        secretName: 'passphrase:/home/op/.ssh/id_ed25519',
        retry: attempt > 0,
        canRemember: false,
        rememberRefusal: 'engine wording',
      };
      const secret = await new Promise<string | null>((resolve) => {
        waiting.set(prompt.requestId, resolve);
        ctx.emit?.({ kind: 'credential', prompt });
      });
      answers.push(secret);
      if (secret === right) return { ok: true, value: 'connected' };
      if (secret === null) break;
    }
    return { ok: false, error: { code: 'failed', message: 'wrong passphrase' } };
  };
  return { dispatch, answers };
}

/** The page: answers each question it sees with the next of `replies`. */
function page(api: Dispatch, replies: { secret: string | null; remember: boolean }[]) {
  const seen: CredentialPromptView[] = [];
  const answerResults: ApiResult<unknown>[] = [];
  const emit = (event: unknown) => {
    const e = event as ApiEvent;
    if (e.kind !== 'credential') return;
    seen.push(e.prompt);
    const reply = replies.shift() ?? { secret: null, remember: false };
    void api('credentialAnswer', { requestId: e.prompt.requestId, ...reply }).then((r) =>
      answerResults.push(r),
    );
  };
  return { emit, seen, answerResults };
}

let dir: string;
let store: SecretStore;
const warnings: string[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'npg-secrets-'));
  store = createSecretStore({ safeStorage, dir, platform: 'linux', warn: (l) => warnings.push(l) });
  warnings.length = 0;
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('withRememberedSecrets', () => {
  it('asks the page, says remember works, stores the secret encrypted, and answers from the keychain next time', async () => {
    const engine = fakeEngine('s3cret');
    const api = withRememberedSecrets(engine.dispatch, { store, refusal: () => undefined });
    const first = page(api, [{ secret: 's3cret', remember: true }]);
    expect(await api('discover', {}, { emit: first.emit })).toEqual({ ok: true, value: 'connected' });
    expect(first.seen).toHaveLength(1);
    expect(first.seen[0]).toMatchObject({ canRemember: true, retry: false });
    expect(first.seen[0]?.rememberRefusal).toBeUndefined();
    await vi.waitFor(() => expect(first.answerResults).toHaveLength(1));
    expect(first.answerResults).toEqual([{ ok: true, value: null }]);
    const file = await readFile(join(dir, 'secrets.json'), 'utf8');
    expect(file).not.toContain('s3cret');
    expect(file).toContain('passphrase:/home/op/.ssh/id_ed25519');

    const second = page(api, []);
    expect(await api('discover', {}, { emit: second.emit })).toEqual({ ok: true, value: 'connected' });
    expect(second.seen).toEqual([]);
    expect(engine.answers).toEqual(['s3cret', 's3cret']);
  });

  it('without a keychain the page is told why, and nothing is stored', async () => {
    const engine = fakeEngine('s3cret');
    const refusal = 'cannot remember the passphrase: no keyring (gnome-keyring or KWallet) is running';
    const api = withRememberedSecrets(engine.dispatch, { store, refusal: () => refusal });
    const p = page(api, [{ secret: 's3cret', remember: true }]);
    expect(await api('discover', {}, { emit: p.emit })).toEqual({ ok: true, value: 'connected' });
    expect(p.seen[0]).toMatchObject({ canRemember: false, rememberRefusal: refusal });
    await vi.waitFor(() => expect(p.answerResults).toHaveLength(1));
    expect(p.answerResults).toEqual([
      { ok: false, error: { code: 'failed', message: `used for this session; ${refusal}` } },
    ]);
    expect(await store.has('passphrase:/home/op/.ssh/id_ed25519')).toBe(false);
  });

  it('a remembered secret that is wrong is forgotten and the page is asked, saying it was wrong', async () => {
    await store.set('passphrase:/home/op/.ssh/id_ed25519', 'old');
    const engine = fakeEngine('new');
    const api = withRememberedSecrets(engine.dispatch, {
      store,
      refusal: () => undefined,
      warn: (l) => warnings.push(l),
    });
    const p = page(api, [{ secret: 'new', remember: false }]);
    expect(await api('discover', {}, { emit: p.emit })).toEqual({ ok: true, value: 'connected' });
    expect(engine.answers).toEqual(['old', 'new']);
    expect(p.seen.map((s) => s.retry)).toEqual([true]);
    expect(await store.has('passphrase:/home/op/.ssh/id_ed25519')).toBe(false);
    expect(warnings).toEqual([
      'secrets: the remembered passphrase for /home/op/.ssh/id_ed25519 was wrong; forgotten',
    ]);
  });

  it('a skipped question sends null on and stores nothing; other events pass untouched', async () => {
    const engine = fakeEngine('s3cret');
    const api = withRememberedSecrets(engine.dispatch, { store, refusal: () => undefined });
    const p = page(api, [{ secret: null, remember: true }]);
    expect(await api('discover', {}, { emit: p.emit })).toMatchObject({ ok: false });
    expect(engine.answers).toEqual([null]);
    expect(await store.has('passphrase:/home/op/.ssh/id_ed25519')).toBe(false);

    const events: ApiEvent[] = [];
    const passThrough = withRememberedSecrets(
      async (_m, _p, ctx = {}) => {
        ctx.emit?.({ kind: 'phase', phase: 'reading' });
        return { ok: true, value: 1 };
      },
      { store, refusal: () => undefined },
    );
    expect(await passThrough('plan', {}, { emit: (e) => events.push(e as ApiEvent) })).toEqual({
      ok: true,
      value: 1,
    });
    expect(events).toEqual([{ kind: 'phase', phase: 'reading' }]);
  });

  it('a wrong answer the person asked to remember is not stored; the right one, asked again, is', async () => {
    const engine = fakeEngine('right');
    const api = withRememberedSecrets(engine.dispatch, { store, refusal: () => undefined });
    const p = page(api, [
      { secret: 'wrong', remember: true },
      { secret: 'right', remember: false },
    ]);
    expect(await api('discover', {}, { emit: p.emit })).toEqual({ ok: true, value: 'connected' });
    expect(engine.answers).toEqual(['wrong', 'right']);
    expect(await store.has('passphrase:/home/op/.ssh/id_ed25519')).toBe(false);

    const q = page(api, [
      { secret: 'wrong', remember: true },
      { secret: 'right', remember: true },
    ]);
    expect(await api('discover', {}, { emit: q.emit })).toEqual({ ok: true, value: 'connected' });
    const s = await store.get('passphrase:/home/op/.ssh/id_ed25519');
    expect(s).toEqual({ ok: true, value: 'right' });
  });

  it('a password is never remembered (a wrong one is not asked again), and the page is told why', async () => {
    let requestId = '';
    const dispatch: Dispatch = async (method, payload, ctx = {}) => {
      if (method === 'credentialAnswer') return { ok: true, value: null };
      requestId = 'pw1';
      ctx.emit?.({
        kind: 'credential',
        prompt: {
          requestId,
          node: 'n1',
          kind: 'password',
          subject: 'root@198.18.0.11:22',
          secretName: 'password:root@198.18.0.11:22',
          retry: false,
          canRemember: false,
          rememberRefusal: 'engine wording',
        },
      });
      await new Promise((r) => setTimeout(r, 20));
      return { ok: true, value: payload };
    };
    const api = withRememberedSecrets(dispatch, { store, refusal: () => undefined });
    const p = page(api, [{ secret: 'hunter2', remember: true }]);
    await api('discover', {}, { emit: p.emit });
    expect(p.seen[0]).toMatchObject({ canRemember: false });
    expect(p.seen[0]?.rememberRefusal).toMatch(/^passwords are not remembered/);
    await vi.waitFor(() => expect(p.answerResults).toHaveLength(1));
    expect(p.answerResults[0]).toMatchObject({
      ok: false,
      error: { message: /^used for this session; passwords/ },
    });
    expect(await store.has('password:root@198.18.0.11:22')).toBe(false);
  });

  it('a question the engine sends to two calls reaches the page once', async () => {
    const prompt: CredentialPromptView = {
      requestId: 'twice',
      kind: 'passphrase',
      subject: '/k',
      secretName: 'passphrase:/k',
      retry: false,
      canRemember: false,
    };
    const dispatch: Dispatch = async (_m, _p, ctx = {}) => {
      ctx.emit?.({ kind: 'credential', prompt });
      await new Promise((r) => setTimeout(r, 20));
      return { ok: true, value: null };
    };
    const api = withRememberedSecrets(dispatch, { store, refusal: () => undefined });
    const seen: unknown[] = [];
    await Promise.all([
      api('discover', {}, { emit: (e) => seen.push(e) }),
      api('nodePortCounters', {}, { emit: (e) => seen.push(e) }),
    ]);
    expect(seen).toHaveLength(1);
  });

  it('an answer to an unknown question is the engine’s bad input, and nothing is stored', async () => {
    const engine = fakeEngine('s3cret');
    const api = withRememberedSecrets(engine.dispatch, { store, refusal: () => undefined });
    const r = await api('credentialAnswer', { requestId: 'nope', secret: 'x', remember: true });
    expect(r).toEqual({ ok: false, error: { code: 'bad-input', message: 'expired' } });
    expect(await store.has('passphrase:/home/op/.ssh/id_ed25519')).toBe(false);
  });
});
