// `npm run bench:fleet [-- --nodes N]`: the engine over SSH on the lab, against baselines measured
// in the same run.
//   1. discover, cold connections, N nodes  vs  parallel-ssh running `iptables-save -t nat`
//   2. apply one policy to every node, canary first (`npg apply`, cold: a fresh process each time)
//   3. verify with warm connections, N nodes (one engine session kept open), and what each open
//      node session costs: heap and RSS of this process, file descriptors, processes on the node
//   4. apply 50 guarded NodePorts x 20 CIDRs on a node holding a 5,000-service table  vs  the same
//      rules applied by one `iptables` call each (--skip-big-table leaves it out)
// Needs root. Brings the lab up with N nodes (default 20; an already running lab of that size is
// used as it is) and takes it down at the end unless --keep-lab. --repeat R (default 5) runs per
// figure, medians printed; --out FILE writes every sample and the load averages as JSON.
import { spawnSync } from 'node:child_process';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { generateKubeProxyRules, syntheticServices } from '../e2e/lab/kube-proxy/index.js';
import { currentLab, labDown, labUp, loadKubeProxy, paths } from '../e2e/lab/lab.js';
import { run } from '../e2e/lab/sys/exec.js';
import { DEFAULT_OPTIONS } from '../e2e/lab/topology.js';
import { openSession } from '../electron/engine/session.js';
import { verifyNodes } from '../electron/engine/verify-nodes.js';
import { loadWorkspace } from '../electron/engine/workspace-file.js';
import { shippedScript } from '../electron/fleet/index.js';

