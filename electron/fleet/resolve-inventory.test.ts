import { describe, expect, it } from 'vitest';
import type { Inventory } from '../../shared/workspace/schema';
import { resolveInventory } from './resolve-inventory';
import { parseSshConfig } from './ssh-config';

const sshConfig = (() => {
  const r = parseSshConfig(`
Host 198.18.0.*
  User fromconfig
  IdentityFile %d/.ssh/lab_%r
Host alias1
  HostName 198.18.0.99
  Port 2201
Host behind
  ProxyJump cfgbast,ops@inv-bast:2022
Host cfgbast
  HostName 198.18.0.2
  User cfguser
`);
  if (!r.ok) throw new Error(r.message);
  return r.config;
})();

const base = { workspaceDir: '/ws', homeDir: '/home/op', localUser: 'op', sshConfig };

describe('resolveInventory', () => {
  it('lets the workspace win over ssh config, field by field', () => {
    const inv: Inventory = {
      knownHosts: 'known_hosts',
      defaults: { user: 'root' },
      nodes: [
        { name: 'n1', host: '198.18.0.11' },
        { name: 'n2', host: '198.18.0.12', user: 'npglab-sudo', identityFile: 'keys/lab' },
        { name: 'n3', host: 'alias1', sudo: false },
      ],
    };
    const r = resolveInventory(inv, base);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.knownHostsPath).toBe('/ws/known_hosts');
    expect(r.nodes[0]).toEqual({
      name: 'n1',
      host: '198.18.0.11',
      port: 22,
      user: 'root',
      identityFiles: ['/home/op/.ssh/lab_root'],
      identityFilesExplicit: true,
      sudo: false,
      jumps: [],
    });
    expect(r.nodes[1]).toMatchObject({ user: 'npglab-sudo', identityFiles: ['/ws/keys/lab'], sudo: true });
    expect(r.nodes[2]).toMatchObject({
      host: '198.18.0.99',
      port: 2201,
      user: 'root',
      identityFilesExplicit: false,
      identityFiles: ['/home/op/.ssh/id_ed25519', '/home/op/.ssh/id_ecdsa', '/home/op/.ssh/id_rsa'],
      sudo: false,
    });
  });

  it('chains workspace jump hosts, the first one through its own jumps', () => {
    const inv: Inventory = {
      jumpHosts: [
        { name: 'outer', host: '198.18.0.1', user: 'j' },
        { name: 'mid', host: '198.18.0.2', proxyJump: ['outer'] },
        { name: 'inner', host: '198.18.0.3', proxyJump: ['nowhere'] },
      ],
      nodes: [{ name: 'n1', host: '198.18.0.11', user: 'root', proxyJump: ['mid', 'inner'] }],
    };
    const r = resolveInventory(inv, { ...base, sshConfig: undefined });
    expect(r.ok && r.nodes[0]?.jumps.map((h) => `${h.name}:${h.user}@${h.host}`)).toEqual([
      'outer:j@198.18.0.1',
      'mid:op@198.18.0.2',
      'inner:op@198.18.0.3',
    ]);
    expect(r.ok && r.knownHostsPath).toBe('/home/op/.ssh/known_hosts');
  });

  it('follows ProxyJump from ssh config, using inventory jump hosts it names', () => {
    const inv: Inventory = {
      jumpHosts: [{ name: 'inv-bast', host: '198.18.0.5', user: 'invuser' }],
      nodes: [{ name: 'b', host: 'behind', user: 'root' }],
    };
    const r = resolveInventory(inv, base);
    expect(r.ok && r.nodes[0]?.jumps.map((h) => `${h.user}@${h.host}:${h.port}`)).toEqual([
      'cfguser@198.18.0.2:22',
      'ops@198.18.0.5:2022',
    ]);
  });

  it('reports unknown jump hosts, loops and duplicate names per node', () => {
    const inv: Inventory = {
      jumpHosts: [
        { name: 'a', host: 'a', proxyJump: ['b'] },
        { name: 'b', host: 'b', proxyJump: ['a'] },
      ],
      nodes: [
        { name: 'n1', host: 'x', proxyJump: ['zz'] },
        { name: 'n2', host: 'x', proxyJump: ['a'] },
        { name: 'n2', host: 'y' },
      ],
    };
    const r = resolveInventory(inv, { ...base, sshConfig: undefined });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems.map((p) => p.message)).toEqual([
      'n1: jump host zz is not in inventory.jumpHosts',
      'n2: jump host loop through a',
      'n2: node name used twice in the inventory',
    ]);
  });
});
