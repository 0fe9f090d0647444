// lab:status matches what runs; lab:down leaves no trace; lab:up rebuilds it (with the options it
// had, so later tests and CI's lab:down find the lab as they left it).
import { access, readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { WorkspaceSchema } from '../../shared/workspace/schema';
import { labDown } from './down';
import { currentLab, currentStatus, paths } from './lab';
import { labLinks } from './network';
import { readState } from './state';
import { run, runRaw } from './sys/exec';
import { listNetns } from './sys/netns';
import { isAlive } from './sys/processes';
import type { LabOptions } from './topology';
import { labUp } from './up';

let options: LabOptions | undefined;

afterAll(async () => {
  // Whatever happened above, leave the lab up with its original options.
  if (options) await labUp(options);
}, 120_000);

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('lab status', () => {
  it('reports the workspace, nodes, clients and NodePorts of the running lab', async () => {
    const status = await currentStatus();
    expect(status.workspace).toBe(paths.workspace);
    const ws = WorkspaceSchema.parse(parse(await readFile(status.workspace, 'utf8')));
    expect(ws.inventory.nodes.map((n) => n.host)).toEqual(status.nodes.map((n) => n.ip));
    const namespaces = await listNetns();
    for (const n of status.nodes) expect(namespaces).toContain(n.netns);
    for (const c of status.clients) expect(namespaces).toContain(c.netns);
    const knownHosts = await readFile(paths.knownHosts, 'utf8');
    for (const n of status.nodes) expect(knownHosts).toContain(`${n.ip} ssh-ed25519 `);
  });

  it('prints exactly that JSON from the command line', async () => {
    const out = await run(['npx', 'tsx', 'e2e/lab/cli.ts', 'status', '--json'], { timeoutMs: 60_000 });
    expect(JSON.parse(out)).toEqual(JSON.parse(JSON.stringify(await currentStatus())));
  });
});

describe('lab down and up', () => {
  it('down leaves no namespace, link, process, user or file; up brings it all back', async () => {
    const state = await readState();
    expect(state).toBeDefined();
    options = state!.options;
    const pids = Object.values(state!.processes).flatMap((p) =>
      [p.sshd, p.pods].filter((x): x is number => x !== undefined),
    );
    expect(pids.length).toBe(2 * (await currentLab()).nodes.length);

    await labDown();
    expect((await listNetns()).filter((n) => n.startsWith('npg-'))).toEqual([]);
    expect(await labLinks()).toEqual([]);
    // A killed daemon may linger as a zombie until init reaps it; isAlive counts that as gone.
    for (const pid of pids) expect(await isAlive(pid)).toBe(false);
    expect(await exists(paths.root)).toBe(false);
    expect(await exists('/etc/sudoers.d/npglab')).toBe(false);
    expect((await runRaw(['id', '-u', 'npglab-sudo'])).code).not.toBe(0);

    const started = Date.now();
    await labUp(options);
    expect(Date.now() - started).toBeLessThan(30_000);
    const again = await readState();
    expect(again?.options).toEqual(options);
  });

  it('up again is a no-op on a healthy lab', async () => {
    const before = await readState();
    await labUp(options!);
    expect((await readState())?.processes).toEqual(before?.processes);
  });
});
