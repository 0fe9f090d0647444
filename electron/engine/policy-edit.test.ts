import { describe, expect, it } from 'vitest';
import type { Policy } from '../../shared/workspace/schema';
import { editPolicy, parsePortFlag, portWarnings, splitList } from './policy-edit';

const empty: Policy = { nodePorts: [] };

describe('editPolicy', () => {
  it('replaces, normalises and reports duplicates, overlaps and host bits', () => {
    const r = editPolicy(empty, {
      port: 30001,
      protocol: 'tcp',
      allow: ['198.18.100.0/24', '198.18.100.7', '198.18.100.0/24', '10.1.2.3/8', '2001:2::/48'],
      label: 'office',
    });
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.policy.nodePorts[0]!.allow).toEqual([
      { cidr: '10.0.0.0/8', label: 'office' },
      { cidr: '198.18.100.0/24', label: 'office' },
      { cidr: '2001:2::/48', label: 'office' },
    ]);
    expect(r.notes.join('\n')).toMatch(/host bits/);
    expect(r.notes.join('\n')).toMatch(/duplicates/);
    expect(r.notes.join('\n')).toMatch(/already covered by 198.18.100.0\/24/);
    expect(r.policy.nodePorts[0]).toMatchObject({ mode: 'enforce', blackholePort: 65535 });
  });

  it('replaces the list with labelled entries (the UI chips), each label checked', () => {
    const r = editPolicy(empty, {
      port: 30001,
      protocol: 'tcp',
      entries: [{ cidr: '198.18.100.0/24', label: 'office' }, { cidr: '198.18.101.7' }],
    });
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.policy.nodePorts[0]!.allow).toEqual([
      { cidr: '198.18.100.0/24', label: 'office' },
      { cidr: '198.18.101.7/32' },
    ]);
    const bad = editPolicy(empty, {
      port: 30001,
      protocol: 'tcp',
      entries: [{ cidr: '198.18.100.0/24', label: 'a; rm -rf /' }, { cidr: '300.1.1.1' }],
    });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.errors.join('\n')).toMatch(/allow\[0\] label .*shell metacharacters/);
    expect(!bad.ok && bad.errors.join('\n')).toMatch(/allow\[1\]/);
  });

  it('adds and removes entries, keeps mode and blackhole port, sorts ports', () => {
    const a = editPolicy(empty, {
      port: 30002,
      protocol: 'udp',
      allow: ['198.18.0.1'],
      mode: 'audit',
      blackholePort: 65000,
    });
    if (!a.ok) throw new Error();
    const b = editPolicy(a.policy, { port: 30002, protocol: 'udp', add: ['198.18.0.2'], label: 'x' });
    if (!b.ok) throw new Error();
    const c = editPolicy(b.policy, { port: 30002, protocol: 'udp', remove: ['198.18.0.1/32'] });
    if (!c.ok) throw new Error(c.errors.join());
    expect(c.policy.nodePorts).toEqual([
      {
        port: 30002,
        protocol: 'udp',
        mode: 'audit',
        blackholePort: 65000,
        allow: [{ cidr: '198.18.0.2/32', label: 'x' }],
      },
    ]);
    const d = editPolicy(c.policy, { port: 30001, protocol: 'tcp', allow: ['198.18.0.9'] });
    if (!d.ok) throw new Error();
    expect(d.policy.nodePorts.map((p) => p.port)).toEqual([30001, 30002]);
    const e = editPolicy(d.policy, { port: 30002, protocol: 'udp', drop: true });
    if (!e.ok) throw new Error();
    expect(e.policy.nodePorts.map((p) => p.port)).toEqual([30001]);
  });

  it('rejects bad input with one line naming flag and value, and changes nothing', () => {
    const bad = [
      { allow: ['198.18.0.300'] },
      { allow: ['198.18.0.1;reboot'] },
      { allow: ['$(id)'] },
      { add: ['198.18.0.0/33'] },
      { remove: ['198.18.0.1'] },
      { allow: ['198.18.0.1'], label: 'two\nlines' },
      { blackholePort: 30001 },
    ];
    for (const b of bad) {
      const r = editPolicy(empty, { port: 30001, protocol: 'tcp', ...b });
      expect(r.ok, JSON.stringify(b)).toBe(false);
      if (!r.ok) for (const e of r.errors) expect(e).not.toContain('\n');
    }
    const r = editPolicy(empty, { port: 30001, protocol: 'tcp', allow: ['198.18.0.1;reboot'] });
    expect(!r.ok && r.errors[0]).toBe(
      '--allow: "198.18.0.1;reboot" is not an IPv4 or IPv6 address or CIDR (character ";" is not allowed)',
    );
  });

  it('takes a 1,000-entry list', () => {
    const allow = Array.from({ length: 1000 }, (_, i) => `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`);
    const r = editPolicy(empty, { port: 30001, protocol: 'tcp', allow });
    expect(r.ok && r.entries).toBe(1000);
  });
});

