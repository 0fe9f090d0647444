// `npm run bench:fleet`: the engine over SSH on the lab, against baselines measured in the same run.
//   1. discover, cold connections, 20 nodes  vs  parallel-ssh running `iptables-save -t nat`
//   2. verify with warm connections, 20 nodes (one engine session kept open)
//   3. apply 50 guarded NodePorts x 20 CIDRs on a node holding a 5,000-service table  vs  the same
//      rules applied by one `iptables` call each
// Needs root. Brings the lab up with 20 nodes and takes it down at the end.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateKubeProxyRules, syntheticServices } from '../e2e/lab/kube-proxy/index.js';
import { labDown, labUp, paths } from '../e2e/lab/lab.js';
import { run } from '../e2e/lab/sys/exec.js';
import { DEFAULT_OPTIONS } from '../e2e/lab/topology.js';
import { openSession } from '../electron/engine/session.js';
import { verifyNodes } from '../electron/engine/verify-nodes.js';
import { loadWorkspace } from '../electron/engine/workspace-file.js';
import { shippedScript } from '../electron/fleet/index.js';

const NODES = 20;
/** A script that starts one process on the node (the floors of section 2). */
const ONE_PROCESS = shippedScript('/bin/true');
const REPEAT = 5;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number): string => `${x.toFixed(0)} ms`;

