// The node script run for real with /bin/sh: against a fake tree (NPG_SIGNS_ROOT) and against this
// machine, and its output read back by parseSignLines.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATAPLANE_SIGNS_SCRIPT, MAX_CILIUM_LINKS } from './node-script';
import { parseSignLines } from './parse-signs';
import { recognizeDataplane } from './recognize';
import { CALICO_NAT_MAP_PREFIXES, CILIUM_NAT_MAPS, CILIUM_SERVICE_MAPS, PROCESS_NAMES } from './sign-names';

const LINE = /^%%npg sign [a-z-]+ [A-Za-z0-9_.:-]+$/;

function run(root: string | undefined, prefix = ''): string {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  if (root !== undefined) env.NPG_SIGNS_ROOT = root;
  return execFileSync('/bin/sh', ['-c', `set -u\n${prefix}${DATAPLANE_SIGNS_SCRIPT}`], {
    env,
    encoding: 'utf8',
  });
}

function put(root: string, path: string, text = ''): void {
  const full = join(root, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, text);
}

describe('DATAPLANE_SIGNS_SCRIPT on a fake tree', () => {
  let root = '';
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'npg-dp-'));
    // A hand-made tree shaped like a Cilium node with kube-proxy replacement (not a real node).
    put(root, 'sys/fs/bpf/tc/globals/cilium_lb4_services_v2');
    put(root, 'sys/fs/bpf/tc/globals/cilium_lb4_backends_v3');
    put(root, 'sys/fs/bpf/tc/globals/cilium_snat_v4_external');
    put(root, 'sys/fs/bpf/tc/globals/cilium_policy_v2_01234'); // not looked for
    put(root, 'sys/fs/bpf/tc/globals/cali_v4_nat_fe3');
    put(root, 'sys/fs/bpf/cilium/devices/eth0/links/cil_from_netdev');
    put(root, 'sys/fs/bpf/cilium/devices/we;ird/links/cil_from_netdev'); // unsafe name: skipped
    for (let i = 0; i < MAX_CILIUM_LINKS + 4; i++) put(root, `sys/fs/bpf/cilium/devices/zz${i}/links/x`);
    put(root, 'proc/1/comm', 'systemd\n');
    put(root, 'proc/20/comm', 'cilium-agent\n');
    put(root, 'proc/21/comm', 'cilium-agent\n');
    put(root, 'proc/30/comm', 'kube-proxy\n');
    put(root, 'proc/31/comm', 'kube-proxy;x\n');
    put(root, 'proc/40/comm', ''); // a process that has gone: empty read
    put(root, 'proc/self/comm', 'sh\n'); // not a pid: not globbed
    put(
      root,
      'var/run/cilium/state/globals/node_config.h',
      '/* comment */\n#define ENABLE_IPV4 1\n#define ENABLE_NODEPORT 1\n#define X 2\n',
    );
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('prints only well-formed sign lines, the looked-for names, deduplicated and bounded', () => {
    const out = run(root);
    const lines = out.split('\n').filter((l) => l !== '');
    for (const l of lines) expect(l).toMatch(LINE);
    expect(lines.slice(0, 1)).toEqual(['%%npg sign looked bpf']);
    expect(lines).toContain('%%npg sign bpf cilium');
    expect(lines).toContain('%%npg sign bpf tc');
    expect(lines).not.toContain('%%npg sign bpf tcx');
    expect(lines).toContain('%%npg sign bpf-global cilium_lb4_services_v2');
    expect(lines).toContain('%%npg sign bpf-global cali_v4_nat_fe3');
    expect(out).not.toContain('cilium_policy');
    expect(lines).toContain('%%npg sign cilium-link eth0:cil_from_netdev');
    expect(out).not.toContain('ird');
    expect(lines.filter((l) => l.startsWith('%%npg sign cilium-link ')).length).toBe(MAX_CILIUM_LINKS);
    expect(lines.filter((l) => l.startsWith('%%npg sign proc '))).toEqual([
      '%%npg sign proc cilium-agent',
      '%%npg sign proc kube-proxy',
    ]);
    expect(lines).toContain('%%npg sign looked cilium-config');
    expect(lines).toContain('%%npg sign cilium-define ENABLE_NODEPORT');
  });

  it('round-trips through parseSignLines into NodeSigns the recognizer reads', () => {
    const signs = parseSignLines(run(root));
    expect(signs.bpffs).toEqual(['cilium', 'tc']);
    expect(signs.bpfGlobals).toEqual([
      'cilium_lb4_services_v2',
      'cilium_lb4_backends_v3',
      'cilium_snat_v4_external',
      'cali_v4_nat_fe3',
    ]);
    expect(signs.processes).toEqual(['cilium-agent', 'kube-proxy']);
    expect(signs.ciliumDefines).toEqual(['ENABLE_NODEPORT']);
    expect(recognizeDataplane(signs).dataplane).toBe('cilium-kpr');
  });

  it('restores the caller’s `set -f` and leaves globbing on when it was on', () => {
    const probe = 'case $- in *f*) echo GLOB-OFF ;; *) echo GLOB-ON ;; esac\n';
    expect(run(root, 'set -f\n').trim().split('\n').length).toBeGreaterThan(1);
    expect(
      execFileSync('/bin/sh', ['-c', `set -f\n${DATAPLANE_SIGNS_SCRIPT}${probe}`], {
        env: { NPG_SIGNS_ROOT: root },
        encoding: 'utf8',
      }),
    ).toMatch(/GLOB-OFF\n$/);
    expect(
      execFileSync('/bin/sh', ['-c', `${DATAPLANE_SIGNS_SCRIPT}${probe}`], {
        env: { NPG_SIGNS_ROOT: root },
        encoding: 'utf8',
      }),
    ).toMatch(/GLOB-ON\n$/);
  });

  it('an empty tree: nothing looked at, nothing claimed', () => {
    const empty = mkdtempSync(join(tmpdir(), 'npg-dp-empty-'));
    try {
      expect(run(empty)).toBe('');
      expect(parseSignLines(run(empty))).toEqual({});
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('DATAPLANE_SIGNS_SCRIPT on this machine (no Cilium, Calico or kube-router here)', () => {
  it('says where it looked and claims no dataplane process of ours', () => {
    const out = run(undefined);
    for (const l of out.split('\n').filter((x) => x !== '')) expect(l).toMatch(LINE);
    expect(out).toContain('%%npg sign looked proc');
    const signs = parseSignLines(out);
    expect(signs.processes).toBeDefined();
    expect(signs.processes).not.toContain('cilium-agent');
    expect(signs.processes).not.toContain('calico-node');
  });
});

describe('the script looks for exactly the catalogued names', () => {
  it.each([...CILIUM_SERVICE_MAPS, ...CILIUM_NAT_MAPS])('map %s', (name) => {
    expect(DATAPLANE_SIGNS_SCRIPT).toContain(`"$dp_g"/${name} `);
  });
  it.each(CALICO_NAT_MAP_PREFIXES)('map prefix %s', (prefix) => {
    expect(DATAPLANE_SIGNS_SCRIPT).toContain(`"$dp_g"/${prefix}*`);
  });
  it('process names', () => {
    expect(DATAPLANE_SIGNS_SCRIPT).toContain(`      ${PROCESS_NAMES.join('|')})`);
  });
});
