// Turns the workspace inventory (plus ~/.ssh/config) into ResolvedNodes: the host, port, user, keys
// and bastion chain to use for each node. Precedence, per field: the node's own setting, then the
// inventory defaults, then the first matching ~/.ssh/config Host entry, then built-ins (port 22,
// the local user name, OpenSSH's default key files). The workspace wins because it is the shared,
// reviewed description of the cluster; ssh config fills in what it leaves open. HostName from ssh
// config does apply to an inventory host that is an alias, as it would for `ssh alias`.
// Inventory defaults apply to nodes only: a bastion usually has its own user (say so in the
// jumpHosts entry). Pure: the caller reads the files.
import { isAbsolute, join, resolve } from 'node:path';
import type { Inventory, SshEndpoint } from '../../shared/workspace/schema';
import {
  type JumpSpec,
  lookupSshHost,
  parseProxyJump,
  type SshConfigFile,
  type SshConfigHost,
} from './ssh-config';
import type { ResolvedNode, SshHop } from './types';

export interface ResolveOptions {
  /** Folder of the workspace file: relative identityFile and knownHosts paths start here. */
  readonly workspaceDir: string;
  readonly sshConfig?: SshConfigFile;
  readonly homeDir: string;
  readonly localUser: string;
}

export interface ResolveProblem {
  readonly node: string;
  readonly message: string;
}

export type InventoryResolution =
  | {
      readonly ok: true;
      readonly nodes: readonly ResolvedNode[];
      /** The known_hosts file to check against and record into. */
      readonly knownHostsPath: string;
      readonly warnings: readonly string[];
    }
  | { readonly ok: false; readonly problems: readonly ResolveProblem[] };

const MAX_HOPS = 8;
const DEFAULT_KEY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

type HopResult = { ok: true; hop: SshHop } | { ok: false; message: string };
type ChainResult = { ok: true; hops: SshHop[] } | { ok: false; message: string };

export function resolveInventory(inventory: Inventory, options: ResolveOptions): InventoryResolution {
  const ctx = new Resolver(inventory, options);
  const nodes: ResolvedNode[] = [];
  const problems: ResolveProblem[] = [];
  const seen = new Set<string>();
  for (const node of inventory.nodes) {
    if (seen.has(node.name)) {
      problems.push({ node: node.name, message: `${node.name}: node name used twice in the inventory` });
      continue;
    }
    seen.add(node.name);
    const resolved = ctx.node(node);
    if (resolved.ok) nodes.push(resolved.node);
    else problems.push({ node: node.name, message: `${node.name}: ${resolved.message}` });
  }
  if (problems.length > 0) return { ok: false, problems };
  const knownHostsPath =
    inventory.knownHosts === undefined
      ? join(options.homeDir, '.ssh', 'known_hosts')
      : ctx.workspacePath(inventory.knownHosts);
  return { ok: true, nodes, knownHostsPath, warnings: options.sshConfig?.warnings ?? [] };
}

class Resolver {
  constructor(
    private readonly inventory: Inventory,
    private readonly options: ResolveOptions,
  ) {}

  workspacePath(path: string): string {
    if (path === '~' || path.startsWith('~/')) return join(this.options.homeDir, path.slice(1));
    return isAbsolute(path) ? path : resolve(this.options.workspaceDir, path);
  }

  node(node: Inventory['nodes'][number]): { ok: true; node: ResolvedNode } | { ok: false; message: string } {
    const defaults = this.inventory.defaults ?? {};
    const hop = this.endpoint(node, defaults);
    if (!hop.ok) return hop;
    const chain = this.chainFor(node, new Set([node.name]));
    if (!chain.ok) return chain;
    if (chain.hops.length > MAX_HOPS) return { ok: false, message: `more than ${MAX_HOPS} jump hosts` };
    const sudo = node.sudo ?? defaults.sudo ?? hop.hop.user !== 'root';
    return { ok: true, node: { ...hop.hop, sudo, jumps: chain.hops } };
  }

  private sshHost(host: string): { ok: true; host: SshConfigHost } | { ok: false; message: string } {
    if (this.options.sshConfig === undefined) return { ok: true, host: { identityFiles: [] } };
    return lookupSshHost(this.options.sshConfig, host);
  }

  /** One endpoint: workspace fields, then defaults (nodes only), then ssh config, then built-ins. */
  private endpoint(
    ep: SshEndpoint,
    defaults: { user?: string; port?: number; identityFile?: string },
  ): HopResult {
    const sc = this.sshHost(ep.host);
    if (!sc.ok) return sc;
    const host = sc.host.hostName === undefined ? ep.host : expandHostName(sc.host.hostName, ep.host);
    const port = ep.port ?? defaults.port ?? sc.host.port ?? 22;
    const user = ep.user ?? defaults.user ?? sc.host.user ?? this.options.localUser;
    const workspaceKey = ep.identityFile ?? defaults.identityFile;
    const identity = this.identityFiles(
      workspaceKey === undefined ? undefined : this.workspacePath(workspaceKey),
      sc.host.identityFiles,
      { host, user, port },
    );
    return { ok: true, hop: { name: ep.name, host, port, user, ...identity } };
  }

