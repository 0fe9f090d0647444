// The workspace file (YAML): inventory of nodes and the guard policy. The UI, the CLI and the lab
// all read and write this one format, so its schema is the contract; parse it only through here.
import { z } from 'zod';
import { parseCidr } from '../guard/cidr';
import { GUARD_BACKENDS, PROTOCOLS } from '../vocabulary';

const hostname = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.:_[\]-]+$/, 'host must be a hostname or IP address');
const nodeName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'name: letters, digits, . _ - only');
const user = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z_][a-z0-9_-]*\$?$/i, 'user: a POSIX user name');
const port = z.number().int().min(1).max(65535);
/** Free text that ends up in rule comments and one-line messages: no control characters (no newlines). */
const plainText = (max: number) =>
  z
    .string()
    .max(max)
    .regex(
      /^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$/,
      'must not contain control characters or line breaks',
    );
/** A local file path (key, known_hosts). */
const filePath = plainText(4096).min(1);

export const SshEndpointSchema = z.strictObject({
  name: nodeName,
  host: hostname,
  port: port.optional(),
  user: user.optional(),
  /** Private key path; relative paths are relative to the workspace file. */
  identityFile: filePath.optional(),
  /** Names of jumpHosts, outermost first (ProxyJump a,b). */
  proxyJump: z.array(nodeName).optional(),
});

export const NodeSchema = SshEndpointSchema.extend({
  /** Run privileged commands with `sudo -n` (for non-root users). */
  sudo: z.boolean().optional(),
});

export const InventorySchema = z.strictObject({
  /** known_hosts file; relative to the workspace file. */
  knownHosts: filePath.optional(),
  defaults: z
    .strictObject({
      user: user.optional(),
      port: port.optional(),
      identityFile: filePath.optional(),
      sudo: z.boolean().optional(),
    })
    .optional(),
  jumpHosts: z.array(SshEndpointSchema).optional(),
  nodes: z.array(NodeSchema),
});

/** Address or CIDR, IPv4 or IPv6 (validated and normalised by shared/guard). */
const cidr = z
  .string()
  .max(64)
  .superRefine((value, ctx) => {
    const r = parseCidr(value);
    if (!r.ok) ctx.addIssue({ code: 'custom', message: r.error.reason });
  });

export const AllowEntrySchema = z.strictObject({
  cidr,
  label: plainText(200).optional(),
});

/**
 * What plan checks allow-lists against, beyond the nodes it reads: the pod CIDRs (pods reaching a
 * NodePort through a node address) and the load balancer's health-check sources (CIDRs, or the
 * names `gcp` / `azure` for their published ranges). CLI flags add to these.
 */
export const ClusterSchema = z.strictObject({
  podCidrs: z.array(cidr).max(64).optional(),
  healthCheckRanges: z
    .array(z.union([z.enum(['gcp', 'azure']), cidr]))
    .max(64)
    .optional(),
  /**
   * kube-apiserver's --service-node-port-range, `FROM-TO` (default 30000-32767): a guarded port
   * outside it gets a warning, since no Service can have it as a NodePort.
   */
  nodePortRange: z
    .string()
    .max(11)
    .regex(/^\d{1,5}-\d{1,5}$/, 'FROM-TO, e.g. 30000-32767')
    .refine((text) => {
      const [from, to] = text.split('-').map(Number) as [number, number];
      return from >= 1 && from <= to && to <= 65535;
    }, 'FROM-TO with 1 <= FROM <= TO <= 65535')
    .optional(),
  /**
   * Nodes to guard even where something other than kube-proxy's netfilter rules may serve their
   * NodePorts (Cilium, Calico's eBPF dataplane, kube-router): apply refuses those otherwise, and
   * there verify's probes are the judge.
   */
  guardAnyway: z.array(nodeName).max(10_000).optional(),
});

export const GuardModeSchema = z.enum(['enforce', 'audit']);
export const ProtocolSchema = z.enum(PROTOCOLS);

export const NodePortPolicySchema = z.strictObject({
  port: z.number().int().min(1).max(65535),
  protocol: ProtocolSchema.default('tcp'),
  mode: GuardModeSchema.default('enforce'),
  blackholePort: port.default(65535),
  /** Free text from kube-proxy's comment (namespace/name:port), for people. */
  service: plainText(300).optional(),
  allow: z.array(AllowEntrySchema).default([]),
});

export const PolicySchema = z.strictObject({
  /**
   * The guard on iptables- and ipvs-mode nodes: `iptables` (the default, NPG- chains) or `nft` (our
   * own table, which a kube-proxy restart or a flush of iptables' PREROUTING cannot reorder or
   * remove). kube-proxy's nftables mode always takes nft.
   */
  guardBackend: z.enum(GUARD_BACKENDS).optional(),
  nodePorts: z
    .array(NodePortPolicySchema)
    .default([])
    .superRefine((nodePorts, ctx) => {
      // One policy per (protocol, port): two would compete for the same NPG- chain.
      const seen = new Map<string, number>();
      nodePorts.forEach((np, i) => {
        const key = `${np.protocol}/${np.port}`;
        const first = seen.get(key);
        if (first === undefined) seen.set(key, i);
        else
          ctx.addIssue({
            code: 'custom',
            path: [i],
            message: `${key} is already guarded by policy.nodePorts[${first}]`,
          });
        if (np.blackholePort === np.port) {
          ctx.addIssue({
            code: 'custom',
            path: [i, 'blackholePort'],
            message: `${np.port} is the guarded port itself`,
          });
        }
      });
    }),
});

/** Saved address groups (office, VPN, health checkers): the UI's palette, by name. */
export const AddressGroupSchema = z.strictObject({
  name: plainText(64).min(1),
  entries: z.array(AllowEntrySchema).max(10_000),
});

export const WorkspaceSchema = z.strictObject({
  version: z.literal(1),
  inventory: InventorySchema,
  cluster: ClusterSchema.optional(),
  policy: PolicySchema.default({ nodePorts: [] }),
  groups: z
    .array(AddressGroupSchema)
    .max(200)
    .superRefine((groups, ctx) => {
      const seen = new Set<string>();
      groups.forEach((g, i) => {
        if (seen.has(g.name))
          ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `${g.name} is named twice` });
        seen.add(g.name);
      });
    })
    .optional(),
});

export type SshEndpoint = z.infer<typeof SshEndpointSchema>;
export type InventoryNode = z.infer<typeof NodeSchema>;
export type Inventory = z.infer<typeof InventorySchema>;
export type AllowEntry = z.infer<typeof AllowEntrySchema>;
export type GuardMode = z.infer<typeof GuardModeSchema>;
export type NodePortPolicy = z.infer<typeof NodePortPolicySchema>;
export type Policy = z.infer<typeof PolicySchema>;
export type Cluster = z.infer<typeof ClusterSchema>;
export type Workspace = z.infer<typeof WorkspaceSchema>;
export type AddressGroup = z.infer<typeof AddressGroupSchema>;
