import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendHistory, readHistory } from './history';
import { localStore } from './local-store';
import { loadWorkspace, saveWorkspace, writeFileAtomic } from './workspace-file';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'npg-ws-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const WS =
  'version: 1\ninventory:\n  nodes:\n    - name: n1\n      host: 198.18.0.11\npolicy:\n  nodePorts: []\n';

describe('workspace file', () => {
  it('loads, saves atomically (no temp left) and refuses when changed since read', async () => {
    const path = join(dir, 'w.yaml');
    await writeFile(path, WS);
    const l = await loadWorkspace(path);
    if (!l.ok) throw new Error(l.message);
    const ws = {
      ...l.value.workspace,
      policy: {
        nodePorts: [
          {
            port: 30001,
            protocol: 'tcp' as const,
            mode: 'enforce' as const,
            blackholePort: 65535,
            allow: [],
          },
        ],
      },
    };
    expect(await saveWorkspace(l.value, ws)).toEqual({ ok: true });
    expect(await readdir(dir)).toEqual(['w.yaml']);
    expect(await readFile(path, 'utf8')).toMatch(/port: 30001/);
    // l.value.text is now out of date: a second save must refuse and leave the file alone.
    const before = await readFile(path, 'utf8');
    const r = await saveWorkspace(l.value, l.value.workspace);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(/changed by someone else/);
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  it('a corrupt file is one line naming the field', async () => {
    const path = join(dir, 'bad.yaml');
    await writeFile(path, WS.replace('198.18.0.11', '198.18.0.11; rm -rf /'));
    const l = await loadWorkspace(path);
    expect(l.ok).toBe(false);
    expect(!l.ok && l.message).toMatch(/^workspace .*bad\.yaml: inventory\.nodes\[0\]\.host: /);
    expect(!l.ok && l.message).not.toContain('\n');
    const missing = await loadWorkspace(join(dir, 'nope.yaml'));
    expect(!missing.ok && missing.message).toMatch(/no such file/);
  });
});

describe('a workspace that is a symbolic link', () => {
  const guarded = (ws: import('../../shared/workspace/schema').Workspace) => ({
    ...ws,
    policy: {
      nodePorts: [
        { port: 30001, protocol: 'tcp' as const, mode: 'enforce' as const, blackholePort: 65535, allow: [] },
      ],
    },
  });

  it('is written through: the link stays a link, its target (in another folder) gets the new text', async () => {
    await mkdir(join(dir, 'repo'));
    const target = join(dir, 'repo', 'cluster.yaml');
    await writeFile(target, WS, { mode: 0o640 });
    const link = join(dir, 'w.yaml');
    await symlink('repo/cluster.yaml', link);
    const l = await loadWorkspace(link);
    if (!l.ok) throw new Error(l.message);
    expect(await saveWorkspace(l.value, guarded(l.value.workspace))).toEqual({ ok: true });
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe('repo/cluster.yaml');
    expect(await readFile(target, 'utf8')).toMatch(/port: 30001/);
    expect((await stat(target)).mode & 0o777).toBe(0o640);
    // The temp file went beside the target and is gone; nothing new beside the link.
    expect((await readdir(join(dir, 'repo'))).sort()).toEqual(['cluster.yaml']);
    expect((await readdir(dir)).sort()).toEqual(['repo', 'w.yaml']);
  });

  it('a link to a link: the final target is replaced, both links kept', async () => {
    const target = join(dir, 'real.yaml');
    await writeFile(target, WS);
    await symlink(target, join(dir, 'middle.yaml'));
    await symlink('middle.yaml', join(dir, 'w.yaml'));
    await writeFileAtomic(join(dir, 'w.yaml'), 'new\n');
    expect(await readFile(target, 'utf8')).toBe('new\n');
    expect((await lstat(join(dir, 'middle.yaml'))).isSymbolicLink()).toBe(true);
    expect((await lstat(join(dir, 'w.yaml'))).isSymbolicLink()).toBe(true);
  });

  it('a dangling link: one clear line on load and on save, and nothing is created or changed', async () => {
    const target = join(dir, 'gone.yaml');
    await writeFile(target, WS);
    const link = join(dir, 'w.yaml');
    await symlink('gone.yaml', link);
    const l = await loadWorkspace(link);
    if (!l.ok) throw new Error(l.message);
    await unlink(target);
    expect(await loadWorkspace(link)).toEqual({
      ok: false,
      message: `workspace ${link}: a symbolic link to ${target}, which does not exist`,
    });
    expect(await saveWorkspace(l.value, guarded(l.value.workspace))).toEqual({
      ok: false,
      message: `workspace ${link}: a symbolic link to ${target}, which does not exist; nothing written`,
    });
    await expect(writeFileAtomic(link, 'x')).rejects.toThrow(
      `a symbolic link to ${target}, which does not exist; nothing written`,
    );
    expect(await readdir(dir)).toEqual(['w.yaml']);
    expect(await readlink(link)).toBe('gone.yaml');
  });
});

describe('history', () => {
  it('appends one line per record and reads them back; a torn line is reported, not fatal', async () => {
    const store = localStore(join(dir, 'w.yaml'));
    const rec = {
      version: 1 as const,
      time: '2026-01-01T00:00:00Z',
      operator: 'me@here',
      op: 'apply' as const,
      workspace: 'w.yaml',
      token: '0123456789abcdef',
      planHash: 'x',
      outcome: 'ok' as const,
      nodes: [{ node: 'n1', status: 'applied' }],
    };
    await appendHistory(store, rec);
    await appendHistory(store, { ...rec, op: 'rollback' });
    await writeFile(store.historyFile, `${await readFile(store.historyFile, 'utf8')}{"version":1,"ti`);
    const h = await readHistory(store);
    expect(h.records.map((r) => r.op)).toEqual(['apply', 'rollback']);
    expect(h.problems).toHaveLength(1);
  });
});
