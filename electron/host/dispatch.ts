// The checked entry point for every transport: validate the method and payload against the
// contract, then call the service. No transport may call the service any other way.
import type { ApiResult } from '../../shared/api.js';
import type { CallContext } from '../../shared/api/wire.js';

export type Dispatch = (
  method: unknown,
  payload: unknown,
  ctx?: Partial<CallContext>,
) => Promise<ApiResult<unknown>>;
