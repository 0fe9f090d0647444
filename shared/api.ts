// The one contract between the UI and the engine. Every transport (Electron IPC, the loopback
// WebSocket host) and every client is derived from this file: adding a method means adding its
// request schema and response type here, and implementing it in the engine's service. Requests
// are validated with these schemas at every host boundary, because the renderer is untrusted input.
import { z } from 'zod';

/** 64 MiB: a 5,000-service iptables-save dump is ~10 MB; anything far larger is a mistake. */
const MAX_DUMP_CHARS = 64 * 1024 * 1024;

const Ipv4OrV6 = z.string().min(2).max(64);

export const InspectRequestSchema = z.strictObject({
  /** iptables-save output (or an excerpt, or `iptables -t nat -S`). */
  text: z.string().max(MAX_DUMP_CHARS),
  /** Read an excerpt without a `*table` header as this table. */
  table: z.enum(['nat', 'filter', 'mangle', 'raw', 'security']).optional(),
  /** `ipset list` output, for ipvs mode. */
  ipsets: z.string().max(MAX_DUMP_CHARS).optional(),
  /** `ipvsadm -Ln` output, for ipvs mode. */
  ipvs: z.string().max(MAX_DUMP_CHARS).optional(),
});

export const TraceRequestSchema = z.strictObject({
  text: z.string().max(MAX_DUMP_CHARS),
  table: z.enum(['nat']).optional(),
  ipsets: z.string().max(MAX_DUMP_CHARS).optional(),
  src: Ipv4OrV6,
  dst: Ipv4OrV6,
  dport: z.number().int().min(1).max(65535),
  protocol: z.enum(['tcp', 'udp', 'sctp']).default('tcp'),
  inInterface: z.string().max(15).optional(),
  /** The node's own addresses (addrtype LOCAL); defaults to [dst]. */
  localAddresses: z.array(Ipv4OrV6).max(1024).optional(),
});

export type InspectRequest = z.infer<typeof InspectRequestSchema>;
export type TraceRequest = z.input<typeof TraceRequestSchema>;

/** Errors cross the boundary as data, with a one-line message naming what and where. */
export interface ApiError {
  readonly code: 'bad-input' | 'failed' | 'unknown-method';
  readonly message: string;
}

export type ApiResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: ApiError };

export interface EndpointView {
  readonly address: string;
  readonly probability: number;
  readonly chain?: string;
  readonly node?: string;
}

export interface PathStepView {
  readonly chain: string;
  readonly kind: string;
  /** The rule that leads here, as an iptables-save line. */
  readonly via?: string;
  readonly packets?: number;
  readonly bytes?: number;
}

export interface NodePortView {
  readonly port: number;
  readonly protocol: string;
  readonly service?: string;
  readonly endpoints: readonly EndpointView[];
  readonly path: readonly PathStepView[];
  readonly noEndpoints: boolean;
  readonly localOnly: boolean;
  readonly guarded: boolean;
  readonly notes: readonly string[];
}

export interface InspectResponse {
  readonly mode: string;
  readonly layout: string;
  readonly backend: string;
  readonly nodePorts: readonly NodePortView[];
  readonly warnings: readonly string[];
}

export interface TraceHopView {
  readonly chain: string;
  readonly rule: string;
  readonly line?: number;
}

export interface TraceOutcomeView {
  readonly verdict: 'dnat' | 'redirect' | 'accept' | 'drop' | 'unknown' | 'unchanged';
  readonly probability: number;
  readonly detail: string;
  readonly hops: readonly TraceHopView[];
}

export interface TraceResponse {
  readonly outcomes: readonly TraceOutcomeView[];
}

/** Method name -> request schema. The host validates against these before calling the service. */
export const requestSchemas = {
  inspect: InspectRequestSchema,
  trace: TraceRequestSchema,
} as const;

export type ApiMethod = keyof typeof requestSchemas;

/** What the engine implements and what every client exposes. */
export interface NpgApi {
  inspect(req: InspectRequest): Promise<ApiResult<InspectResponse>>;
  trace(req: TraceRequest): Promise<ApiResult<TraceResponse>>;
}

export const apiMethods = Object.keys(requestSchemas) as readonly ApiMethod[];

/** Parse and validate a call at a trust boundary; the only way a request reaches the service. */
export function checkRequest(
  method: unknown,
  payload: unknown,
): { ok: true; method: ApiMethod; payload: unknown } | { ok: false; error: ApiError } {
  if (typeof method !== 'string' || !Object.hasOwn(requestSchemas, method)) {
    return {
      ok: false,
      error: { code: 'unknown-method', message: `unknown API method: ${String(method).slice(0, 60)}` },
    };
  }
  const schema = requestSchemas[method as ApiMethod];
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'request';
    return {
      ok: false,
      error: { code: 'bad-input', message: `${method}: ${where}: ${issue?.message ?? 'invalid'}` },
    };
  }
  return { ok: true, method: method as ApiMethod, payload: parsed.data };
}
