// The setup every CLI lab test file shares: the running lab's topology, a private copy of its
// workspace, the guard removed from every node before the file's tests and again after them, and
// edits of the copy's policy. Call once at the top of a test file (it registers the hooks).
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect } from 'vitest';
import { currentLab, type LabTopology, workspacePath } from '../../../e2e/lab/lab';
import { parseWorkspace, serializeWorkspace } from '../../../shared/workspace/codec';
import type { Policy, Workspace } from '../../../shared/workspace/schema';
import { copyLabWorkspace, type LabWorkspace } from '../../engine/test-support/lab-workspace';
import { npg } from './npg-run';

export interface LabCli {
  readonly topo: () => LabTopology;
  readonly ws: () => LabWorkspace;
  /** --workspace, --ssh-config none, --quiet, and the file's own extra flags. */
  readonly common: () => string[];
  edit(change: (w: Workspace) => Workspace): Promise<void>;
  setPolicy(policy: Policy): Promise<void>;
  /** `npg remove --yes` on every node; fails the test unless it exits 0. */
  removeAll(): Promise<void>;
}

export function labCliSuite(
  options: {
    readonly extraFlags?: readonly string[];
    /** After the copy is made and the guard removed (e.g. a first policy). */
    readonly setup?: (cli: LabCli) => Promise<void>;
    /** Before the final remove (e.g. undo the file's faults). */
    readonly teardown?: (cli: LabCli) => Promise<void>;
  } = {},
): LabCli {
  let topo: LabTopology | undefined;
  let ws: LabWorkspace | undefined;
  const must = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`${what} is not ready: labCliSuite's beforeAll has not run`);
    return v;
  };
  const cli: LabCli = {
    topo: () => must(topo, 'the lab topology'),
    ws: () => must(ws, 'the workspace copy'),
    common: () => [
      '--workspace',
      cli.ws().path,
      '--ssh-config',
      'none',
      '--quiet',
      ...(options.extraFlags ?? []),
    ],
    async edit(change) {
      const r = parseWorkspace(await readFile(cli.ws().path, 'utf8'));
      if (!r.ok) throw new Error(r.error);
      await writeFile(cli.ws().path, serializeWorkspace(change(r.workspace)));
    },
    setPolicy: (policy) => cli.edit((w) => ({ ...w, policy })),
    async removeAll() {
      const r = await npg(['remove', ...cli.common(), '--yes']);
      expect(r.code, r.stderr).toBe(0);
    },
  };
  beforeAll(async () => {
    topo = await currentLab();
    ws = await copyLabWorkspace(workspacePath());
    // Start from no guard, whatever an earlier run left.
    await cli.removeAll();
    await options.setup?.(cli);
  }, 180_000);
  afterAll(async () => {
    if (topo) await options.teardown?.(cli);
    if (ws) {
      await npg(['remove', ...cli.common(), '--yes']);
      await ws.cleanup();
    }
  }, 180_000);
  return cli;
}

/** tcp/30001 (the lab's web service) guarded, allowing these sources. */
export const port30001 = (allow: readonly string[]): Policy['nodePorts'][number] => ({
  port: 30001,
  protocol: 'tcp',
  mode: 'enforce',
  blackholePort: 65535,
  allow: allow.map((cidr) => ({ cidr })),
});
