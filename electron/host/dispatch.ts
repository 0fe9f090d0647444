// The checked entry point for every transport: validate the method and payload against the
// contract, then call the service. No transport may call the service any other way.
import { type ApiResult, checkRequest, type NpgApi } from '../../shared/api.js';

export type Dispatch = (method: unknown, payload: unknown) => Promise<ApiResult<unknown>>;

export function createDispatcher(service: NpgApi): Dispatch {
  return async (method, payload) => {
    const checked = checkRequest(method, payload);
    if (!checked.ok) return checked;
    try {
      // The schema for `checked.method` has validated `payload`, so the cast is sound.
      const call = service[checked.method] as (req: unknown) => Promise<ApiResult<unknown>>;
      return await call.call(service, checked.payload);
    } catch (err) {
      return {
        ok: false,
        error: { code: 'failed', message: `${checked.method}: ${(err as Error).message}` },
      };
    }
  };
}
