// The start screen's files: the recent list (tolerant reader, atomic writer) and a new workspace
// written from typed-in nodes, refused rather than overwriting anything.
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ParsedRequestOf, RecentWorkspaceView } from '../../../shared/api.js';
import { parseWorkspace } from '../../../shared/workspace/codec.js';
import {
  configDir,
  createWorkspaceFile,
  parseRecent,
  readRecent,
  rememberRecent,
  withRecent,
} from './workspace-files.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'npg-wsfiles-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const entry = (path: string, openedAt = '2026-01-01T00:00:00.000Z'): RecentWorkspaceView => ({
  path,
  openedAt,
});

describe('configDir', () => {
  it('is NPG_CONFIG_DIR when set, else XDG_CONFIG_HOME/nodeport-guard', () => {
    expect(configDir({ NPG_CONFIG_DIR: '/x/npg' })).toBe('/x/npg');
    expect(configDir({ XDG_CONFIG_HOME: '/x/cfg' })).toBe('/x/cfg/nodeport-guard');
  });
});

describe('parseRecent', () => {
  it('reads a well-formed list', () => {
    const list = [entry('/a.yaml'), entry('/b.yaml')];
    expect(parseRecent(JSON.stringify(list))).toEqual(list);
  });

  it('drops garbage: not JSON, not an array, entries of the wrong shape, over-long paths', () => {
    expect(parseRecent('')).toEqual([]);
    expect(parseRecent('{not json')).toEqual([]);
    expect(parseRecent('{"path":"/a.yaml","openedAt":"x"}')).toEqual([]);
    expect(parseRecent('null')).toEqual([]);
    const mixed = [
      entry('/good.yaml'),
      null,
      42,
      'a string',
      { path: '/no-time.yaml' },
      { path: 7, openedAt: 'x' },
      { path: '/bad-time.yaml', openedAt: 7 },
      entry(`/${'x'.repeat(5000)}.yaml`),
      entry('/also-good.yaml'),
    ];
    expect(parseRecent(JSON.stringify(mixed))).toEqual([entry('/good.yaml'), entry('/also-good.yaml')]);
  });

  it('keeps at most 10', () => {
    const many = Array.from({ length: 15 }, (_, i) => entry(`/w${i}.yaml`));
    expect(parseRecent(JSON.stringify(many))).toEqual(many.slice(0, 10));
  });
});

describe('withRecent', () => {
  it('puts the path first with its time, drops its older entry, keeps the rest in order', () => {
    const list = [entry('/a.yaml'), entry('/b.yaml'), entry('/c.yaml')];
    expect(withRecent(list, '/b.yaml', 'T2')).toEqual([
      entry('/b.yaml', 'T2'),
      entry('/a.yaml'),
      entry('/c.yaml'),
    ]);
    expect(withRecent([], '/a.yaml', 'T')).toEqual([entry('/a.yaml', 'T')]);
    // The input is not changed.
    expect(list.map((e) => e.path)).toEqual(['/a.yaml', '/b.yaml', '/c.yaml']);
  });

  it('keeps at most 10, the oldest falling off', () => {
    const ten = Array.from({ length: 10 }, (_, i) => entry(`/w${i}.yaml`));
    const next = withRecent(ten, '/new.yaml', 'T');
    expect(next).toHaveLength(10);
    expect(next[0]).toEqual(entry('/new.yaml', 'T'));
    expect(next.map((e) => e.path)).not.toContain('/w9.yaml');
    expect(next.map((e) => e.path).slice(1)).toEqual(ten.slice(0, 9).map((e) => e.path));
  });
});