const { values: cli } = parseArgs({
  options: {
    nodes: { type: 'string', default: '20' },
    repeat: { type: 'string', default: '5' },
    'keep-lab': { type: 'boolean', default: false },
    'skip-big-table': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const NODES = Number(cli.nodes);
const REPEAT = Number(cli.repeat);
if (!Number.isInteger(NODES) || NODES < 1 || !Number.isInteger(REPEAT) || REPEAT < 1) {
  console.error(
    'usage: npm run bench:fleet -- [--nodes N] [--repeat R] [--keep-lab] [--skip-big-table] [--out FILE]',
  );
  process.exit(2);
}
/** A script that starts one process on the node (the floors of section 3). */
const ONE_PROCESS = shippedScript('/bin/true', { name: 'npg-bench' });
// A full collection before each memory sample (the figures are retained memory, not garbage).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
/** Every sample of this run, for --out. */
const record: Record<string, unknown> = { nodes: NODES, repeat: REPEAT, started: new Date().toISOString() };
const loads: { at: string; what: string; load: number[] }[] = [];
const markLoad = (what: string) => {
  loads.push({ at: new Date().toISOString(), what, load: loadavg() });
  console.log(`  [load average ${load()} ${what}]`);
};
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

/** Processes running inside each lab node's namespace, and their RSS, summed. */
function nodeProcesses(netnsList: readonly string[]): { count: number; rssKiB: number } {
  let count = 0;
  let rssKiB = 0;
  for (const ns of netnsList) {
    const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
    for (const pid of r.stdout.split('\n').filter((l) => /^\d+$/.test(l.trim()))) {
      try {
        const status = readFileSync(`/proc/${pid.trim()}/status`, 'utf8');
        const m = /VmRSS:\s+(\d+) kB/.exec(status);
        count++;
        rssKiB += m ? Number(m[1]) : 0;
      } catch {
        // gone since the listing
      }
    }
  }
  return { count, rssKiB };
}

/** utime+stime+cutime+cstime of /proc/PID/stat, in seconds (USER_HZ 100). */
function procCpu(pid: string): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
}

/**
 * CPU seconds used so far, on the lab's side and on ours. Lab: every process in a node namespace,
 * with what its reaped children used (a session's sshd, shell and commands end up in the
 * listening sshd's counters when they exit). Ours: this process and the children it reaped (npg
 * and parallel-ssh runs). The difference over an operation is its CPU, whatever else the machine
 * runs: the figure that scales to 1,000 nodes.
 */
function cpuNow(netnsList: readonly string[]): { lab: number; ours: number } {
  const wanted = new Set(netnsList.map((ns) => statSync(`/run/netns/${ns}`).ino));
  let lab = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const ino = /net:\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/net`))?.[1];
      if (ino !== undefined && wanted.has(Number(ino))) lab += procCpu(pid);
    } catch {
      // gone
    }
  }
  return { lab, ours: procCpu('self') };
}

function cpuSince(
  netnsList: readonly string[],
  t0: { lab: number; ours: number },
): { lab: number; ours: number } {
  const t1 = cpuNow(netnsList);
  return { lab: t1.lab - t0.lab, ours: t1.ours - t0.ours };
}

const cpuText = (c: { lab: number; ours: number }, n: number): string =>
  `CPU ${c.lab.toFixed(1)} s on the nodes (${((c.lab / n) * 1000).toFixed(0)} ms per node) + ${c.ours.toFixed(1)} s here`;

function memorySample(): { heapUsed: number; rss: number; external: number; fds: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, external: m.external, fds: readdirSync('/proc/self/fd').length };
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('npm run bench:fleet: needs root (it runs the lab)');
    process.exit(2);
  }
  const tmp = mkdtempSync(join(tmpdir(), 'npg-fleet-bench-'));
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; ${NODES} nodes, ${REPEAT} runs per figure`,
  );
  record.machine = {
    cpus: cpus().length,
    model: cpus()[0]?.model,
    memGiB: totalmem() / 2 ** 30,
    node: process.version,
  };
  markLoad('at start');
  try {
    const upStarted = performance.now();
    const status = await labUp({ ...DEFAULT_OPTIONS, nodes: NODES });
    const upMs = performance.now() - upStarted;
    console.log(`lab: ${NODES} nodes ready in ${fmt(upMs)} (0 if it was already up)`);
    record.labUpMs = upMs;
    markLoad('lab up');
    const ws = status.workspace;
    const netnsList = status.nodes.map((n) => n.netns);
    const hosts = join(tmp, 'hosts');
    writeFileSync(hosts, `${status.nodes.map((n) => n.ip).join('\n')}\n`);
    const sshOpts = `-i ${paths.labKey} -o UserKnownHostsFile=${paths.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes`;
    // Start from no guard (a kept lab may hold one from an earlier run): discover reads the same
    // tables each time, and every timed apply below changes every node.
    npg(['remove', '--workspace', ws, '--yes', '--quiet', '--ssh-config', 'none']);

    // 1. discover (cold: a fresh process and fresh connections each time) vs parallel-ssh, the
    //    same number of connections at once (32), alternating which goes first.
    const psshTimes: number[] = [];
    const discoverTimes: number[] = [];
    const psshCpu: { lab: number; ours: number }[] = [];
    const discoverCpu: { lab: number; ours: number }[] = [];
    const withCpu = (into: { lab: number; ours: number }[], fn: () => number): number => {
      const c0 = cpuNow(netnsList);
      const t = fn();
      into.push(cpuSince(netnsList, c0));
      return t;
    };
    const pssh = (i: number) =>
      psshTimes.push(
        withCpu(psshCpu, () =>
          timeSync(() => {
            const r = spawnSync(
              'parallel-ssh',
              [
                '-h',
                hosts,
                '-l',
                'root',
                '-p',
                '32',
                '-t',
                '120',
                '-o',
                join(tmp, `pssh-${i}`),
                '-x',
                sshOpts,
                'iptables-save',
                '-t',
                'nat',
              ],
              { encoding: 'utf8' },
            );
            if (r.status !== 0) throw new Error(`parallel-ssh failed: ${r.stdout}${r.stderr}`);
          }),
        ),
      );
    const discover = () =>
      discoverTimes.push(
        withCpu(discoverCpu, () =>
          timeSync(() =>
            must(
              npg(['discover', '--workspace', ws, '--json', '--quiet', '--ssh-config', 'none']),
              'npg discover',
            ),
          ),
        ),
      );
    for (let i = 0; i < REPEAT; i++) {
      if (i % 2 === 0) {
        pssh(i);
        discover();
      } else {
        discover();
        pssh(i);
      }
    }
    const discoverRatio = median(discoverTimes) / median(psshTimes);
    console.log(
      `discover, ${NODES} nodes, cold:  npg ${fmt(median(discoverTimes))}  parallel-ssh ${fmt(median(psshTimes))}  ratio ${discoverRatio.toFixed(2)} (target <= 0.8); runs npg ${discoverTimes.map(fmt).join(', ')}; pssh ${psshTimes.map(fmt).join(', ')}`,
    );
    const medCpu = (xs: { lab: number; ours: number }[]) => ({
      lab: median(xs.map((x) => x.lab)),
      ours: median(xs.map((x) => x.ours)),
    });
    console.log(
      `  npg discover: ${cpuText(medCpu(discoverCpu), NODES)}; parallel-ssh: ${cpuText(medCpu(psshCpu), NODES)}`,
    );
    record.discover = {
      npgMs: discoverTimes,
      psshMs: psshTimes,
      ratio: discoverRatio,
      npgCpu: discoverCpu,
      psshCpu,
    };
    markLoad('after discover');

    // 2. apply one policy to every node, canary first (the default: the first node that changes
    //    is changed and verified alone, then the rest). Every run changes every node: the
    //    allow-list of 30001 alternates between two lists.
    must(
      npg(['policy', '--workspace', ws, '--port', '30002', '--proto', 'udp', '--allow', '198.18.100.10']),
      'npg policy',
    );
    const lists = ['198.18.100.10,198.18.100.11', '198.18.100.10,198.18.100.12'];
    const applyTimes: number[] = [];
    const applyCpu: { lab: number; ours: number }[] = [];
    let canaryFirst = true;
    for (let i = 0; i <= REPEAT; i++) {
      must(
        npg(['policy', '--workspace', ws, '--port', '30001', '--allow', lists[i % 2]!, '--label', 'bench']),
        'npg policy',
      );
      let out = '';
      const c0 = cpuNow(netnsList);
      const ms = timeSync(() => {
        const r = npg(['apply', '--workspace', ws, '--yes', '--json', '--ssh-config', 'none']);
        must(r, 'npg apply');
        out = r.stderr;
      });
      if (i > 0) applyCpu.push(cpuSince(netnsList, c0));
      // stderr: the canary is changed (and verified) before any other node.
      const firstStarted = /(node\d+): changed/.exec(out)?.[1];
      if (firstStarted !== undefined && firstStarted !== 'node1') canaryFirst = false;
      if (i > 0) applyTimes.push(ms); // the first run also guards 30002 on every node: not timed
    }
    console.log(
      `apply one policy to ${NODES} nodes, canary first, cold: ${fmt(median(applyTimes))} (target <= 10 s); runs ${applyTimes.map(fmt).join(', ')}${canaryFirst ? '' : ' (progress did not show node1 first)'}`,
    );
    console.log(
      `  ${cpuText({ lab: median(applyCpu.map((c) => c.lab)), ours: median(applyCpu.map((c) => c.ours)) }, NODES)}`,
    );
    record.apply = { ms: applyTimes, cpu: applyCpu };
    markLoad('after apply');

    // 3. verify with warm connections, and the cost of each open node session.
    const loaded = await loadWorkspace(ws);
    if (!loaded.ok) throw new Error(loaded.message);
    const procsBefore = nodeProcesses(netnsList);
    const before = memorySample();
    const opened = await openSession(loaded.value, { sshConfigPath: null });
    if (!opened.ok) throw new Error(opened.message);
    try {
      const first = await verifyNodes(opened.session, loaded.value.workspace.policy);
      if (first.status !== 'ok') throw new Error(`verify after apply: ${first.status}`);
      const policy = loaded.value.workspace.policy;
      const session = opened.session;
      // The second verify starts each node's resident nft (both families): a session as a watch keeps it.
      await verifyNodes(session, policy);
      const after = memorySample();
      const procsAfter = nodeProcesses(netnsList);
      const perSession = {
        heapBytes: (after.heapUsed - before.heapUsed) / NODES,
        rssBytes: (after.rss - before.rss) / NODES,
        externalBytes: (after.external - before.external) / NODES,
        fds: (after.fds - before.fds) / NODES,
        nodeProcesses: (procsAfter.count - procsBefore.count) / NODES,
        nodeRssKiB: (procsAfter.rssKiB - procsBefore.rssKiB) / NODES,
      };
      console.log(
        `per open node session (${NODES} open): heap ${kib(perSession.heapBytes)}, RSS ${kib(perSession.rssBytes)}, external ${kib(perSession.externalBytes)}, file descriptors ${perSession.fds.toFixed(2)} (this process: ${before.fds} -> ${after.fds}); on the node: ${perSession.nodeProcesses.toFixed(2)} processes, ${perSession.nodeRssKiB.toFixed(0)} KiB RSS`,
      );
      record.perSession = { ...perSession, before, after, procsBefore, procsAfter };
      const timed = async (fn: () => Promise<void>): Promise<number[]> => {
        const t: number[] = [];
        for (let i = 0; i < REPEAT; i++) {
          const t0 = performance.now();
          await fn();
          t.push(performance.now() - t0);
        }
        return t;
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
      const v0 = cpuNow(netnsList);
      const warm = await timed(() => check());
      const warmCpu = cpuSince(netnsList, v0);
      warmCpu.lab /= REPEAT;
      warmCpu.ours /= REPEAT;
      const target = NODES <= 20 ? 300 : 1000;
      console.log(
        `verify, ${NODES} nodes, warm connections: ${fmt(median(warm))} (target <= ${target} ms; runs ${warm.map(fmt).join(', ')}); every time a full guard read: ${fmt(median(fullRead))}; floors on every node: a round trip ${fmt(median(roundTrip))}, one process ${fmt(median(oneProcess))}`,
      );
      console.log(`  warm verify, per run: ${cpuText(warmCpu, NODES)}`);
      record.verify = {
        warmMs: warm,
        warmCpu,
        fullReadMs: fullRead,
        roundTripMs: roundTrip,
        oneProcessMs: oneProcess,
      };
      markLoad('after verify');
    } finally {
      await opened.session.close();
    }

    // 4. apply 50 ports x 20 CIDRs on node1 after loading a 5,000-service table into it.
    if (!cli['skip-big-table']) await bigTable(status, ws);
  } finally {
    markLoad('at end');
    record.loads = loads;
    if (cli.out) writeFileSync(cli.out, `${JSON.stringify(record, null, 2)}\n`);
    if (!cli['keep-lab']) await labDown();
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function bigTable(status: Awaited<ReturnType<typeof labUp>>, ws: string): Promise<void> {
  {
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
    record.bigTable = { applyMs, perCallMs: perCall, calls: calls.length, baselineMs: baseline };
    markLoad('after the big table');
    // node1 holds 5,000 services and 50 guarded ports now: a kept lab gets its own rules back.
    for (const p of ports)
      must(npg(['policy', '--workspace', ws, '--port', String(p), '--drop']), 'npg policy');
    must(npg(['remove', '--workspace', ws, '--yes', '--quiet', '--ssh-config', 'none']), 'npg remove');
    const topo = await currentLab();
    await loadKubeProxy(topo, topo.nodes[0]!);
  }
}

await main();
