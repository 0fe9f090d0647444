// Workspace files for the start screen: the recently opened list, a new workspace written from
// nodes typed in (or taken from ~/.ssh/config), and the hosts ~/.ssh/config names.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type {
  ApiResult,
  InventoryNodeView,
  ParsedRequestOf,
  RecentWorkspaceView,
} from '../../../shared/api.js';
import { parseWorkspace, serializeWorkspace } from '../../../shared/workspace/codec.js';
import type { Workspace } from '../../../shared/workspace/schema.js';
import { concreteHostNames, loadSshConfig, lookupSshHost } from '../../fleet/ssh-config.js';
import { ioReason, syncDir, writeFileAtomic } from '../workspace-file.js';
import { badInput, failed, ok } from './results.js';

const MAX_RECENT = 10;

/** Where the app keeps its own settings (not the workspace's): XDG, or NPG_CONFIG_DIR for tests. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.NPG_CONFIG_DIR ?? join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'nodeport-guard');
}

/** The recent list from its file's text; anything malformed is dropped, never fatal. */
export function parseRecent(text: string): RecentWorkspaceView[] {
  try {
    const v = JSON.parse(text) as unknown;
    if (!Array.isArray(v)) return [];
    return v
      .filter(
        (e): e is RecentWorkspaceView =>
          typeof e === 'object' &&
          e !== null &&
          typeof (e as RecentWorkspaceView).path === 'string' &&
          typeof (e as RecentWorkspaceView).openedAt === 'string' &&
          (e as RecentWorkspaceView).path.length < 4096,
      )
      .slice(0, MAX_RECENT);
  } catch {
    return [];
  }
}

/** `path` first, no duplicates, at most MAX_RECENT. */
export function withRecent(
  list: readonly RecentWorkspaceView[],
  path: string,
  at: string,
): RecentWorkspaceView[] {
  return [{ path, openedAt: at }, ...list.filter((e) => e.path !== path)].slice(0, MAX_RECENT);
}

export async function readRecent(dir = configDir()): Promise<RecentWorkspaceView[]> {
  try {
    return parseRecent(await readFile(join(dir, 'recent.json'), 'utf8'));
  } catch {
    return [];
  }
}

export async function rememberRecent(path: string, dir = configDir()): Promise<void> {
  const next = withRecent(await readRecent(dir), path, new Date().toISOString());
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(dir, 'recent.json'), `${JSON.stringify(next, null, 2)}\n`, 0o600);
}

/** A new workspace file; refuses to overwrite an existing file. */
export async function createWorkspaceFile(
  req: ParsedRequestOf<'createWorkspace'>,
): Promise<ApiResult<string>> {
  const path = resolve(req.path);
  if (!/\.ya?ml$/i.test(path)) return badInput(`${req.path}: a workspace file ends in .yaml or .yml`);
  try {
    await stat(path);
    return badInput(`${req.path}: already exists; open it instead`);
  } catch {
    // does not exist: good
  }
  const ws: Workspace = {
    version: 1,
    inventory: {
      ...(req.knownHosts ? { knownHosts: req.knownHosts } : {}),
      ...(req.user || req.identityFile || req.sudo !== undefined
        ? {
            defaults: {
              ...(req.user ? { user: req.user } : {}),
              ...(req.identityFile ? { identityFile: req.identityFile } : {}),
              ...(req.sudo !== undefined ? { sudo: req.sudo } : {}),
            },
          }
        : {}),
      nodes: req.nodes.map((n) => ({
        name: n.name,
        host: n.host,
        ...(n.port !== undefined ? { port: n.port } : {}),
        ...(n.user ? { user: n.user } : {}),
      })),
    },
    policy: { nodePorts: [] },
  };
  const text = serializeWorkspace(ws);
  const check = parseWorkspace(text);
  if (!check.ok) return badInput(`new workspace: ${check.error}`);
  try {
    await mkdir(dirname(path), { recursive: true });
    if (!(await createExclusive(path, text, 0o600)))
      return badInput(`${req.path}: already exists; open it instead`);
  } catch (err) {
    return failed(`${req.path}: ${ioReason(err)}`);
  }
  return ok(path);
}

/**
 * Writes `text` to a new file at `path`, whole or not at all, and never over a file that appeared
 * meanwhile: a synced temp file beside it is hard-linked into place (link fails if the name exists).
 * False when the name was taken.
 */
async function createExclusive(path: string, text: string, mode: number): Promise<boolean> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
  await syncDir(dirname(path));
  return true;
}

/** Concrete `Host` names of ~/.ssh/config (no patterns), with what they resolve to. */
export async function sshConfigHosts(
  path = join(homedir(), '.ssh', 'config'),
): Promise<ApiResult<InventoryNodeView[]>> {
  const r = await loadSshConfig(path);
  if (!r.ok) return badInput(r.message);
  const out: InventoryNodeView[] = [];
  for (const name of concreteHostNames(r.config).slice(0, 1000)) {
    const h = lookupSshHost(r.config, name);
    if (!h.ok) continue;
    out.push({
      name,
      host: h.host.hostName ?? name,
      ...(h.host.port !== undefined ? { port: h.host.port } : {}),
      ...(h.host.user ? { user: h.host.user } : {}),
    });
  }
  return ok(out);
}
