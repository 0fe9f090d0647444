// One WebSocket's calls, in the envelopes of shared/api/wire.ts: validate each message, run the
// call with an AbortSignal and an emit() for its progress events, answer with exactly one result.
// Nothing a client sends may crash the host: every bad message is answered as data.
import type { WebSocket } from 'ws';
import {
  CallMessageSchema,
  CancelMessageSchema,
  type ClientMessage,
  ClientMessageSchema,
  decodeFileCall,
} from '../../shared/api/wire.js';
import { callTable, failure } from './call-table.js';
import type { Dispatch } from './dispatch.js';

/** Calls one socket may have in flight; a client looping without awaiting hits this, not our memory. */
export const MAX_CALLS_PER_SOCKET = 64;

/** Sends one envelope if the socket is still open; false when it could not be sent. */
function send(ws: WebSocket, msg: unknown): boolean {
  if (ws.readyState !== ws.OPEN) return false;
  let text: string;
  try {
    text = JSON.stringify(msg);
  } catch {
    return false; // not serialisable (a cycle, a BigInt): the caller decides what to say instead
  }
  ws.send(text);
  return true;
}

/** One line saying why a parsed message is not a ClientMessage. */
export function describeInvalidMessage(value: unknown): string {
  const shape = '{id, method, payload} or {cancel: id}';
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return `a message must be a JSON object ${shape}, not ${kind}`;
  }
  // Report against the envelope the client evidently meant, not the union's "invalid input".
  const schema = 'cancel' in value ? CancelMessageSchema : CallMessageSchema;
  const issue = schema.safeParse(value).error?.issues[0];
  if (!issue) return `a message must be ${shape}`;
  const where = issue.path.length > 0 ? issue.path.join('.') : 'message';
  return `${where}: ${issue.message.split('\n')[0]}`;
}

/** Parses and validates one frame: the message, or the one-line reason it is refused. */
function parseMessage(data: Buffer, isBinary: boolean): ClientMessage | string {
  if (isBinary) return decodeFileCall(data);
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    return 'the message is not JSON';
  }
  const parsed = ClientMessageSchema.safeParse(value);
  return parsed.success ? parsed.data : describeInvalidMessage(value);
}

/** Serves the calls of one accepted socket until it closes. */
export function serveCalls(ws: WebSocket, dispatch: Dispatch): void {
  const table = callTable(dispatch, (msg) => send(ws, msg), { maxCalls: MAX_CALLS_PER_SOCKET });

  // data is a Buffer: the socket keeps ws's default binaryType ('nodebuffer').
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const msg = parseMessage(data, isBinary);
    if (typeof msg === 'string') return void send(ws, { id: null, result: failure('bad-input', msg) });
    table.accept(msg);
  });

  ws.on('close', () => table.abortAll('the connection closed'));

  // Oversized frames, invalid UTF-8, protocol errors: ws closes the socket with the right code
  // (1009, 1007, 1002); without this listener the 'error' event would crash the process.
  ws.on('error', () => {});
}
