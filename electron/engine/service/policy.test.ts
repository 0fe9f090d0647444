// The UI's policy edits through the engine service, on a workspace file in a tmp dir: what lands on
// disk is normalised, a bad value is one line naming it and nothing is written, and an edit is
// refused when the file changed behind the engine's back.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiResult } from '../../../shared/api.js';
import { parseWorkspace } from '../../../shared/workspace/codec.js';
import type { Workspace } from '../../../shared/workspace/schema.js';
import { createEngineService } from '../service.js';

const WS = `version: 1
inventory:
  nodes:
    - name: node1
      host: 198.18.0.11
    - name: node2
      host: 198.18.0.12
policy:
  nodePorts: []
`;

let dir: string;
let path: string;
let engine: ReturnType<typeof createEngineService>;
const call = () => ({ signal: new AbortController().signal, emit: () => undefined });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'npg-policy-'));
  vi.stubEnv('NPG_CONFIG_DIR', join(dir, 'config'));
  path = join(dir, 'cluster.yaml');
  await writeFile(path, WS);
  engine = createEngineService();
  const opened = await engine.openWorkspace({ path }, call());
  expect(opened.ok).toBe(true);
});
afterEach(async () => {
  await engine.close();
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

async function onDisk(): Promise<Workspace> {
  const r = parseWorkspace(await readFile(path, 'utf8'));
  if (!r.ok) throw new Error(r.error);
  return r.workspace;
}

function value<T>(r: ApiResult<T>): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

describe('setPolicy', () => {
  it('writes the allow-list normalised, labels kept, and reports what normalising did', async () => {
    const r = value(
      await engine.setPolicy(
        {
          port: 30001,
          protocol: 'tcp',
          allow: [
            { cidr: '198.18.100.7', label: 'office' },
            { cidr: '198.18.100.10/31', label: 'vpn pair' },
            { cidr: '198.18.100.11' },
            { cidr: '2001:2::100:0/112', label: 'v6 clients' },
          ],
        },
        call(),
      ),
    );
    const want = [
      { cidr: '198.18.100.7/32', label: 'office' },
      { cidr: '198.18.100.10/31', label: 'vpn pair' },
      { cidr: '2001:2::100:0/112', label: 'v6 clients' },
    ];
    expect((await onDisk()).policy).toEqual({
      nodePorts: [{ port: 30001, protocol: 'tcp', mode: 'enforce', blackholePort: 65535, allow: want }],
    });
    expect(r.workspace.policy).toEqual([
      { port: 30001, protocol: 'tcp', mode: 'enforce', blackholePort: 65535, allow: want },
    ]);
    expect(r.notes).toHaveLength(1);
    expect(r.notes[0]).toMatch(/198\.18\.100\.11\/32 is already covered by 198\.18\.100\.10\/31/);
    expect(r.warnings).toEqual([]);
    // The workspace is remembered as recent in NPG_CONFIG_DIR, not in the user's config.
    expect(value(await engine.recentWorkspaces({}, call())).map((e) => e.path)).toEqual([path]);
  });

  it('refuses an empty list unless allowEmpty says it is meant, and writes nothing', async () => {
    const before = await readFile(path, 'utf8');
    const r = await engine.setPolicy({ port: 30002, protocol: 'udp', allow: [] }, call());
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('bad-input');
    expect(r.error.message).toBe(
      'udp/30002: no allow entry given: the allow-list would be empty, which blocks every source; use --allow-empty if that is meant, or --drop to remove the guard',
    );
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  it("warns, and still saves, when the port is a node's SSH port or outside the NodePort range", async () => {
    const r = value(
      await engine.setPolicy(
        { port: 22, protocol: 'tcp', allow: [{ cidr: '198.18.100.0/24' }, { cidr: '2001:2::/48' }] },
        call(),
      ),
    );
    expect(r.warnings).toEqual([
      'tcp/22: 22 is the SSH port of node1, node2: the guard would cut off SSH from every source it does not allow',
      'tcp/22: 22 is outside the NodePort range 30000-32767, so no Service can expose it as a NodePort',
    ]);
    expect((await onDisk()).policy.nodePorts.map((p) => p.port)).toEqual([22]);
  });

  it('warns about an empty list and a list without IPv6', async () => {
    const empty = value(
      await engine.setPolicy({ port: 30002, protocol: 'udp', allow: [], allowEmpty: true }, call()),
    );
    expect(empty.warnings).toEqual(['udp/30002: the allow-list is empty: every source will be blocked']);
    const v4 = value(
      await engine.setPolicy(
        { port: 30002, protocol: 'udp', allow: [{ cidr: '198.18.100.0/24' }], mode: 'audit' },
        call(),
      ),
    );
    expect(v4.warnings).toEqual([
      'udp/30002: no IPv6 entry: on dual-stack nodes every IPv6 client will be blocked',
    ]);
    expect((await onDisk()).policy.nodePorts[0]?.mode).toBe('audit');
  });

  it('refuses a bad CIDR naming allow[i], and leaves the file byte for byte as it was', async () => {
    value(
      await engine.setPolicy({ port: 30001, protocol: 'tcp', allow: [{ cidr: '198.18.100.7' }] }, call()),
    );
    const before = await readFile(path, 'utf8');
    const r = await engine.setPolicy(
      {
        port: 30001,
        protocol: 'tcp',
        allow: [{ cidr: '198.18.100.8' }, { cidr: '10.0.0.300/24' }],
      },
      call(),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('bad-input');
    expect(r.error.message).toMatch(/^tcp\/30001: allow\[1\]: "10\.0\.0\.300\/24" is not/);
    expect(r.error.message).not.toContain('\n');
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  it('refuses a label with shell metacharacters or a line break, writing nothing', async () => {
    for (const label of ['office; rm -rf /', 'a $(id)', 'two\nlines']) {
      const r = await engine.setPolicy(
        { port: 30001, protocol: 'tcp', allow: [{ cidr: '198.18.100.7', label }] },
        call(),
      );
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.error.code).toBe('bad-input');
      expect(r.error.message).toMatch(/^tcp\/30001: allow\[0\] label /);
      expect(r.error.message).not.toContain('\n');
    }
    expect(await readFile(path, 'utf8')).toBe(WS);
  });

  it('refuses a blackhole port equal to the guarded port', async () => {
    const r = await engine.setPolicy(
      { port: 30001, protocol: 'tcp', allow: [], blackholePort: 30001 },
      call(),
    );
    expect(!r.ok && r.error.code).toBe('bad-input');
    expect(await readFile(path, 'utf8')).toBe(WS);
  });

  it('refuses an edit when the file was changed behind our back, and keeps their change', async () => {
    const theirs = WS.replace('nodePorts: []', 'nodePorts: []\n# edited by hand\n');
    await writeFile(path, theirs);
    const r = await engine.setPolicy(
      { port: 30001, protocol: 'tcp', allow: [{ cidr: '198.18.100.7' }] },
      call(),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('failed');
    expect(r.error.message).toMatch(/changed by someone else since it was read; nothing written/);
    expect(await readFile(path, 'utf8')).toBe(theirs);
    // Opening it again reads their version, and then the edit goes through.
    value(await engine.openWorkspace({ path }, call()));
    value(
      await engine.setPolicy({ port: 30001, protocol: 'tcp', allow: [{ cidr: '198.18.100.7' }] }, call()),
    );
    expect((await onDisk()).policy.nodePorts).toHaveLength(1);
  });
});

describe('dropPolicy', () => {
  it('drops one NodePort and keeps the others; dropping one not in the policy is bad input', async () => {
    value(
      await engine.setPolicy({ port: 30001, protocol: 'tcp', allow: [{ cidr: '198.18.100.7' }] }, call()),
    );
    value(
      await engine.setPolicy({ port: 30002, protocol: 'udp', allow: [{ cidr: '198.18.100.8' }] }, call()),
    );
    const r = value(await engine.dropPolicy({ port: 30001, protocol: 'tcp' }, call()));
    expect(r.workspace.policy.map((p) => `${p.protocol}/${p.port}`)).toEqual(['udp/30002']);
    expect((await onDisk()).policy.nodePorts.map((p) => p.port)).toEqual([30002]);
    const before = await readFile(path, 'utf8');
    const again = await engine.dropPolicy({ port: 30001, protocol: 'tcp' }, call());
    expect(!again.ok && again.error).toEqual({
      code: 'bad-input',
      message: 'tcp/30001: not in the policy, nothing to drop',
    });
    expect(await readFile(path, 'utf8')).toBe(before);
  });
});

describe('address groups', () => {
  it('save, replace by name, list sorted, delete: round trip through the file', async () => {
    value(
      await engine.saveGroup(
        { name: 'vpn', entries: [{ cidr: '198.18.100.10/31', label: 'pair' }, { cidr: '2001:2::1' }] },
        call(),
      ),
    );
    const view = value(
      await engine.saveGroup({ name: 'office', entries: [{ cidr: '198.18.100.7' }] }, call()),
    );
    expect(view.groups).toEqual([
      { name: 'office', entries: [{ cidr: '198.18.100.7/32' }] },
      {
        name: 'vpn',
        entries: [{ cidr: '198.18.100.10/31', label: 'pair' }, { cidr: '2001:2::1/128' }],
      },
    ]);
    expect((await onDisk()).groups).toEqual(view.groups);

    // Saving under an existing name replaces that group: never two groups of one name.
    const replaced = value(
      await engine.saveGroup({ name: 'office', entries: [{ cidr: '198.18.100.8' }] }, call()),
    );
    expect(replaced.groups.filter((g) => g.name === 'office')).toEqual([
      { name: 'office', entries: [{ cidr: '198.18.100.8/32' }] },
    ]);

    const afterDelete = value(await engine.deleteGroup({ name: 'office' }, call()));
    expect(afterDelete.groups.map((g) => g.name)).toEqual(['vpn']);
    expect((await onDisk()).groups?.map((g) => g.name)).toEqual(['vpn']);
    const missing = await engine.deleteGroup({ name: 'office' }, call());
    expect(!missing.ok && missing.error).toEqual({
      code: 'bad-input',
      message: 'group office: no such group',
    });
  });

  it('refuses an invalid CIDR, a bad label and a bad name, each in one line, writing nothing', async () => {
    value(await engine.saveGroup({ name: 'office', entries: [{ cidr: '198.18.100.7' }] }, call()));
    const before = await readFile(path, 'utf8');
    const cidr = await engine.saveGroup(
      { name: 'office', entries: [{ cidr: '198.18.100.8' }, { cidr: '198.18.100.256' }] },
      call(),
    );
    expect(!cidr.ok && cidr.error.code).toBe('bad-input');
    expect(!cidr.ok && cidr.error.message).toMatch(/^group office entry 2: "198\.18\.100\.256" is not/);
    const label = await engine.saveGroup(
      { name: 'office', entries: [{ cidr: '198.18.100.8', label: 'a|b' }] },
      call(),
    );
    expect(!label.ok && label.error.message).toMatch(
      /^group office entry 1 label "a\|b": shell metacharacters/,
    );
    const name = await engine.saveGroup({ name: 'of`fice`', entries: [] }, call());
    expect(!name.ok && name.error.message).toMatch(/^group name "of`fice`": shell metacharacters/);
    expect(await readFile(path, 'utf8')).toBe(before);
  });
});