function timeSync(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

function npg(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/npg.js', ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function must(r: { code: number | null; stderr: string }, what: string): void {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${r.stderr.trim().split('\n').pop()}`);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('npm run bench:fleet: needs root (it runs the lab)');
    process.exit(2);
  }
  const tmp = mkdtempSync(join(tmpdir(), 'npg-fleet-bench-'));
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`,
  );
  try {
    const status = await labUp({ ...DEFAULT_OPTIONS, nodes: NODES });
    const ws = status.workspace;
    const hosts = join(tmp, 'hosts');
    writeFileSync(hosts, `${status.nodes.map((n) => n.ip).join('\n')}\n`);
    const sshOpts = `-i ${paths.labKey} -o UserKnownHostsFile=${paths.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes`;

    // 1. discover (cold: a fresh process and fresh connections each time) vs parallel-ssh.
    const psshTimes: number[] = [];
    const discoverTimes: number[] = [];
    for (let i = 0; i < REPEAT; i++) {
      const out = join(tmp, `pssh-${i}`);
      psshTimes.push(
        timeSync(() => {
          const r = spawnSync(
            'parallel-ssh',
            ['-h', hosts, '-l', 'root', '-p', '32', '-o', out, '-x', sshOpts, 'iptables-save', '-t', 'nat'],
            {
              encoding: 'utf8',
            },
          );
          if (r.status !== 0) throw new Error(`parallel-ssh failed: ${r.stdout}${r.stderr}`);
        }),
      );
      discoverTimes.push(
        timeSync(() =>
          must(
            npg(['discover', '--workspace', ws, '--json', '--quiet', '--ssh-config', 'none']),
            'npg discover',
          ),
        ),
      );
    }
    console.log(
      `discover, ${NODES} nodes, cold:  npg ${fmt(median(discoverTimes))}  parallel-ssh ${fmt(median(psshTimes))}  ratio ${(median(discoverTimes) / median(psshTimes)).toFixed(2)} (target <= 1.2)`,
    );

    // 2. verify with warm connections: guard two ports, then re-verify over one open session.
    must(
      npg([
        'policy',
        '--workspace',
        ws,
        '--port',
        '30001',
        '--allow',
        '198.18.100.10,198.18.100.11',
        '--label',
        'bench',
      ]),
      'npg policy',
    );
    must(
      npg(['policy', '--workspace', ws, '--port', '30002', '--proto', 'udp', '--allow', '198.18.100.10']),
      'npg policy',
    );
    must(npg(['apply', '--workspace', ws, '--yes', '--quiet', '--ssh-config', 'none']), 'npg apply');
    const loaded = await loadWorkspace(ws);
    if (!loaded.ok) throw new Error(loaded.message);
    const opened = await openSession(loaded.value, { sshConfigPath: null });
    if (!opened.ok) throw new Error(opened.message);
    try {
      const first = await verifyNodes(opened.session, loaded.value.workspace.policy);
      if (first.status !== 'ok') throw new Error(`verify after apply: ${first.status}`);
      const policy = loaded.value.workspace.policy;
      const session = opened.session;
      const timed = async (fn: () => Promise<void>): Promise<number> => {
        const t: number[] = [];
        for (let i = 0; i < REPEAT; i++) {
          const t0 = performance.now();
          await fn();
          t.push(performance.now() - t0);
        }
        return median(t);
      };
      // Floors through the same warm connections: a round trip (`true` is a builtin of the node's
      // persistent shell, read-only: no process), and one process per node (`/bin/true` in a
      // subshell: a fork and an exec, as a warm verify's `grep`).
      const floorOf = (argv: string[]) =>
        timed(async () => {
          await session.fleet.runOnAll(session.nodes, async (ctx) => {
            const r = await ctx.run({ op: 'true', argv, readOnly: true });
            return r.ok ? { ok: true, value: 0 } : { ok: false, error: r.error };
          });
        });
      const roundTrip = await floorOf(['true']);
      const oneProcess = await floorOf(['sh', '-c', ONE_PROCESS, 'npg-bench']);
      const check = async (quickReadMaxAgeMs?: number) => {
        const r = await verifyNodes(
          session,
          policy,
          quickReadMaxAgeMs === undefined ? {} : { quickReadMaxAgeMs },
        );
        if (r.status !== 'ok') throw new Error(`verify: ${r.status}`);
      };
      const fullRead = await timed(() => check(0));
      await check();
      const warm = await timed(() => check());
      console.log(
        `verify, ${NODES} nodes, warm connections: ${fmt(warm)} (target <= 300 ms); every time a full guard read: ${fmt(fullRead)}; floors on every node: a round trip ${fmt(roundTrip)}, one process ${fmt(oneProcess)}`,
      );
    } finally {
      await opened.session.close();
    }

    // 3. apply 50 ports x 20 CIDRs on node1 after loading a 5,000-service table into it.
    const big = generateKubeProxyRules({
      mode: 'iptables',
      family: 'ipv4',
      services: syntheticServices(5000, 3),
      nodeName: 'node1',
      nodeIp: status.nodes[0]!.ip,
      clusterCidr: '198.19.0.0/17',
    });
    const ns = status.nodes[0]!.netns;
    await run(['iptables-restore', '-w'], { netns: ns, input: big.nat, timeoutMs: 120_000 });
    const ports = Array.from({ length: 50 }, (_, i) => 20000 + i);
    const cidrs = Array.from({ length: 20 }, (_, i) => `198.18.${110 + i}.0/24`).join(',');
    for (const p of ports)
      must(npg(['policy', '--workspace', ws, '--port', String(p), '--allow', cidrs]), 'npg policy');
    const applyMs = timeSync(() =>
      must(
        npg(['apply', '--workspace', ws, '--node', 'node1', '--yes', '--quiet', '--ssh-config', 'none']),
        'npg apply',
      ),
    );

    // Baseline: the same rules, one `iptables` call each, in the node (no SSH: favours the baseline).
    const calls: string[][] = [
      ['-t', 'nat', '-N', 'BENCH-PRE'],
      ['-t', 'nat', '-I', 'PREROUTING', '1', '-j', 'BENCH-PRE'],
    ];
    for (const p of ports) {
      calls.push(['-t', 'nat', '-N', `BENCH-${p}`]);
      calls.push([
        '-t',
        'nat',
        '-A',
        'BENCH-PRE',
        '-p',
        'tcp',
        '--dport',
        String(p),
        '-m',
        'addrtype',
        '--dst-type',
        'LOCAL',
        '-j',
        `BENCH-${p}`,
      ]);
      for (const c of cidrs.split(','))
        calls.push(['-t', 'nat', '-A', `BENCH-${p}`, '-s', c, '-j', 'RETURN']);
      calls.push(['-t', 'nat', '-A', `BENCH-${p}`, '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', '65535']);
    }
    // Bounded: time the first SAMPLE calls and extrapolate (every call re-reads the whole table).
    const SAMPLE = Math.min(100, calls.length);
    const t0 = performance.now();
    for (const argv of calls.slice(0, SAMPLE))
      await run(['iptables', '-w', ...argv], { netns: ns, timeoutMs: 60_000 });
    const perCall = (performance.now() - t0) / SAMPLE;
    const baseline = perCall * calls.length;
    console.log(
      `apply 50 ports x 20 CIDRs on a 5,000-service node: npg ${fmt(applyMs)} (target <= 2000 ms); one iptables call each: ${calls.length} calls x ${fmt(perCall)} = ${fmt(baseline)} (extrapolated from ${SAMPLE}); ratio ${(baseline / applyMs).toFixed(0)}x (target >= 50x)`,
    );
  } finally {
    await labDown();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
