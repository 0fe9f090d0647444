// Where the running lab keeps its files and what it remembers about itself. Everything lives in
// one root-owned directory under /run (tmpfs: gone after a reboot, never committed), so `down`
// can remove it in one step. NPG_LAB_STATE overrides the location (tests of the CLI itself).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabOptions } from './topology';

export const STATE_DIR = process.env.NPG_LAB_STATE ?? '/run/npg-lab';

export const paths = {
  root: STATE_DIR,
  stateFile: join(STATE_DIR, 'state.json'),
  workspace: join(STATE_DIR, 'workspace.yaml'),
  knownHosts: join(STATE_DIR, 'known_hosts'),
  labKey: join(STATE_DIR, 'ssh', 'lab_ed25519'),
  authorizedKeysDir: join(STATE_DIR, 'ssh', 'authorized_keys'),
  home: (user: string) => join(STATE_DIR, 'home', user),
  nodeDir: (node: string) => join(STATE_DIR, 'nodes', node),
  /** Put first in PATH of that node's ssh sessions (and their sudo); empty unless a fault is on. */
  nodeBin: (node: string) => join(STATE_DIR, 'nodes', node, 'bin'),
  /** The node's own /root, bind-mounted over the machine's for that node's sshd only. */
  nodeRootHome: (node: string) => join(STATE_DIR, 'nodes', node, 'root-home'),
  sshdConfig: (node: string) => join(STATE_DIR, 'nodes', node, 'sshd_config'),
  hostKey: (node: string) => join(STATE_DIR, 'nodes', node, 'ssh_host_ed25519_key'),
  sshdPid: (node: string) => join(STATE_DIR, 'nodes', node, 'sshd.pid'),
  sshdLog: (node: string) => join(STATE_DIR, 'nodes', node, 'sshd.log'),
  podServerJs: join(STATE_DIR, 'pod-server.mjs'),
  podsConfig: (node: string) => join(STATE_DIR, 'nodes', node, 'pods.json'),
  podsReady: (node: string) => join(STATE_DIR, 'nodes', node, 'pods.ready'),
  podsLog: (node: string) => join(STATE_DIR, 'nodes', node, 'pods.log'),
} as const;

/** Files outside STATE_DIR that `up` creates and `down` removes. */
export const SUDOERS_FILE = '/etc/sudoers.d/npglab';
export const PRIVSEP_DIR = '/run/sshd';
export const LAB_USERS = { sudo: 'npglab-sudo', nosudo: 'npglab-nosudo' } as const;

export interface NodeProcesses {
  readonly sshd?: number;
  readonly pods?: number;
}

export interface LabState {
  readonly version: 1;
  readonly options: LabOptions;
  readonly createdAt: string;
  /** Processes the lab started, by node name. */
  readonly processes: Readonly<Record<string, NodeProcesses>>;
  /** Whether `up` created /run/sshd (then `down` removes it). */
  readonly createdPrivsepDir: boolean;
}

export async function readState(): Promise<LabState | undefined> {
  try {
    const parsed = JSON.parse(await readFile(paths.stateFile, 'utf8')) as LabState;
    if (parsed.version !== 1) return undefined;
    // State files written before --layout existed mean the current layout.
    return { ...parsed, options: { ...parsed.options, layout: parsed.options.layout ?? 'current' } };
  } catch {
    return undefined;
  }
}

/** Atomic: a crash mid-write never leaves half a state file. */
export async function writeState(state: LabState): Promise<void> {
  await mkdir(STATE_DIR, { recursive: true, mode: 0o755 });
  const tmp = `${paths.stateFile}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, paths.stateFile);
}

export async function updateProcesses(node: string, change: NodeProcesses): Promise<void> {
  const state = await readState();
  if (!state) throw new Error('lab is not up (no state file)');
  const current = state.processes[node] ?? {};
  await writeState({ ...state, processes: { ...state.processes, [node]: { ...current, ...change } } });
}
