// The wire format every transport of api.ts speaks (the loopback WebSocket and Electron IPC carry
// the same envelopes). A call may stream progress events before its one result, and the caller
// may cancel it; the engine sees cancellation as an AbortSignal.
//
//   client -> host   { id, method, payload }       start a call (id: a positive integer per connection)
//   client -> host   { cancel: id }                abort that call (its result still arrives, as an error)
//   host -> client   { id, event }                 zero or more progress events of call id
//   host -> client   { id, result }                exactly one result: ApiResult (errors are data)
//
// A call whose `text` comes from a file travels as one binary frame (encodeFileCall): a 4-byte
// big-endian length, that many bytes of the JSON envelope { id, method, payload, file: 'text' },
// then the file's bytes, which the host decodes as UTF-8 into payload.text. The page never turns
// 8 MB into a JSON string (escaping, copying: 90-140 ms on its thread); the host checks the
// result like any other call.
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

/** The only payload field a file may fill. */
export const FILE_FIELD = 'text';

const FileCallHeaderSchema = z.strictObject({
  id: CallIdSchema,
  method: z.string().min(1).max(64),
  payload: z.record(z.string(), z.unknown()),
  file: z.literal(FILE_FIELD),
});

/** The largest envelope before the file's bytes (the payload's other fields are small). */
const MAX_FILE_CALL_HEADER = 64 * 1024;

/** One binary frame: the call's envelope (its payload without `text`) and the file's bytes. */
export function encodeFileCall(
  call: { readonly id: number; readonly method: string; readonly payload: object },
  bytes: Uint8Array,
): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify({ ...call, file: FILE_FIELD }));
  const frame = new Uint8Array(4 + header.length + bytes.length);
  new DataView(frame.buffer).setUint32(0, header.length);
  frame.set(header, 4);
  frame.set(bytes, 4 + header.length);
  return frame;
}

/** The call a binary frame carries, its file decoded into payload.text; or why it is refused. */
export function decodeFileCall(frame: Uint8Array): z.infer<typeof CallMessageSchema> | string {
  if (frame.length < 4) return 'a binary frame must start with its envelope length';
  const length = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0);
  if (length > MAX_FILE_CALL_HEADER || 4 + length > frame.length)
    return `a binary frame's envelope length ${length} does not fit the frame`;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(frame.subarray(4, 4 + length)));
  } catch {
    return "a binary frame's envelope is not JSON";
  }
  const header = FileCallHeaderSchema.safeParse(value);
  if (!header.success) return "a binary frame's envelope must be { id, method, payload, file: 'text' }";
  // As the browser reads a file as text: invalid UTF-8 becomes U+FFFD, and the parser says where.
  const text = new TextDecoder('utf-8').decode(frame.subarray(4 + length));
  const { id, method, payload } = header.data;
  return { id, method, payload: { ...payload, [FILE_FIELD]: text } };
}

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
