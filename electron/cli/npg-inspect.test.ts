// The `npg inspect` contract, end to end through the real binary on real iptables-save fixtures.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { npgSync } from './test-support/npg-run';

const FIX = 'e2e/lab/fixtures';
const tmp = mkdtempSync(join(tmpdir(), 'npg-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const npg = npgSync;

describe('npg inspect', () => {
  it('prints the DESIGN.md JSON contract, sorted by port then protocol, endpoints sorted', () => {
    const r = npg(['inspect', '--file', `${FIX}/iptables-v4-current.iptables-save.txt`, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      mode: string;
      nodePorts: { port: number; protocol: string; service: string | null; endpoints: string[] }[];
    };
    expect(out.mode).toBe('iptables');
    expect(Object.keys(out.nodePorts[0]!).slice(0, 4)).toEqual(['port', 'protocol', 'service', 'endpoints']);
    const keys = out.nodePorts.map((n) => [n.port, n.protocol] as const);
    expect(keys).toEqual([...keys].sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1])));
    for (const n of out.nodePorts) expect(n.endpoints).toEqual([...n.endpoints].sort());
    const web = out.nodePorts.find((n) => n.port === 30001)!;
    expect(web.service).toBe('default/web:http');
    expect(web.endpoints).toHaveLength(4);
    expect(out.nodePorts.find((n) => n.port === 30004)!.endpoints).toEqual([]);
  });

  it('reads ipvs mode with ipset and ipvsadm output', () => {
    const r = npg([
      'inspect',
      '--file',
      `${FIX}/ipvs-v4.iptables-save.txt`,
      '--ipset',
      `${FIX}/ipvs-v4.ipset-list.txt`,
      '--ipvs',
      `${FIX}/ipvs-v4.ipvsadm-Ln.txt`,
      '--json',
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { mode: string; nodePorts: { port: number; endpoints: string[] }[] };
    expect(out.mode).toBe('ipvs');
    expect(out.nodePorts.find((n) => n.port === 30001)?.endpoints.length).toBeGreaterThan(0);
  });

  it('prints a table for people, and reads stdin', () => {
    const text = spawnSync('cat', [`${FIX}/iptables-v4-current.iptables-t-nat-S.txt`], {
      encoding: 'utf8',
    }).stdout;
    const r = npg(['inspect', '--file', '-'], text);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^kube-proxy mode: iptables/);
    expect(r.stdout).toMatch(/30001\s+tcp\s+default\/web:http/);
  });

  it("says when another dataplane serves NodePorts before netfilter (Cilium's kube-proxy replacement)", () => {
    // Hand-written in the shape Cilium writes (pkg/datapath/iptables): its feeder chains, no kube-proxy.
    const cilium = [
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':OUTPUT ACCEPT [0:0]',
      ':POSTROUTING ACCEPT [0:0]',
      ':CILIUM_PRE_nat - [0:0]',
      ':CILIUM_OUTPUT_nat - [0:0]',
      ':CILIUM_POST_nat - [0:0]',
      '-A PREROUTING -m comment --comment "cilium-feeder: CILIUM_PRE_nat" -j CILIUM_PRE_nat',
      '-A OUTPUT -m comment --comment "cilium-feeder: CILIUM_OUTPUT_nat" -j CILIUM_OUTPUT_nat',
      '-A POSTROUTING -m comment --comment "cilium-feeder: CILIUM_POST_nat" -j CILIUM_POST_nat',
      'COMMIT',
      '',
    ].join('\n');
    const r = npg(['inspect', '--file', '-'], cilium);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^warning: Cilium serves NodePorts in eBPF before netfilter/m);
    const kube = npg(['inspect', '--file', `${FIX}/iptables-v4-current.iptables-save.txt`]);
    expect(kube.stdout).not.toMatch(/eBPF|Cilium|Calico/);
  });

  it('bad input: one line naming file and line, exit 2', () => {
    const bad = join(tmp, 'bad.txt');
    writeFileSync(
      bad,
      '*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -m statistic --probabilty 0.5 -j ACCEPT\nCOMMIT\n',
    );
    const r = npg(['inspect', '--file', bad]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^npg: ${bad} line 3: `));
  });

  it('missing file, missing option, unknown option: exit 2 with one line', () => {
    const missing = npg(['inspect', '--file', join(tmp, 'nope.txt')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.txt: no such file/);
    expect(npg(['inspect', '--frobnicate']).code).toBe(2);
  });

  it('the dump and live-node forms: options of the other form are refused in one line, nothing read', () => {
    const dump = `${FIX}/iptables-v4-current.iptables-save-t-nat.txt`;
    const cases: [string[], RegExp][] = [
      [
        ['--file', dump, '--node', 'node1'],
        /^npg: inspect: --node reads live nodes; it does not go with --file$/,
      ],
      [['--file', dump, '--workspace', join(tmp, 'ws.yaml')], /--workspace reads live nodes/],
      [['--ipset', dump], /^npg: inspect: --ipset goes with --file/],
      [['--table', 'nat'], /^npg: inspect: --table goes with --file/],
    ];
    for (const [args, message] of cases) {
      const r = npg(['inspect', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim(), args.join(' ')).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const none = spawnSync(process.execPath, ['bin/npg.js', 'inspect'], {
      encoding: 'utf8',
      env: { ...process.env, NPG_WORKSPACE: '' },
    });
    expect(none.status).toBe(2);
    expect(none.stderr.trim()).toBe(
      "npg: inspect: give --file DUMP, or --workspace FILE (or set NPG_WORKSPACE) to read the workspace's nodes",
    );
    const missing = npg(['inspect', '--workspace', join(tmp, 'no-such-workspace.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toMatch(/no-such-workspace\.yaml/);
  });

  it('a chain name from the dump cannot act on the terminal: bidi and C1 characters are shown escaped', () => {
    // A hostile chain name: U+202E reverses the rest of the line, U+009B starts a C1 control sequence.
    const text = readFileSync(`${FIX}/iptables-v4-current.iptables-save-t-nat.txt`, 'utf8').replaceAll(
      'KUBE-SEP-4DRJRB6QQEGQJZEC',
      'KUBE-SEP-4DRJ\u202e\u009bX',
    );
    const file = join(tmp, 'hostile-chain.txt');
    writeFileSync(file, text);
    const human = npg(['inspect', '--file', file, '--port', '30001']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('198.19.1.11:8080   25.0%  KUBE-SEP-4DRJ\\u202e\\x9bX');
    expect(human.stdout).not.toMatch(/[\u202e\u009b]/);
  });

  it("a whole dump with a bad line in a table the walk does not read: the parser's error", () => {
    const text = readFileSync(`${FIX}/iptables-v4-current.iptables-save.txt`, 'utf8');
    const lines = text.split('\n');
    const at = lines.indexOf('COMMIT');
    lines.splice(at, 0, '[0:0] -A PREROUTING -m statistic --probabilty 0.5 -j ACCEPT');
    const bad = join(tmp, 'bad-mangle.txt');
    writeFileSync(bad, lines.join('\n'));
    const r = npg(['inspect', '--file', bad, '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^npg: ${bad} line ${at + 1}: .*probabilty`));
  });

  it('--port: one NodePort in detail (path, endpoint shares and chains, foreign rules); JSON filtered', () => {
    const whole = `${FIX}/iptables-v4-current.iptables-save.txt`;
    const r = npg(['inspect', '--file', whole, '--port', '30001']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[1]).toBe('30001/tcp  default/web:http  ETP=Cluster  not guarded');
    expect(lines[2]).toMatch(
      /^ {2}path {6}PREROUTING -> KUBE-SERVICES -> KUBE-NODEPORTS -> KUBE-EXT-\w+ -> KUBE-MARK-MASQ -> KUBE-SVC-\w+$/,
    );
    const endpoints = lines.filter((l) => l.startsWith('  endpoint  '));
    expect(endpoints).toHaveLength(4);
    for (const l of endpoints)
      expect(l).toMatch(/^ {2}endpoint {2}198\.19\.\d+\.\d+:8080 +25\.0% {2}KUBE-SEP-\w+$/);
    expect(r.stdout).not.toMatch(/^30002/m);

    const foreign = npg([
      'inspect',
      '--file',
      `${FIX}/iptables-v4-current-oneliner-guard.iptables-save.txt`,
      '--port',
      '30001/tcp',
    ]);
    expect(foreign.stdout).toMatch(/^ {2}foreign {3}PREROUTING rule #1: redirect \(line \d+\)$/m);
    const guarded = npg([
      'inspect',
      '--file',
      `${FIX}/iptables-v4-current-npg-guard.iptables-save.txt`,
      '--port',
      '30001',
    ]);
    expect(guarded.stdout).toMatch(/^30001\/tcp {2}default\/web:http {2}ETP=Cluster {2}guarded$/m);
    const none = npg(['inspect', '--file', whole, '--port', '30004']);
    expect(none.stdout).toContain('  endpoint  none (kube-proxy rejects or drops this port)');

    // JSON: the contract's shape with only that NodePort, as in the whole output.
    const all = JSON.parse(npg(['inspect', '--file', whole, '--json']).stdout);
    const one = JSON.parse(npg(['inspect', '--file', whole, '--json', '--port', '30002/udp']).stdout);
    expect(one).toEqual({
      ...all,
      nodePorts: all.nodePorts.filter((n: { port: number }) => n.port === 30002),
    });
  });

  it('--port: a port that is not there exits 1; a bad --port exits 2 in one line', () => {
    const whole = `${FIX}/iptables-v4-current.iptables-save.txt`;
    const missing = npg(['inspect', '--file', whole, '--port', '30099']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('no NodePort 30099 here');
    expect(npg(['inspect', '--file', whole, '--port', '30001/udp']).code).toBe(1);
    expect(
      JSON.parse(npg(['inspect', '--file', whole, '--port', '30099', '--json']).stdout).nodePorts,
    ).toEqual([]);
    for (const bad of ['0', '65536', '3x', '30001/icmp', '']) {
      const r = npg(['inspect', '--file', whole, '--port', bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim()).toBe(
        `npg: --port ${JSON.stringify(bad)}: a port from 1 to 65535, optionally /tcp, /udp or /sctp (30001, 30002/udp)`,
      );
    }
  });

  it('--help lists options with an example', () => {
    const r = npg(['inspect', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--ipset');
    expect(r.stdout).toContain('Examples:');
  });
});
