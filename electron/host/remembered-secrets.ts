// Remembered passphrases and passwords, in the Electron main process only. The engine asks for a
// credential with an event; this layer, between the IPC transport and the engine, answers it from
// the OS keychain (shell/secrets.ts) when one is stored, so a remembered secret never reaches the
// page; otherwise the question goes on to the page, saying whether "remember" can work here. An
// answer the person asked to remember is stored only once proven: when the call that asked ends
// without the engine asking again (a wrong passphrase is asked again at once). Passwords are never
// remembered: a wrong one is not asked again, so it could not be told from a right one.
// The web host has no keychain and does not use this layer: there the engine's own wording says so.
import { type ApiEvent, type CredentialPromptView, checkEvent } from '../../shared/api.js';
import type { SecretStore } from '../shell/secrets.js';
import type { Dispatch } from './dispatch.js';

const PASSWORD_NOT_REMEMBERED =
  'passwords are not remembered: a wrong one could not be told from a right one (use a key)';

export interface RememberedSecretsOptions {
  readonly store: SecretStore;
  /** Why secrets cannot be stored safely now (shell/secrets.ts secretStorageRefusal), or undefined. */
  readonly refusal: () => string | undefined;
  readonly warn?: (line: string) => void;
}

interface CredentialAnswer {
  readonly requestId: string;
  readonly secret: string | null;
  readonly remember: boolean;
}

function isCredentialAnswer(payload: unknown): payload is CredentialAnswer {
  const p = payload as Partial<CredentialAnswer> | null;
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.requestId === 'string' &&
    (typeof p.secret === 'string' || p.secret === null) &&
    typeof p.remember === 'boolean'
  );
}

export function withRememberedSecrets(dispatch: Dispatch, options: RememberedSecretsOptions): Dispatch {
  const warn = options.warn ?? ((line: string) => console.warn(line));
  /** requestId -> the name its answer would be remembered under and the call that asked. */
  const asked = new Map<string, { readonly name: string; readonly call: object }>();
  /** Every question is handled once, though the engine sends it to each call following the nodes. */
  const claimed = new Set<string>();
  /** Names answered from the keychain: if the engine asks again, the stored secret was wrong. */
  const answeredFromStore = new Set<string>();
  /**
   * Answers the person asked to remember, kept until the call that asked ends without the engine
   * asking again (a wrong passphrase is asked again at once): only a proven secret is stored.
   */
  const toRemember = new Map<string, { readonly secret: string; readonly call: object }>();

  async function fromStore(prompt: CredentialPromptView): Promise<boolean> {
    if (options.refusal() !== undefined) return false;
    const name = prompt.secretName;
    if (prompt.retry && answeredFromStore.has(name)) {
      answeredFromStore.delete(name);
      const gone = await options.store.delete(name);
      warn(
        `secrets: the remembered ${prompt.kind} for ${prompt.subject} was wrong${gone.ok ? '; forgotten' : ''}`,
      );
      return false;
    }
    if (prompt.retry) return false;
    const stored = await options.store.get(name);
    if (!stored.ok || stored.value === null) return false;
    // Marked before answering: the engine may ask again (retry) before the answer's promise settles.
    answeredFromStore.add(name);
    const r = await dispatch('credentialAnswer', {
      requestId: prompt.requestId,
      secret: stored.value,
      remember: false,
    });
    if (!r.ok) answeredFromStore.delete(name);
    return r.ok;
  }

  /** Why this answer cannot be remembered, or undefined. */
  function rememberRefusal(kind: CredentialPromptView['kind']): string | undefined {
    // A wrong password is not asked again (the server just refuses), so it could never be told
    // from a right one: only passphrases, which the key itself checks, are remembered.
    return kind === 'password' ? PASSWORD_NOT_REMEMBERED : options.refusal();
  }

  function ask(prompt: CredentialPromptView, emit: (e: unknown) => void, call: object): void {
    const refusal = rememberRefusal(prompt.kind);
    asked.set(prompt.requestId, { name: prompt.secretName, call });
    const { rememberRefusal: _engineWording, ...rest } = prompt;
    const event: ApiEvent = {
      kind: 'credential',
      prompt: {
        ...rest,
        canRemember: refusal === undefined,
        ...(refusal ? { rememberRefusal: refusal } : {}),
      },
    };
    emit(event);
  }

  /** The call that asked has ended: store what it proved right. */
  async function remember(call: object): Promise<void> {
    for (const [name, r] of [...toRemember]) {
      if (r.call !== call) continue;
      toRemember.delete(name);
      const stored = await options.store.set(name, r.secret);
      if (!stored.ok) warn(`secrets: not remembered: ${stored.error.message}`);
    }
  }

  return async (method, payload, ctx = {}) => {
    if (method === 'credentialAnswer' && isCredentialAnswer(payload)) {
      const q = asked.get(payload.requestId);
      asked.delete(payload.requestId);
      const wanted = payload.remember && payload.secret !== null && q !== undefined ? q : undefined;
      const refusal = wanted
        ? rememberRefusal(wanted.name.startsWith('password:') ? 'password' : 'passphrase')
        : undefined;
      // Kept before the engine has the answer: a wrong one is asked again before this call resumes.
      const kept =
        wanted && refusal === undefined ? { secret: payload.secret as string, call: wanted.call } : undefined;
      if (wanted && kept) toRemember.set(wanted.name, kept);
      const answered = await dispatch(method, { ...payload, remember: false }, ctx);
      if (!answered.ok) {
        if (wanted && toRemember.get(wanted.name) === kept) toRemember.delete(wanted.name);
        return answered;
      }
      if (refusal !== undefined)
        return { ok: false, error: { code: 'failed', message: `used for this session; ${refusal}` } };
      return answered;
    }
    const emit = ctx.emit;
    if (emit === undefined) return dispatch(method, payload, ctx);
    const call = {};
    try {
      return await dispatch(method, payload, {
        ...ctx,
        emit: (e) => {
          const event = checkEvent(e);
          if (event?.kind !== 'credential') return emit(e);
          const prompt = event.prompt;
          if (claimed.has(prompt.requestId)) return;
          claimed.add(prompt.requestId);
          // Asked again: the answer given was wrong, so it is not remembered.
          if (prompt.retry) toRemember.delete(prompt.secretName);
          void fromStore(prompt).then(
            (done) => {
              if (!done) ask(prompt, emit, call);
            },
            () => ask(prompt, emit, call),
          );
        },
      });
    } finally {
      await remember(call);
    }
  };
}
