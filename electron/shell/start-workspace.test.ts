import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveStartWorkspace, workspaceFromArgv } from './start-workspace.js';

const cwd = resolve('/home/me/work');

describe('workspaceFromArgv', () => {
  it('reads --workspace FILE and --workspace=FILE, resolved against cwd', () => {
    expect(workspaceFromArgv(['/usr/bin/electron', '.', '--workspace', 'prod.yaml'], cwd)).toBe(
      join(cwd, 'prod.yaml'),
    );
    expect(workspaceFromArgv(['npg', '--workspace=/abs/w.yaml'], cwd)).toBe(resolve('/abs/w.yaml'));
    expect(workspaceFromArgv(['npg', '--workspace', 'my cluster.yaml'], cwd)).toBe(
      join(cwd, 'my cluster.yaml'),
    );
  });

  it('is null without the flag or without a value', () => {
    expect(workspaceFromArgv(['/usr/bin/electron', '.'], cwd)).toBeNull();
    expect(workspaceFromArgv(['npg', '--workspace'], cwd)).toBeNull();
    expect(workspaceFromArgv(['npg', '--workspace='], cwd)).toBeNull();
    expect(workspaceFromArgv(['npg', '--workspace', '--no-sandbox'], cwd)).toBeNull();
    expect(workspaceFromArgv(['npg', '--workspaces', 'x'], cwd)).toBeNull();
    expect(workspaceFromArgv(['npg', 'w.yaml'], cwd)).toBeNull();
  });

  it('the last flag wins, a flag value is not read as a flag, and a bare -- ends the options', () => {
    expect(workspaceFromArgv(['npg', '--workspace', 'a', '--workspace=b'], cwd)).toBe(join(cwd, 'b'));
    expect(workspaceFromArgv(['npg', '--workspace', 'a', '--', '--workspace', 'b'], cwd)).toBe(
      join(cwd, 'a'),
    );
    expect(workspaceFromArgv(['npg', '--workspace', 'a\0b'], cwd)).toBeNull();
  });
});

describe('resolveStartWorkspace', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'npg-start-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the command-line workspace wins, whatever was opened last', async () => {
    const start = await resolveStartWorkspace({
      argvWorkspace: '/w/cli.yaml',
      lastWorkspace: async () => '/w/older.yaml',
      exists: async () => false, // not checked: the user named it, the engine reports if it is gone
    });
    expect(start).toBe('/w/cli.yaml');
  });

  it('without one: the last workspace opened if it still exists, else null', async () => {
    let last: string | null = null;
    const existing = new Set<string>();
    const resolve = () =>
      resolveStartWorkspace({
        argvWorkspace: null,
        lastWorkspace: async () => last,
        exists: async (p) => existing.has(p),
      });
    expect(await resolve()).toBeNull();
    last = '/w/a.yaml';
    expect(await resolve()).toBeNull();
    existing.add('/w/a.yaml');
    expect(await resolve()).toBe('/w/a.yaml');
  });

  it('the default existence check looks at the file system', async () => {
    await writeFile(join(dir, 'here.yaml'), 'version: 1\n');
    expect(
      await resolveStartWorkspace({
        argvWorkspace: null,
        lastWorkspace: async () => join(dir, 'missing.yaml'),
      }),
    ).toBeNull();
    expect(
      await resolveStartWorkspace({ argvWorkspace: null, lastWorkspace: async () => join(dir, 'here.yaml') }),
    ).toBe(join(dir, 'here.yaml'));
  });
});