describe('rememberRecent and readRecent', () => {
  it('round-trip through recent.json, newest first, no duplicates, no temp file left', async () => {
    const cfg = join(dir, 'config', 'nested');
    expect(await readRecent(cfg)).toEqual([]);
    await rememberRecent('/w/a.yaml', cfg);
    await rememberRecent('/w/b.yaml', cfg);
    await rememberRecent('/w/a.yaml', cfg);
    const list = await readRecent(cfg);
    expect(list.map((e) => e.path)).toEqual(['/w/a.yaml', '/w/b.yaml']);
    for (const e of list) expect(Number.isNaN(Date.parse(e.openedAt))).toBe(false);
    expect(await readdir(cfg)).toEqual(['recent.json']);
    expect((await stat(join(cfg, 'recent.json'))).mode & 0o777).toBe(0o600);
    expect(parseRecent(await readFile(join(cfg, 'recent.json'), 'utf8'))).toEqual(list);
  });

  it('stops at 10 entries over many opens', async () => {
    for (let i = 0; i < 13; i++) await rememberRecent(`/w/${i}.yaml`, dir);
    const list = await readRecent(dir);
    expect(list.map((e) => e.path)).toEqual(Array.from({ length: 10 }, (_, i) => `/w/${12 - i}.yaml`));
  });

  it('starts over from a corrupt file instead of failing', async () => {
    await writeFile(join(dir, 'recent.json'), '\u0000garbage');
    expect(await readRecent(dir)).toEqual([]);
    await rememberRecent('/w/a.yaml', dir);
    expect((await readRecent(dir)).map((e) => e.path)).toEqual(['/w/a.yaml']);
  });
});

describe('createWorkspaceFile', () => {
  const req = (path: string, more: Partial<ParsedRequestOf<'createWorkspace'>> = {}) =>
    ({
      path,
      nodes: [
        { name: 'node1', host: '198.18.0.11' },
        { name: 'node2', host: '198.18.0.12', port: 2222, user: 'ops' },
      ],
      ...more,
    }) as ParsedRequestOf<'createWorkspace'>;

  it('writes a valid workspace with the nodes, defaults and known_hosts, mode 0600', async () => {
    const path = join(dir, 'sub', 'cluster.yaml');
    const r = await createWorkspaceFile(
      req(path, { user: 'root', identityFile: '~/.ssh/id_ed25519', sudo: false, knownHosts: 'kh' }),
    );
    expect(r).toEqual({ ok: true, value: path });
    const parsed = parseWorkspace(await readFile(path, 'utf8'));
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.workspace.inventory).toEqual({
      knownHosts: 'kh',
      defaults: { user: 'root', identityFile: '~/.ssh/id_ed25519', sudo: false },
      nodes: [
        { name: 'node1', host: '198.18.0.11' },
        { name: 'node2', host: '198.18.0.12', port: 2222, user: 'ops' },
      ],
    });
    expect(parsed.workspace.policy).toEqual({ nodePorts: [] });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir, 'sub'))).toEqual(['cluster.yaml']);
  });

  it('writes no defaults when none are given', async () => {
    const path = join(dir, 'plain.yml');
    expect((await createWorkspaceFile(req(path))).ok).toBe(true);
    const parsed = parseWorkspace(await readFile(path, 'utf8'));
    expect(parsed.ok && parsed.workspace.inventory.defaults).toBeUndefined();
  });

  it('refuses an existing file and leaves it alone', async () => {
    const path = join(dir, 'mine.yaml');
    await writeFile(path, 'precious\n');
    const r = await createWorkspaceFile(req(path));
    expect(r).toEqual({
      ok: false,
      error: { code: 'bad-input', message: `${path}: already exists; open it instead` },
    });
    expect(await readFile(path, 'utf8')).toBe('precious\n');
  });

  it('refuses a path that is not .yaml or .yml', async () => {
    const path = join(dir, 'cluster.json');
    const r = await createWorkspaceFile(req(path));
    expect(!r.ok && r.error).toEqual({
      code: 'bad-input',
      message: `${path}: a workspace file ends in .yaml or .yml`,
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a node name the workspace schema refuses, in one line, writing nothing', async () => {
    const path = join(dir, 'bad.yaml');
    const r = await createWorkspaceFile(
      req(path, { nodes: [{ name: '-bad name', host: '198.18.0.11' }] as never }),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('bad-input');
    expect(r.error.message).toMatch(/^new workspace: inventory\.nodes\[0\]\.name: /);
    expect(r.error.message).not.toContain('\n');
    expect(await readdir(dir)).toEqual([]);
  });
});
