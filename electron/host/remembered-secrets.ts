// Remembered passphrases and passwords, in the Electron main process only. The engine asks for a
// credential with an event; this layer, between the IPC transport and the engine, answers it from
// the OS keychain (shell/secrets.ts) when one is stored, so a remembered secret never reaches the
// page; otherwise the question goes on to the page, saying whether "remember" can work here. When
// the page answers with remember, the secret is stored after it has been handed to the engine.
// The web host has no keychain and does not use this layer: there the engine's own wording says so.
import { type ApiEvent, type CredentialPromptView, checkEvent } from '../../shared/api.js';
import type { SecretStore } from '../shell/secrets.js';
import type { Dispatch } from './dispatch.js';

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
  /** requestId -> the name its answer would be remembered under (questions sent to the page). */
  const asked = new Map<string, string>();
  /** Names answered from the keychain: if the engine asks again, the stored secret was wrong. */
  const answeredFromStore = new Set<string>();

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

  function ask(prompt: CredentialPromptView, emit: (e: unknown) => void): void {
    const refusal = options.refusal();
    asked.set(prompt.requestId, prompt.secretName);
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

  return async (method, payload, ctx = {}) => {
    if (method === 'credentialAnswer' && isCredentialAnswer(payload)) {
      const name = asked.get(payload.requestId);
      asked.delete(payload.requestId);
      const answered = await dispatch(method, { ...payload, remember: false }, ctx);
      if (!answered.ok || !payload.remember || payload.secret === null || name === undefined) return answered;
      const refusal = options.refusal();
      if (refusal !== undefined)
        return { ok: false, error: { code: 'failed', message: `used for this session; ${refusal}` } };
      const stored = await options.store.set(name, payload.secret);
      if (stored.ok) return answered;
      return {
        ok: false,
        error: {
          code: 'failed',
          message: `used for this session but not remembered: ${stored.error.message}`,
        },
      };
    }
    const emit = ctx.emit;
    if (emit === undefined) return dispatch(method, payload, ctx);
    return dispatch(method, payload, {
      ...ctx,
      emit: (e) => {
        const event = checkEvent(e);
        if (event?.kind !== 'credential') return emit(e);
        const prompt = event.prompt;
        void fromStore(prompt).then(
          (done) => {
            if (!done) ask(prompt, emit);
          },
          () => ask(prompt, emit),
        );
      },
    });
  };
}
