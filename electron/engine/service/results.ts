// ApiResult constructors for the engine's service: errors are data, one line naming what and where.
import type { ApiResult } from '../../../shared/api.js';

export const ok = <T>(value: T): ApiResult<T> => ({ ok: true, value });

export const badInput = (message: string): { ok: false; error: { code: 'bad-input'; message: string } } => ({
  ok: false,
  error: { code: 'bad-input', message },
});

export const failed = (message: string): { ok: false; error: { code: 'failed'; message: string } } => ({
  ok: false,
  error: { code: 'failed', message },
});

export const cancelled = (what: string): { ok: false; error: { code: 'cancelled'; message: string } } => ({
  ok: false,
  error: { code: 'cancelled', message: `${what}: cancelled` },
});
