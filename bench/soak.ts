// `npm run soak [-- --minutes 3]`: the engine's watch (the use case behind `npg verify --watch`)
// on 20 lab nodes for a few minutes while kube-proxy re-syncs every few seconds and now and then
// restarts on one node, putting its KUBE-SERVICES jump back in front of our guard.
//
// Fails (exit 1) when
//   - a restart is missed: the first watch round that read the node after the restart did not
//     report the entry jump behind KUBE-SERVICES, or the report came later than one watch period
//     plus that round's own duration after the restart;
//   - a round reports drift that no restart explains (a re-sync must not look like drift);
//   - the watching process's memory grows: heap after a full collection, sampled every round
//     (first / last / max and a least-squares slope are printed).
// Every loop is bounded: the chaos stops at the deadline, the watch has a round limit and is
// stopped by a signal, and a last timer ends the process if anything hangs.
//
// Needs root. Uses a running iptables-mode lab with at least --nodes nodes as it is (its first
// nodes) and leaves it up; otherwise brings one up with --nodes nodes and takes it down at the end.
// Options: --minutes M (default 3, at most 60), --nodes N (20), --period S (watch period, 2),
// --resync S (kube-proxy re-sync of every watched node every S seconds, 3), --restart S (a
// restart on a random node about every S seconds, 15), --seed N, --out FILE (every sample, JSON).
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  currentLab,
  type LabNode,
  labDown,
  labUp,
  mapLimit,
  nodeIptables,
  restartKubeProxy,
  resyncKubeProxy,
} from '../e2e/lab/lab.js';
import { paths, readState } from '../e2e/lab/state.js';
import { DEFAULT_OPTIONS } from '../e2e/lab/topology.js';
import { labHealthy } from '../e2e/lab/up.js';
import { localStore } from '../electron/engine/local-store.js';
import { openSession } from '../electron/engine/session.js';
import { type WatchRound, watchVerify } from '../electron/engine/use-cases/verify.js';
import { loadWorkspace } from '../electron/engine/workspace-file.js';

