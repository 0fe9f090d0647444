// Without an open workspace, every method that needs one answers bad input saying so (the user's
// next step), never a failure; opening, creating and closing a workspace move between the states.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiResult } from '../../../shared/api.js';
import { createEngineService } from '../service.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'npg-state-'));
  vi.stubEnv('NPG_CONFIG_DIR', join(dir, 'config'));
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

const call = () => ({ signal: new AbortController().signal, emit: () => undefined });

function expectNoWorkspace(r: ApiResult<unknown>, what: string) {
  expect(r.ok, what).toBe(false);
  if (r.ok) return;
  expect(r.error.code, what).toBe('bad-input');
  expect(r.error.message, what).toMatch(/no workspace is open; open or create one first$/);
}

describe('no workspace open', () => {
  it('every method that needs one answers bad input "no workspace is open"', async () => {
    const e = createEngineService();
    const c = call();
    const answers: [string, ApiResult<unknown>][] = [
      ['discover', await e.discover({}, c)],
      ['nodePort', await e.nodePort({ node: 'node1', port: 30001, protocol: 'tcp', family: 'ipv4' }, c)],
      ['observedSources', await e.observedSources({ port: 30001, protocol: 'tcp' }, c)],
      [
        'trace on a node',
        await e.trace({ source: { node: 'node1' }, src: '198.18.100.13', dport: 30001, protocol: 'tcp' }, c),
      ],
      [
        'chainRules on a node',
        await e.chainRules({ source: { node: 'node1' }, chain: 'KUBE-NODEPORTS', family: 'ipv4' }, c),
      ],
      ['setPolicy', await e.setPolicy({ port: 30001, protocol: 'tcp', allow: [] }, c)],
      ['dropPolicy', await e.dropPolicy({ port: 30001, protocol: 'tcp' }, c)],
      ['saveGroup', await e.saveGroup({ name: 'office', entries: [] }, c)],
      ['deleteGroup', await e.deleteGroup({ name: 'office' }, c)],
      ['plan', await e.plan({}, c)],
      ['apply', await e.apply({}, c)],
      ['confirm', await e.confirm({}, c)],
      ['rollback', await e.rollback({}, c)],
      ['remove', await e.remove({}, c)],
      ['verify', await e.verify({}, c)],
      ['watch', await e.watch({ periodSeconds: 2 }, c)],
      ['export', await e.export({}, c)],
      ['history', await e.history({}, c)],
    ];
    for (const [what, r] of answers) expectNoWorkspace(r, what);
    await e.close();
  });

  it('the methods that need none still answer', async () => {
    const e = createEngineService({ startWorkspace: '/w/cluster.yaml' });
    expect(await e.recentWorkspaces({}, call())).toEqual({ ok: true, value: [] });
    expect(await e.startWorkspace({}, call())).toEqual({ ok: true, value: '/w/cluster.yaml' });
    expect(await createEngineService().startWorkspace({}, call())).toEqual({ ok: true, value: null });
    expect(await e.closeWorkspace({}, call())).toEqual({ ok: true, value: null });
    const decision = await e.hostKeyDecision({ requestId: 'nope', decision: 'once' }, call());
    expect(!decision.ok && decision.error).toEqual({
      code: 'bad-input',
      message: 'host key question: it was already answered or has expired',
    });
  });
});

describe('opening, creating and closing', () => {
  it('open names the file and its nodes; a missing or broken file is bad input; close forgets it', async () => {
    const path = join(dir, 'lab.yaml');
    await writeFile(
      path,
      'version: 1\ninventory:\n  defaults:\n    user: root\n  nodes:\n    - name: n1\n      host: 198.18.0.11\n',
    );
    const e = createEngineService();
    const opened = await e.openWorkspace({ path }, call());
    expect(opened).toEqual({
      ok: true,
      value: {
        path,
        name: 'lab',
        nodes: [{ name: 'n1', host: '198.18.0.11', user: 'root' }],
        policy: [],
        groups: [],
        guardBackend: 'iptables',
        guardAnyway: [],
        podCidrs: [],
        healthCheckRanges: [],
      },
    });
    expect((await e.history({}, call())).ok).toBe(true);

    const missing = await e.openWorkspace({ path: join(dir, 'nope.yaml') }, call());
    expect(!missing.ok && missing.error.code).toBe('bad-input');
    expect(!missing.ok && missing.error.message).toMatch(/nope\.yaml: no such file$/);
    // A failed open keeps the workspace that was open.
    expect((await e.history({}, call())).ok).toBe(true);

    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, 'version: 2\n');
    const b = await e.openWorkspace({ path: broken }, call());
    expect(!b.ok && b.error.code).toBe('bad-input');

    await e.closeWorkspace({}, call());
    expectNoWorkspace(await e.history({}, call()), 'history after close');
    await e.close();
  });

  it('createWorkspace writes the file, opens it and remembers it as recent', async () => {
    const e = createEngineService();
    const path = join(dir, 'new', 'cluster.yaml');
    const r = await e.createWorkspace(
      { path, nodes: [{ name: 'node1', host: '198.18.0.11' }], user: 'root' },
      call(),
    );
    expect(r.ok && r.value.nodes).toEqual([{ name: 'node1', host: '198.18.0.11', user: 'root' }]);
    expect(await readFile(path, 'utf8')).toMatch(/name: node1/);
    const recent = await e.recentWorkspaces({}, call());
    expect(recent.ok && recent.value.map((x) => x.path)).toEqual([path]);
    const again = await e.createWorkspace({ path, nodes: [{ name: 'node9', host: '198.18.0.19' }] }, call());
    expect(!again.ok && again.error.message).toMatch(/already exists; open it instead/);
    await e.close();
  });
});
