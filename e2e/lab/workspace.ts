// The workspace file lab:up writes: the inventory of the lab's nodes (root with the lab key,
// known_hosts with their real host keys) and an empty policy, validated by the app's own schema.
import { writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { stringify } from 'yaml';
import { type Workspace, WorkspaceSchema } from '../../shared/workspace/schema';
import { paths } from './state';
import type { LabTopology } from './topology';

export function labWorkspace(topo: LabTopology, workspacePath: string = paths.workspace): Workspace {
  const base = workspacePath.slice(0, workspacePath.lastIndexOf('/'));
  return WorkspaceSchema.parse({
    version: 1,
    inventory: {
      knownHosts: relative(base, paths.knownHosts),
      defaults: { user: 'root', port: 22, identityFile: relative(base, paths.labKey) },
      nodes: topo.nodes.map((n) => ({ name: n.name, host: n.ipv4 })),
    },
    policy: { nodePorts: [] },
  });
}

export async function writeWorkspace(topo: LabTopology): Promise<string> {
  const ws = labWorkspace(topo);
  const text = `# NodePort Guard lab workspace, written by \`npm run lab:up\` (${topo.nodes.length} nodes, ${topo.options.mode} mode)\n${stringify(ws)}`;
  await writeFile(paths.workspace, text, { mode: 0o644 });
  return paths.workspace;
}