const { values: cli } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    nodes: { type: 'string', default: '20' },
    period: { type: 'string', default: '2' },
    resync: { type: 'string', default: '3' },
    restart: { type: 'string', default: '15' },
    seed: { type: 'string', default: '13' },
    out: { type: 'string' },
  },
});
const num = (name: string, raw: string | undefined, min: number, max: number): number => {
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) {
    console.error(`soak: --${name} must be a number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return v;
};
const MINUTES = num('minutes', cli.minutes, 0.5, 60);
const NODES = Math.round(num('nodes', cli.nodes, 2, 127));
const PERIOD_S = Math.round(num('period', cli.period, 1, 60));
const RESYNC_S = num('resync', cli.resync, 0.5, 600);
const RESTART_S = num('restart', cli.restart, 2, 3600);
let seed = Math.round(num('seed', cli.seed, 0, 2 ** 31));

/** mulberry32: the same chaos for the same --seed. */
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
const now = () => performance.timeOrigin + performance.now();
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const ms = (x: number) => `${x.toFixed(0)} ms`;

function npg(args: string[]): void {
  const r = spawnSync(process.execPath, ['bin/npg.js', ...args], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`npg ${args[0]} failed (exit ${r.status}): ${r.stderr.trim().split('\n').pop()}`);
}

/** Least-squares slope of y over x. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor(s.length / 2)]!;
};

/** What a kube-proxy restart leaves: `-j KUBE-SERVICES` above our entry jump. */
const ORDER_FINDING = 'entry-after-kube-services';
/** Our entry jump, as apply writes it (shared/guard/rules.ts entryJumpRule). */
const ENTRY = ['-m', 'comment', '--comment', 'nodeport-guard: entry', '-j', 'NPG-PREROUTING'];

interface Restart {
  readonly node: string;
  /** When the restart's iptables calls had finished. */
  readonly at: number;
  /** The first round whose read of the node started after `at`, and whether it saw the drift. */
  round?: number;
  detectedAt?: number;
  missed?: boolean;
  latencyMs?: number;
  boundMs?: number;
  repairedAt?: number;
}

interface RoundSample {
  readonly round: number;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly durationMs: number;
  readonly heapUsed: number;
  readonly rss: number;
  readonly external: number;
  readonly fds: number;
  readonly drifted: readonly string[];
  readonly otherFindings: readonly string[];
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error('npm run soak: needs root (it runs the lab)');
    return 2;
  }
  const deadline = now() + MINUTES * 60_000;
  // The last wall: whatever hangs, the process ends.
  const hardStop = setTimeout(
    () => {
      console.error('soak: did not finish within its time limit; stopping');
      process.exit(2);
    },
    MINUTES * 60_000 + 180_000,
  );
  hardStop.unref();

  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  // A running lab that fits is used as it is; otherwise one of our own, taken down at the end.
  const state = await readState();
  let ownLab = false;
  let usable = false;
  if (state && state.options.mode === 'iptables' && state.options.nodes >= NODES) {
    usable = await labHealthy(state, await currentLab());
  }
  if (!usable) {
    await labUp({ ...DEFAULT_OPTIONS, nodes: NODES });
    ownLab = true;
  }
  const topo = await currentLab();
  const nodes = topo.nodes.slice(0, NODES);
  const names = nodes.map((n) => n.name);
  const byName = new Map(nodes.map((n) => [n.name, n] as const));
  const ws = paths.workspace;
  console.log(
    `soak: ${MINUTES} min, watch every ${PERIOD_S} s on ${NODES} nodes (${ownLab ? 'own lab' : `running lab of ${topo.nodes.length}`}); kube-proxy re-sync every ${RESYNC_S} s, a restart about every ${RESTART_S} s`,
  );

  const restarts: Restart[] = [];
  const samples: RoundSample[] = [];
  let resyncs = 0;
  const stop = new AbortController();
  let failed = false;
  try {
    // The guard on the watched nodes, in front of kube-proxy.
    npg(['policy', '--workspace', ws, '--port', '30001', '--allow', '198.18.100.10,198.18.100.11']);
    npg(['apply', '--workspace', ws, '--node', names.join(','), '--yes', '--quiet', '--ssh-config', 'none']);

    const loaded = await loadWorkspace(ws);
    if (!loaded.ok) throw new Error(loaded.message);
    const opened = await openSession(loaded.value, { sshConfigPath: null, nodes: names });
    if (!opened.ok) throw new Error(opened.message);
    const session = opened.session;
    const store = localStore(loaded.value.path);

    // Per node, when its read in the current round started (the watch's step events).
    let stepStarts = new Map<string, number>();
    let roundStartedAt = now();
    /** Nodes restarted and not yet repaired: the chaos leaves them alone. */
    const busy = new Set<string>();
    const pendingRepairs: Promise<void>[] = [];

    const repair = async (node: LabNode, r: Restart) => {
      // Our entry jump back to the top, as a re-apply would put it.
      await nodeIptables(node, ['-t', 'nat', '-D', 'PREROUTING', ...ENTRY]);
      await nodeIptables(node, ['-t', 'nat', '-I', 'PREROUTING', '1', ...ENTRY]);
      r.repairedAt = now();
    };

    const onRound = (round: WatchRound) => {
      const endedAt = now();
      const drifted = new Set<string>();
      const other: string[] = [];
      for (const n of round.verify.nodes) {
        if (!n.ok) {
          other.push(`${n.node}: ${n.message}`);
          continue;
        }
        for (const f of n.verify.findings) {
          if (f.severity === 'info') continue;
          if (f.kind === ORDER_FINDING) drifted.add(n.node);
          else other.push(`${n.node}: ${f.message}`);
        }
      }
      // Which restarts this round should have seen: its read of the node began after the restart.
      for (const r of restarts) {
        if (r.round !== undefined) continue;
        const readAt = stepStarts.get(r.node);
        if (readAt === undefined || readAt < r.at) continue;
        r.round = round.round;
        r.boundMs = PERIOD_S * 1000 + (endedAt - roundStartedAt);
        if (drifted.has(r.node)) {
          r.detectedAt = endedAt;
          r.latencyMs = endedAt - r.at;
          r.missed = r.latencyMs > r.boundMs;
        } else r.missed = true;
        const node = byName.get(r.node)!;
        pendingRepairs.push(
          repair(node, r)
            .catch((err) => console.error(`soak: repair of ${r.node} failed: ${String(err)}`))
            .finally(() => busy.delete(r.node)),
        );
      }
      // Drift on a node that no unrepaired restart explains is a false report.
      const explained = new Set(
        restarts
          .filter((r) => r.repairedAt === undefined || r.repairedAt > roundStartedAt)
          .map((r) => r.node),
      );
      for (const d of drifted) if (!explained.has(d)) other.push(`${d}: ${ORDER_FINDING} without a restart`);
      gc();
      const m = process.memoryUsage();
      samples.push({
        round: round.round,
        startedAt: roundStartedAt,
        endedAt,
        durationMs: endedAt - roundStartedAt,
        heapUsed: m.heapUsed,
        rss: m.rss,
        external: m.external,
        fds: readdirSync('/proc/self/fd').length,
        drifted: [...drifted],
        otherFindings: other,
      });
      if (other.length > 0) console.log(`  round ${round.round}: unexpected: ${other.join('; ')}`);
    };

    const maxRounds = Math.ceil((MINUTES * 60) / PERIOD_S) + 10;
    const watching = watchVerify(
      session,
      loaded.value,
      store,
      { periodSeconds: PERIOD_S, rounds: maxRounds },
      {
        signal: stop.signal,
        onEvent: (e) => {
          if (e.kind !== 'verify') return;
          if (e.phase === 'start') {
            if (stepStarts.size === 0) roundStartedAt = now();
            stepStarts.set(e.node, now());
          }
        },
        onRound: (r) => {
          onRound(r);
          stepStarts = new Map();
        },
      },
    );

    // The chaos: re-syncs on every watched node, and now and then a restart on one clean node.
    // Ends early enough that the last restart's round comes before the deadline.
    const chaosEnd = deadline - (2 * PERIOD_S + 10) * 1000;
    let nextResync = now() + RESYNC_S * 1000;
    let nextRestart = now() + RESTART_S * 1000 * (0.5 + random());
    while (now() < chaosEnd && !stop.signal.aborted) {
      const t = now();
      if (t >= nextResync) {
        await mapLimit(nodes, 4, (n) => resyncKubeProxy(topo, n));
        resyncs++;
        nextResync = t + RESYNC_S * 1000;
      }
      if (t >= nextRestart) {
        const free = names.filter((n) => !busy.has(n));
        if (free.length > 0) {
          const pick = free[Math.floor(random() * free.length)]!;
          busy.add(pick);
          await restartKubeProxy(byName.get(pick)!);
          restarts.push({ node: pick, at: now() });
          console.log(`  ${new Date().toISOString()} restart kube-proxy on ${pick}`);
        }
        nextRestart = t + RESTART_S * 1000 * (0.5 + random());
      }
      await sleep(Math.max(50, Math.min(nextResync, nextRestart, chaosEnd) - now()));
    }
    // Let the watch see the last restart, then stop it.
    const settle = now() + (2 * PERIOD_S + 8) * 1000;
    while (now() < Math.min(settle, deadline + 30_000) && restarts.some((r) => r.round === undefined))
      await sleep(200);
    await sleep(Math.max(0, Math.min(deadline - now(), PERIOD_S * 1000)));
    stop.abort();
    const report = await watching;
    await Promise.all(pendingRepairs);
    await session.close();

    // Restarts.
    console.log(`\nkube-proxy: ${resyncs} re-syncs of ${NODES} nodes, ${restarts.length} restarts`);
    console.log('restart   node     round  detection latency  bound (period + round)  result');
    for (const [i, r] of restarts.entries()) {
      const result =
        r.round === undefined
          ? 'NOT READ before the end'
          : r.detectedAt === undefined
            ? 'MISSED'
            : r.missed
              ? 'LATE'
              : 'ok';
      console.log(
        `${String(i + 1).padStart(7)}   ${r.node.padEnd(7)}  ${String(r.round ?? '-').padStart(5)}  ${(r.latencyMs === undefined ? '-' : ms(r.latencyMs)).padStart(17)}  ${(r.boundMs === undefined ? '-' : ms(r.boundMs)).padStart(22)}  ${result}`,
      );
    }
    const latencies = restarts.flatMap((r) => (r.latencyMs === undefined ? [] : [r.latencyMs]));
    const missed = restarts.filter((r) => r.missed || r.round === undefined);
    console.log(
      `detection latency: median ${ms(median(latencies))}, max ${ms(Math.max(...latencies, 0))} (period ${PERIOD_S * 1000} ms); missed or late: ${missed.length} of ${restarts.length}`,
    );

    // Rounds and memory.
    const durations = samples.map((s) => s.durationMs);
    console.log(
      `watch: ${report.rounds} rounds, round duration median ${ms(median(durations))}, max ${ms(Math.max(...durations))}`,
    );
    const unexpected = samples.filter((s) => s.otherFindings.length > 0);
    // Memory after warm-up: the first rounds fill caches (first reads, nft residents, JIT).
    const warm = samples.slice(Math.min(5, Math.floor(samples.length / 4)));
    const minutes = warm.map((s) => (s.endedAt - warm[0]!.endedAt) / 60_000);
    const heap = warm.map((s) => s.heapUsed);
    const rss = warm.map((s) => s.rss);
    const q = Math.max(1, Math.floor(warm.length / 4));
    const heapGrowth = median(heap.slice(-q)) - median(heap.slice(0, q));
    const rssGrowth = median(rss.slice(-q)) - median(rss.slice(0, q));
    const heapSlope = slope(minutes, heap);
    const rssSlope = slope(minutes, rss);
    console.log(
      `heap (after a full collection, ${warm.length} rounds after warm-up): first ${mib(heap[0] ?? 0)}, last ${mib(heap.at(-1) ?? 0)}, max ${mib(Math.max(...heap))}, slope ${(heapSlope / 1024).toFixed(0)} KiB/min, last quarter - first quarter ${(heapGrowth / 1024).toFixed(0)} KiB`,
    );
    console.log(
      `rss: first ${mib(rss[0] ?? 0)}, last ${mib(rss.at(-1) ?? 0)}, max ${mib(Math.max(...rss))}, slope ${(rssSlope / 1024).toFixed(0)} KiB/min, last quarter - first quarter ${(rssGrowth / 1024).toFixed(0)} KiB; file descriptors first ${warm[0]?.fds}, last ${warm.at(-1)?.fds}`,
    );
    console.log(
      `load average at the end ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );

    // Verdict. Growth is "clear" when the last quarter sits well above the first and the trend
    // agrees: 2 MiB or 10% of the heap, whichever is more (a 3-minute run of a leak of one node
    // read per round, ~20 KiB, would show ~2 MiB).
    const heapBase = median(heap.slice(0, q));
    const heapLeak = heapGrowth > Math.max(2 * 2 ** 20, 0.1 * heapBase) && heapSlope > 0;
    const rssLeak = rssGrowth > 32 * 2 ** 20 && rssSlope > 0;
    const problems: string[] = [];
    if (restarts.length === 0) problems.push('no restart happened (run longer or lower --restart)');
    if (missed.length > 0) problems.push(`${missed.length} restart(s) missed or reported late`);
    if (unexpected.length > 0)
      problems.push(`${unexpected.length} round(s) reported drift no restart explains`);
    if (heapLeak) problems.push(`heap grew by ${mib(heapGrowth)}`);
    if (rssLeak) problems.push(`RSS grew by ${mib(rssGrowth)}`);
    if (cli.out)
      writeFileSync(
        cli.out,
        `${JSON.stringify({ minutes: MINUTES, nodes: NODES, periodS: PERIOD_S, resyncS: RESYNC_S, restartS: RESTART_S, restarts, samples, resyncs, problems }, null, 2)}\n`,
      );
    failed = problems.length > 0;
    console.log(failed ? `\nsoak FAILED: ${problems.join('; ')}` : '\nsoak passed');
  } finally {
    stop.abort();
    if (ownLab) await labDown();
    else {
      // A lab that was running before is left up, without the guard this run put on it.
      spawnSync(
        process.execPath,
        [
          'bin/npg.js',
          'remove',
          '--workspace',
          ws,
          '--node',
          names.join(','),
          '--yes',
          '--quiet',
          '--ssh-config',
          'none',
        ],
        { encoding: 'utf8' },
      );
    }
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`soak: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