describe('an empty allow-list must be asked for', () => {
  const one: Policy = {
    nodePorts: [
      {
        port: 30001,
        protocol: 'tcp',
        mode: 'enforce',
        blackholePort: 65535,
        allow: [{ cidr: '198.18.0.1/32' }],
      },
    ],
  };
  const HINT = 'use --allow-empty if that is meant, or --drop to remove the guard';

  it('refuses an edit that would leave no entry, naming how it got there', () => {
    const refused = (policy: Policy, edit: Omit<Parameters<typeof editPolicy>[1], 'port' | 'protocol'>) => {
      const r = editPolicy(policy, { port: 30001, protocol: 'tcp', ...edit });
      expect(r.ok).toBe(false);
      return r.ok ? '' : r.errors.join('\n');
    };
    // `--allow ''` and `--allow ,` reach the engine as no entries at all.
    expect(refused(one, { allow: splitList(['']) })).toBe(
      `tcp/30001: --allow gives no address: the allow-list would be empty, which blocks every source; ${HINT}`,
    );
    expect(refused(one, { allow: splitList([',']) })).toMatch(/^tcp\/30001: --allow gives no address/);
    expect(refused(empty, { allow: [] })).toMatch(/--allow gives no address/);
    expect(refused(one, { entries: [] })).toMatch(
      /^tcp\/30001: no allow entry given: .* blocks every source/,
    );
    expect(refused(one, { remove: ['198.18.0.1'] })).toMatch(/^tcp\/30001: --remove takes the last entry/);
    expect(refused(empty, { mode: 'audit' })).toBe(
      `tcp/30001: a new guard without --allow: the allow-list would be empty, which lists every source; ${HINT}`,
    );
    expect(refused(one, { allowEmpty: true, allow: ['198.18.0.2'] })).toMatch(
      /^--allow-empty: give no addresses/,
    );
    expect(refused(one, { allowEmpty: true, add: ['198.18.0.2'] })).toMatch(
      /^--allow-empty: give no addresses/,
    );
  });

  it('allowEmpty empties the list, alone or with --remove; an empty list kept as it was needs nothing', () => {
    const a = editPolicy(one, { port: 30001, protocol: 'tcp', allowEmpty: true });
    expect(a.ok && a.policy.nodePorts[0]!.allow).toEqual([]);
    const b = editPolicy(one, { port: 30001, protocol: 'tcp', remove: ['198.18.0.1'], allowEmpty: true });
    expect(b.ok && b.policy.nodePorts[0]!.allow).toEqual([]);
    const c = editPolicy(empty, { port: 30002, protocol: 'udp', allow: [], allowEmpty: true });
    expect(c.ok && c.policy.nodePorts).toMatchObject([{ port: 30002, protocol: 'udp', allow: [] }]);
    if (!a.ok) return;
    const d = editPolicy(a.policy, { port: 30001, protocol: 'tcp', mode: 'audit' });
    expect(d.ok && d.policy.nodePorts[0]).toMatchObject({ mode: 'audit', allow: [] });
    // `--allow '' --add X` ends with an entry: nothing to confirm.
    const e = editPolicy(one, { port: 30001, protocol: 'tcp', allow: [], add: ['198.18.0.9'] });
    expect(e.ok && e.policy.nodePorts[0]!.allow).toEqual([{ cidr: '198.18.0.9/32' }]);
  });
});

describe('portWarnings', () => {
  it('from the workspace alone: SSH ports from the inventory (defaults, 22) and the cluster range', () => {
    const workspace = {
      inventory: {
        defaults: { port: 2222 },
        nodes: [
          { name: 'n1', host: '198.18.0.11', port: 22 },
          { name: 'n2', host: '198.18.0.12' },
        ],
      },
      cluster: { nodePortRange: '20000-22767' },
    };
    expect(portWarnings(workspace, [{ port: 2222, protocol: 'tcp' }])).toEqual([
      'tcp/2222: 2222 is the SSH port of n2: the guard would cut off SSH from every source it does not allow',
      'tcp/2222: 2222 is outside the NodePort range 20000-22767, so no Service can expose it as a NodePort',
    ]);
    expect(portWarnings(workspace, [{ port: 20001, protocol: 'tcp' }])).toEqual([]);
    expect(
      portWarnings({ inventory: { nodes: [{ name: 'n1', host: 'h' }] } }, [{ port: 22, protocol: 'tcp' }]),
    ).toEqual([
      'tcp/22: 22 is the SSH port of n1: the guard would cut off SSH from every source it does not allow',
      'tcp/22: 22 is outside the NodePort range 30000-32767, so no Service can expose it as a NodePort',
    ]);
  });
});

describe('flags', () => {
  it('ports and lists', () => {
    expect(parsePortFlag('--port', '30001')).toEqual({ ok: true, port: 30001 });
    expect(parsePortFlag('--port', '0').ok).toBe(false);
    expect(parsePortFlag('--port', '65536').ok).toBe(false);
    expect(parsePortFlag('--port', '30001;x').ok).toBe(false);
    expect(splitList(['a,b', ' c ', ''])).toEqual(['a', 'b', 'c']);
  });
});