  private identityFiles(
    fromWorkspace: string | undefined,
    fromConfig: readonly string[],
    tokens: { host: string; user: string; port: number },
  ): Pick<SshHop, 'identityFiles' | 'identityFilesExplicit'> {
    if (fromWorkspace !== undefined) return { identityFiles: [fromWorkspace], identityFilesExplicit: true };
    if (fromConfig.length > 0) {
      const files = fromConfig.map((f) => this.configPath(expandTokens(f, { ...tokens, ...this.options })));
      return { identityFiles: [...new Set(files)], identityFilesExplicit: true };
    }
    return {
      identityFiles: DEFAULT_KEY_FILES.map((f) => join(this.options.homeDir, '.ssh', f)),
      identityFilesExplicit: false,
    };
  }

  /** ssh config paths: ~ is the home folder, and so is the base of a relative path. */
  private configPath(path: string): string {
    if (path === '~' || path.startsWith('~/')) return join(this.options.homeDir, path.slice(1));
    return isAbsolute(path) ? path : resolve(this.options.homeDir, path);
  }

  /** The bastions for an endpoint: its workspace proxyJump, else its ssh config ProxyJump. */
  private chainFor(ep: SshEndpoint, visiting: ReadonlySet<string>): ChainResult {
    if (ep.proxyJump !== undefined) return this.workspaceChain(ep.proxyJump, visiting);
    const sc = this.sshHost(ep.host);
    if (!sc.ok) return sc;
    if (sc.host.proxyJump === undefined) return { ok: true, hops: [] };
    const specs = parseProxyJump(sc.host.proxyJump);
    if (!specs.ok) return specs;
    return this.configChain(specs.jumps, visiting);
  }

  /**
   * `ProxyJump a,b` means: reach a (through a's own jumps, if any), from a reach b, from b the
   * target. Only the first hop's own jumps apply, as with OpenSSH's `ssh -J a,b`.
   */
  private workspaceChain(names: readonly string[], visiting: ReadonlySet<string>): ChainResult {
    const hops: SshHop[] = [];
    for (const [i, name] of names.entries()) {
      if (visiting.has(name)) return { ok: false, message: `jump host loop through ${name}` };
      const jump = this.inventory.jumpHosts?.find((j) => j.name === name);
      if (jump === undefined)
        return { ok: false, message: `jump host ${name} is not in inventory.jumpHosts` };
      if (i === 0) {
        const inner = this.chainFor(jump, new Set([...visiting, name]));
        if (!inner.ok) return inner;
        hops.push(...inner.hops);
      }
      const hop = this.endpoint(jump, {});
      if (!hop.ok) return hop;
      hops.push(hop.hop);
      if (hops.length > MAX_HOPS) return { ok: false, message: `more than ${MAX_HOPS} jump hosts` };
    }
    return { ok: true, hops };
  }

  private configChain(specs: readonly JumpSpec[], visiting: ReadonlySet<string>): ChainResult {
    const hops: SshHop[] = [];
    for (const [i, spec] of specs.entries()) {
      const key = `${spec.user ?? ''}@${spec.host}:${spec.port ?? ''}`;
      if (visiting.has(key) || visiting.has(spec.host))
        return { ok: false, message: `ProxyJump loop through ${spec.host}` };
      // A ProxyJump name that is an inventory jump host means that entry (workspace settings win).
      const named = this.inventory.jumpHosts?.find((j) => j.name === spec.host);
      const ep: SshEndpoint = {
        ...(named ?? { name: spec.host, host: spec.host }),
        ...(spec.user === undefined ? {} : { user: spec.user }),
        ...(spec.port === undefined ? {} : { port: spec.port }),
      };
      if (i === 0) {
        const inner = this.chainFor(ep, new Set([...visiting, key, spec.host]));
        if (!inner.ok) return inner;
        hops.push(...inner.hops);
      }
      const hop = this.endpoint(ep, {});
      if (!hop.ok) return hop;
      hops.push(hop.hop);
      if (hops.length > MAX_HOPS) return { ok: false, message: `more than ${MAX_HOPS} jump hosts` };
    }
    return { ok: true, hops };
  }
}

function expandHostName(value: string, original: string): string {
  return value.replace(/%(%|h)/g, (_, t: string) => (t === '%' ? '%' : original));
}

/** ssh_config TOKENS we support in IdentityFile: %d %u %h %r %p %%; ~ is handled by the caller. */
function expandTokens(
  value: string,
  t: { homeDir: string; localUser: string; host: string; user: string; port: number },
): string {
  return value.replace(/%([%duhrp])/g, (_, c: string) => {
    switch (c) {
      case 'd':
        return t.homeDir;
      case 'u':
        return t.localUser;
      case 'h':
        return t.host;
      case 'r':
        return t.user;
      case 'p':
        return String(t.port);
      default:
        return '%';
    }
  });
}
