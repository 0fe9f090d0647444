// The wire format every transport of api.ts speaks (the loopback WebSocket and Electron IPC carry
// the same envelopes). A call may stream progress events before its one result, and the caller
// may cancel it; the engine sees cancellation as an AbortSignal.
//
//   client -> host   { id, method, payload }       start a call (id: a positive integer per connection)
//   client -> host   { cancel: id }                abort that call (its result still arrives, as an error)
//   host -> client   { id, event }                 zero or more progress events of call id
//   host -> client   { id, result }                exactly one result: ApiResult (errors are data)
import { z } from 'zod';

export const CallIdSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const CallMessageSchema = z.strictObject({
  id: CallIdSchema,
  method: z.string().min(1).max(64),
  payload: z.unknown(),
});

export const CancelMessageSchema = z.strictObject({ cancel: CallIdSchema });

export const ClientMessageSchema = z.union([CallMessageSchema, CancelMessageSchema]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

export const ApiErrorSchema = z.strictObject({
  code: z.enum(['bad-input', 'failed', 'unknown-method', 'cancelled']),
  message: z.string().max(4096),
});

export const ResultMessageSchema = z.strictObject({
  id: CallIdSchema.nullable(),
  result: z.union([
    z.strictObject({ ok: z.literal(true), value: z.unknown() }),
    z.strictObject({ ok: z.literal(false), error: ApiErrorSchema }),
  ]),
});

export const EventMessageSchema = z.strictObject({ id: CallIdSchema, event: z.unknown() });

export const HostMessageSchema = z.union([ResultMessageSchema, EventMessageSchema]);
export type HostMessage = z.infer<typeof HostMessageSchema>;

/** What a transport hands the dispatcher with each call. */
export interface CallContext {
  /** Aborted when the caller cancels or its connection closes. */
  readonly signal: AbortSignal;
  /** Sends one progress event of this call to its caller (already validated by the dispatcher). */
  readonly emit: (event: unknown) => void;
}
