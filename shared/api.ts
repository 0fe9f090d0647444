// The one contract between the UI and the engine. One method table gives, per method, its request
// schema and its response type; the engine's service, the host dispatcher, the Electron preload,
// the WebSocket host and the renderer's client are all derived from it. Adding a method means a
// line here and its implementation in the engine's service (electron/engine/service.ts).
import type { z } from 'zod';
import { ApiEventSchema } from './api/events';
import * as R from './api/requests';
import type * as V from './api/views';
import type { ApiEvent } from './api/views';

export { ApiEventSchema } from './api/events';
export * from './api/requests';
export type * from './api/views';

/** Errors cross the boundary as data, with a one-line message naming what and where. */
export interface ApiError {
  readonly code: 'bad-input' | 'failed' | 'unknown-method' | 'cancelled';
  readonly message: string;
}

export type ApiResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: ApiError };

/** A method: its request schema, and (as a phantom type) its response. */
interface MethodSpec<S extends z.ZodType, T> {
  readonly request: S;
  /** Type only: never read at run time. */
  readonly response?: T;
  /** Long calls stream progress events and can be cancelled. */
  readonly streams: boolean;
}

const method =
  <T>() =>
  <S extends z.ZodType>(request: S, opts: { streams?: boolean } = {}): MethodSpec<S, T> => ({
    request,
    streams: opts.streams ?? false,
  });

/** The method table. Order is the order of the on-call flow. */
export const methods = {
  // offline analysis of a dump
  inspect: method<V.InspectResponse>()(R.InspectRequestSchema),
  dumpNodePort: method<V.NodePortView>()(R.DumpNodePortRequestSchema),
  trace: method<V.TraceResponse>()(R.TraceRequestSchema),
  chainRules: method<V.ChainRulesView>()(R.ChainRulesRequestSchema),
  // the workspace
  recentWorkspaces: method<readonly V.RecentWorkspaceView[]>()(R.NoRequestSchema),
  startWorkspace: method<string | null>()(R.NoRequestSchema),
  openWorkspace: method<V.WorkspaceView>()(R.OpenWorkspaceRequestSchema),
  createWorkspace: method<V.WorkspaceView>()(R.CreateWorkspaceRequestSchema),
  sshConfigHosts: method<readonly V.InventoryNodeView[]>()(R.NoRequestSchema),
  closeWorkspace: method<null>()(R.NoRequestSchema),
  // nodes
  discover: method<V.DiscoverResponse>()(R.DiscoverRequestSchema, { streams: true }),
  hostKeyDecision: method<null>()(R.HostKeyDecisionRequestSchema),
  credentialAnswer: method<null>()(R.CredentialAnswerRequestSchema),
  nodePort: method<V.NodePortView>()(R.NodePortRequestSchema),
  // Only the nat table of the nodes asked, laid over nodePort's path: the diagram's live counters.
  nodePortCounters: method<V.NodePortCountersView>()(R.NodePortRequestSchema, { streams: true }),
  observedSources: method<V.ObservedSourcesResponse>()(R.PortRequestSchema, { streams: true }),
  // policy
  setPolicy: method<V.PolicyResponse>()(R.SetPolicyRequestSchema),
  dropPolicy: method<V.PolicyResponse>()(R.PortRequestSchema),
  setGuardBackend: method<V.PolicyResponse>()(R.SetGuardBackendRequestSchema),
  setGuardAnyway: method<V.WorkspaceView>()(R.SetGuardAnywayRequestSchema),
  saveGroup: method<V.WorkspaceView>()(R.SaveGroupRequestSchema),
  deleteGroup: method<V.WorkspaceView>()(R.DeleteGroupRequestSchema),
  // rollout
  plan: method<V.PlanResponse>()(R.NoRequestSchema, { streams: true }),
  apply: method<V.ChangeResponse>()(R.ApplyRequestSchema, { streams: true }),
  confirm: method<V.ConfirmResponse>()(R.NoRequestSchema, { streams: true }),
  rollback: method<V.ChangeResponse>()(R.RollbackRequestSchema, { streams: true }),
  remove: method<V.ChangeResponse>()(R.NoRequestSchema, { streams: true }),
  verify: method<V.VerifyResponse>()(R.VerifyRequestSchema, { streams: true }),
  watch: method<V.VerifyResponse | null>()(R.WatchRequestSchema, { streams: true }),
  // the record
  export: method<V.ExportResponse>()(R.ExportRequestSchema),
  history: method<V.HistoryResponse>()(R.NoRequestSchema),
} as const;

type Methods = typeof methods;
export type ApiMethod = keyof Methods;
export type RequestOf<M extends ApiMethod> = z.input<Methods[M]['request']>;
export type ParsedRequestOf<M extends ApiMethod> = z.output<Methods[M]['request']>;
export type ResponseOf<M extends ApiMethod> = Exclude<Methods[M]['response'], undefined>;

export const apiMethods = Object.keys(methods) as readonly ApiMethod[];

/** How a caller follows a long call: its events as they come, and a signal that cancels it. */
export interface CallOptions {
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: ApiEvent) => void;
  /**
   * The request's `text`, read from this file by the transport: sent as bytes (wire.ts
   * encodeFileCall), not as a JSON string built on the page's thread.
   */
  readonly file?: Blob;
}

/** What every client exposes: one async function per method. */
export type NpgApi = {
  readonly [M in ApiMethod]: (req: RequestOf<M>, opts?: CallOptions) => Promise<ApiResult<ResponseOf<M>>>;
};

/** What the engine implements: parsed requests, and the call's signal and event sink. */
export interface EngineCall {
  readonly signal: AbortSignal;
  readonly emit: (event: ApiEvent) => void;
}
export type EngineApi = {
  readonly [M in ApiMethod]: (req: ParsedRequestOf<M>, call: EngineCall) => Promise<ApiResult<ResponseOf<M>>>;
};

/** Parse and validate a call at a trust boundary; the only way a request reaches the service. */
export function checkRequest(
  name: unknown,
  payload: unknown,
): { ok: true; method: ApiMethod; payload: unknown } | { ok: false; error: ApiError } {
  if (typeof name !== 'string' || !Object.hasOwn(methods, name)) {
    return {
      ok: false,
      error: { code: 'unknown-method', message: `unknown API method: ${String(name).slice(0, 60)}` },
    };
  }
  const schema: z.ZodType = methods[name as ApiMethod].request;
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'request';
    return {
      ok: false,
      error: { code: 'bad-input', message: `${name}: ${where}: ${issue?.message ?? 'invalid'}` },
    };
  }
  return { ok: true, method: name as ApiMethod, payload: parsed.data };
}

/** Parse an event at the receiving end; a malformed one is dropped by the caller, loudly. */
export function checkEvent(event: unknown): ApiEvent | undefined {
  const r = ApiEventSchema.safeParse(event);
  return r.success ? r.data : undefined;
}
