// The checked entry point for every transport: validate the method and payload against the
// contract, then call the service with the call's signal and a checked event sink. No transport
// may call the service any other way.

import type { CallContext } from '../../shared/api/wire.js';
import {
  type ApiEvent,
  ApiEventSchema,
  type ApiResult,
  checkRequest,
  type EngineApi,
} from '../../shared/api.js';

export type Dispatch = (
  method: unknown,
  payload: unknown,
  ctx?: Partial<CallContext>,
) => Promise<ApiResult<unknown>>;

export function createDispatcher(service: EngineApi): Dispatch {
  return async (method, payload, ctx = {}) => {
    const checked = checkRequest(method, payload);
    if (!checked.ok) return checked;
    const signal = ctx.signal ?? new AbortController().signal;
    const emit = (event: ApiEvent) => {
      // The engine is ours, but an event that fails its schema would fail in the renderer anyway:
      // catch it here, where the stack names the code that built it.
      const r = ApiEventSchema.safeParse(event);
      if (!r.success)
        throw new Error(
          `event of ${checked.method} does not match the contract: ${r.error.issues[0]?.message}`,
        );
      ctx.emit?.(r.data);
    };
    try {
      // The schema for `checked.method` has validated `payload`, so the cast is sound.
      const call = service[checked.method] as (
        req: unknown,
        c: { signal: AbortSignal; emit: typeof emit },
      ) => Promise<ApiResult<unknown>>;
      return await call.call(service, checked.payload, { signal, emit });
    } catch (err) {
      if (signal.aborted)
        return { ok: false, error: { code: 'cancelled', message: `${checked.method}: cancelled` } };
      return {
        ok: false,
        error: { code: 'failed', message: `${checked.method}: ${(err as Error).message}` },
      };
    }
  };
}
