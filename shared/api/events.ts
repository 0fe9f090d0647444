// Progress events of long calls (discover, plan, apply, verify, watch). One union for every
// method; the renderer parses each event with this schema before it touches a store, as the host
// parses each request: both sides of the boundary check what crosses it.
import { z } from 'zod';
import { GUARD_BACKENDS } from '../vocabulary';
import type { ApiEvent } from './views';

const line = z.string().max(4096);
const lines = z.array(line).max(10_000);

export const NodeSummarySchema = z.strictObject({
  node: z.string().max(64),
  mode: z.string().max(32),
  backend: z.string().max(32),
  families: z.array(z.string().max(8)).max(2),
  nodePorts: z.number().int().min(0),
  guard: z.enum(['none', 'healthy', 'unhealthy']),
  guardChains: z.number().int().min(0),
  guardBackend: z.enum(GUARD_BACKENDS).optional(),
  dataplane: z.strictObject({ guardable: z.enum(['no', 'unsure']), sentence: line }).optional(),
  pending: z.string().max(128).optional(),
  addresses: z.array(z.string().max(64)).max(1024),
  warnings: lines,
});

export const NodeStatusSchema = z.strictObject({
  node: z.string().max(64),
  state: z.enum(['connecting', 'reading', 'ok', 'failed']),
  summary: NodeSummarySchema.optional(),
  error: line.optional(),
  errorKind: z.string().max(64).optional(),
  durationMs: z.number().min(0).optional(),
});

export const HostKeyPromptSchema = z.strictObject({
  requestId: z.string().max(64),
  node: z.string().max(64),
  host: z.string().max(253),
  port: z.number().int().min(1).max(65535),
  role: z.enum(['node', 'jump-host']),
  fingerprint: z.string().max(128),
  keyType: z.string().max(64),
});

export const CredentialPromptSchema = z.strictObject({
  requestId: z.string().max(64),
  /** Absent for a key's passphrase: one key may serve every node. */
  node: z.string().max(64).optional(),
  kind: z.enum(['passphrase', 'password']),
  /** passphrase: the key file; password: user@host:port. */
  subject: z.string().max(4096),
  /** The name a remembered secret is stored under (main process only reads it). */
  secretName: z.string().max(4096),
  /** Asked again: the previous answer was wrong. */
  retry: z.boolean(),
  canRemember: z.boolean(),
  /** Why the answer cannot be remembered here (one line). */
  rememberRefusal: line.optional(),
});

export const HostKeyAcceptedSchema = z.strictObject({
  node: z.string().max(64),
  host: z.string().max(253),
  port: z.number().int().min(1).max(65535),
  role: z.enum(['node', 'jump-host']),
  fingerprint: z.string().max(128),
  keyType: z.string().max(64),
  recorded: z.boolean(),
  message: line,
});

export const NodeOutcomeSchema = z.strictObject({
  node: z.string().max(64),
  status: z.enum(['applied', 'drift', 'unchanged', 'failed', 'stale', 'pending', 'skipped']),
  line,
  rollsBackAt: z.number().optional(),
});

const VerifyCellSchema = z.strictObject({
  node: z.string().max(64),
  port: z.number().int(),
  protocol: z.string().max(8),
  status: z.enum(['ok', 'drift', 'error']),
  reasons: lines,
  blocked: z.number().optional(),
});

export const VerifyResultSchema = z.strictObject({
  status: z.enum(['ok', 'drift', 'error']),
  cells: z.array(VerifyCellSchema).max(1_000_000),
  nodes: z
    .array(
      z.strictObject({ node: z.string().max(64), status: z.enum(['ok', 'drift', 'error']), reasons: lines }),
    )
    .max(10_000),
  probes: z.array(z.strictObject({ line, ok: z.boolean() })).max(100_000),
  at: z.string().max(64),
  exitCode: z.number().int(),
});

export const ApiEventSchema: z.ZodType<ApiEvent> = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('node'), status: NodeStatusSchema }),
  z.strictObject({ kind: z.literal('host-key'), prompt: HostKeyPromptSchema }),
  z.strictObject({ kind: z.literal('host-key-accepted'), accepted: HostKeyAcceptedSchema }),
  z.strictObject({ kind: z.literal('credential'), prompt: CredentialPromptSchema }),
  z.strictObject({
    kind: z.literal('phase'),
    phase: z.enum(['reading', 'planned', 'canary', 'rolling-out', 'verifying', 'done']),
    detail: line.optional(),
  }),
  z.strictObject({ kind: z.literal('outcome'), outcome: NodeOutcomeSchema }),
  z.strictObject({ kind: z.literal('verify'), result: VerifyResultSchema }),
]);

export type { ApiEvent } from './views';
