// Request schemas of every API method: the renderer is untrusted input, so every payload is parsed
// with these at the host boundary before the engine sees it. Addresses, ports and names are typed
// and bounded here; the engine still parses CIDRs strictly (shared/guard) before anything reaches
// a node.
import { z } from 'zod';
import { GUARD_BACKENDS } from '../vocabulary';

/** 64 MiB: a 5,000-service iptables-save dump is ~10 MB; anything far larger is a mistake. */
export const MAX_DUMP_CHARS = 64 * 1024 * 1024;

const address = z.string().min(2).max(64);
const port = z.number().int().min(1).max(65535);
const protocol = z.enum(['tcp', 'udp', 'sctp']);
const nodeName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a node name: letters, digits, . _ -');
const chainName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'a chain name');
const filePath = z
  .string()
  .min(1)
  .max(4096)
  .regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters');
const label = z.string().max(200);
const allowEntry = z.strictObject({ cidr: z.string().min(1).max(64), label: label.optional() });
const family = z.enum(['ipv4', 'ipv6']);

/** Where a trace or a chain read looks: a dump the engine holds, or a node of the open workspace. */
const source = z.union([
  z.strictObject({ dumpId: z.string().min(1).max(64) }),
  z.strictObject({ node: nodeName }),
]);

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
  source,
  src: address,
  /** The node address the packet is sent to; for a node source, defaults to its first address. */
  dst: address.optional(),
  dport: port,
  protocol: protocol.default('tcp'),
  inInterface: z.string().max(15).optional(),
});

export const DumpNodePortRequestSchema = z.strictObject({
  dumpId: z.string().min(1).max(64),
  port,
  protocol: protocol.default('tcp'),
});

export const ChainRulesRequestSchema = z.strictObject({
  source,
  chain: chainName,
  family: family.default('ipv4'),
});

export const NoRequestSchema = z.strictObject({});

export const OpenWorkspaceRequestSchema = z.strictObject({ path: filePath });

export const CreateWorkspaceRequestSchema = z.strictObject({
  path: filePath,
  nodes: z
    .array(
      z.strictObject({
        name: nodeName,
        host: z.string().min(1).max(253),
        port: port.optional(),
        user: z.string().min(1).max(32).optional(),
      }),
    )
    .min(1)
    .max(1000),
  user: z.string().min(1).max(32).optional(),
  identityFile: filePath.optional(),
  sudo: z.boolean().optional(),
  knownHosts: filePath.optional(),
});

export const DiscoverRequestSchema = z.strictObject({
  /** Read again even when a read of this session is fresh. */
  refresh: z.boolean().optional(),
});

export const HostKeyDecisionRequestSchema = z.strictObject({
  requestId: z.string().min(1).max(64),
  decision: z.enum(['once', 'always', 'reject']),
});

export const CredentialAnswerRequestSchema = z.strictObject({
  requestId: z.string().min(1).max(64),
  /** null: skip (the key is not offered; the password is not sent). */
  secret: z.string().min(1).max(4096).nullable(),
  /** Keep it in the OS keychain (desktop app only; the Electron main process does it). */
  remember: z.boolean(),
});

export const NodePortRequestSchema = z.strictObject({
  /** A node, or `*` for the path of the first node with counters summed over every node read. */
  node: z.union([nodeName, z.literal('*')]),
  port,
  protocol: protocol.default('tcp'),
  family: family.default('ipv4'),
});

export const PortRequestSchema = z.strictObject({ port, protocol: protocol.default('tcp') });

/** The workspace's guard backend on iptables- and ipvs-mode nodes (policy.guardBackend). */
export const SetGuardBackendRequestSchema = z.strictObject({ backend: z.enum(GUARD_BACKENDS) });

/** Guard this node even where its dataplane may bypass netfilter (cluster.guardAnyway), or stop. */
export const SetGuardAnywayRequestSchema = z.strictObject({ node: nodeName, on: z.boolean() });

export const SetPolicyRequestSchema = z.strictObject({
  port,
  protocol: protocol.default('tcp'),
  allow: z.array(allowEntry).max(10_000),
  mode: z.enum(['enforce', 'audit']).optional(),
  blackholePort: port.optional(),
  service: z.string().max(300).optional(),
  /** An empty `allow` is refused unless this says it is meant (it blocks every source). */
  allowEmpty: z.boolean().optional(),
});

export const SaveGroupRequestSchema = z.strictObject({
  name: z.string().min(1).max(64),
  entries: z.array(allowEntry).max(10_000),
});

export const DeleteGroupRequestSchema = z.strictObject({ name: z.string().min(1).max(64) });

export const ApplyRequestSchema = z.strictObject({
  confirmWithinSeconds: z.number().int().min(10).max(86_400).optional(),
  canary: nodeName.optional(),
  killEstablished: z.boolean().optional(),
  /** The plan the user looked at: refuse if the nodes or the policy changed since. */
  planHash: z.string().max(128).optional(),
});

export const RollbackRequestSchema = z.strictObject({
  confirmWithinSeconds: z.number().int().min(10).max(86_400).optional(),
});

export const VerifyRequestSchema = z.strictObject({
  probe: z.boolean().optional(),
  probeFrom: nodeName.optional(),
});

export const WatchRequestSchema = z.strictObject({
  periodSeconds: z.number().int().min(2).max(3600).default(10),
});

export const ExportRequestSchema = z.strictObject({ dir: filePath.optional() });

export type InspectRequest = z.infer<typeof InspectRequestSchema>;
export type TraceRequest = z.input<typeof TraceRequestSchema>;
