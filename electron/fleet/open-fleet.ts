// Opening the fleet for a workspace: read ~/.ssh/config, resolve the inventory under it, take the
// agent from SSH_AUTH_SOCK, and build the Fleet. The one place that reads the environment, so the
// rest of the fleet stays testable with explicit values.
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Inventory } from '../../shared/workspace/schema';
import type { CredentialSources } from './credentials';
import { Fleet, type FleetOptions } from './fleet';
import { type ResolveProblem, resolveInventory } from './resolve-inventory';
import { loadSshConfig, type SshConfigFile } from './ssh-config';

export interface OpenFleetOptions extends Omit<FleetOptions, 'nodes' | 'knownHostsPath' | 'credentials'> {
  /** Folder of the workspace file (relative paths in the inventory start there). */
  readonly workspaceDir: string;
  /** ssh config to read; null reads none (hermetic runs). Default ~/.ssh/config. */
  readonly sshConfigPath?: string | null;
  /** Overrides the inventory's knownHosts (and the ~/.ssh/known_hosts default). */
  readonly knownHostsPath?: string;
  /** Agent socket defaults to SSH_AUTH_SOCK; pass agentSocket: undefined explicitly for none. */
  readonly credentials?: CredentialSources;
  readonly homeDir?: string;
  readonly localUser?: string;
}

export type OpenFleetResult =
  | { readonly ok: true; readonly fleet: Fleet; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly problems: readonly ResolveProblem[] };

export async function openFleet(inventory: Inventory, options: OpenFleetOptions): Promise<OpenFleetResult> {
  // Called once when a workspace opens, not per command: the sync os lookups are fine here.
  const homeDir = options.homeDir ?? homedir();
  const localUser = options.localUser ?? userInfo().username;
  let sshConfig: SshConfigFile | undefined;
  if (options.sshConfigPath !== null) {
    const loaded = await loadSshConfig(options.sshConfigPath ?? join(homeDir, '.ssh', 'config'));
    if (!loaded.ok) return { ok: false, problems: [{ node: '*', message: loaded.message }] };
    sshConfig = loaded.config;
  }
  const resolved = resolveInventory(inventory, {
    workspaceDir: options.workspaceDir,
    homeDir,
    localUser,
    ...(sshConfig === undefined ? {} : { sshConfig }),
  });
  if (!resolved.ok) return resolved;
  const credentials: CredentialSources =
    options.credentials !== undefined && 'agentSocket' in options.credentials
      ? options.credentials
      : {
          ...options.credentials,
          ...(process.env.SSH_AUTH_SOCK ? { agentSocket: process.env.SSH_AUTH_SOCK } : {}),
        };
  const {
    workspaceDir: _w,
    sshConfigPath: _s,
    homeDir: _h,
    localUser: _l,
    knownHostsPath,
    ...fleetOptions
  } = options;
  const fleet = new Fleet({
    ...fleetOptions,
    nodes: resolved.nodes,
    knownHostsPath: knownHostsPath ?? resolved.knownHostsPath,
    credentials,
  });
  return { ok: true, fleet, warnings: resolved.warnings };
}
