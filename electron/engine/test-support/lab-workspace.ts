// A private copy of the lab's workspace for one test file: same nodes and key, its own
// known_hosts copy and its own local store, so tests never write the lab's shared files.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';

export interface LabWorkspace {
  readonly dir: string;
  readonly path: string;
  readonly knownHosts: string;
  cleanup(): Promise<void>;
}

export async function copyLabWorkspace(labWorkspacePath: string): Promise<LabWorkspace> {
  const dir = await mkdtemp(join(tmpdir(), 'npg-engine-'));
  const base = dirname(labWorkspacePath);
  const ws = parse(await readFile(labWorkspacePath, 'utf8')) as {
    inventory: { knownHosts?: string; defaults?: { identityFile?: string } };
  };
  const knownHosts = join(dir, 'known_hosts');
  await copyFile(resolve(base, ws.inventory.knownHosts ?? 'known_hosts'), knownHosts);
  ws.inventory.knownHosts = knownHosts;
  if (ws.inventory.defaults?.identityFile)
    ws.inventory.defaults.identityFile = resolve(base, ws.inventory.defaults.identityFile);
  const path = join(dir, 'workspace.yaml');
  await writeFile(path, stringify(ws));
  return { dir, path, knownHosts, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
