// `npm run bench`: how fast is reading a big node? Generates kube-proxy-shaped rules for 1k, 2.5k
// and 5k NodePort services x 3 endpoints, loads each into a throwaway network namespace, times
// iptables-save there (the baseline, same run), then times our parse + topology on its output and
// the whole `npg inspect --file` CLI, start-up included. Needs root. Prints figures and ratios.
// "parse" and "topology" are the quick path `npg inspect` takes for such a dump (every rule line
// checked into typed arrays, netfilter/nat-scan.ts; the walk on them, kube/compact-topology.ts);
// the last three columns are the general path it falls back to for other input (the lazy parse
// and analyzeTopology), measured in the same loop; "json bytes" is the walk as `npg inspect
// --json` runs it, writing the JSON text's bytes (compact-json.ts) instead of objects. "node
// start" is `node -e 0` and "node floor" bench/node-floor.mjs: what any Node.js CLI pays before
// and besides its parsing (start, read the dump, write the output), run alternately with the CLI.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { generateKubeProxyRules, syntheticServices } from '../e2e/lab/kube-proxy/index.js';
import { run } from '../e2e/lab/sys/exec.js';
import { withTempNetns } from '../e2e/lab/sys/netns.js';
// @ts-expect-error: the build script is plain JavaScript without type declarations.
import { buildNode } from '../scripts/build-node.mjs';
import { compactInspect, compactInspectBytes } from '../shared/kube/compact-topology.js';
import { analyzeTopology } from '../shared/kube/index.js';
import { findTable, parseIptablesSave } from '../shared/netfilter/index.js';
import { type NatScan, scanNatDump } from '../shared/netfilter/nat-scan.js';

const SIZES = [1000, 2500, 5000];
const CLI = 'dist/node/npg.mjs';
/** Start node, read the dump, one pass over its bytes, write the output's size: no parsing. */
const FLOOR = 'bench/node-floor.mjs';
const ENDPOINTS = 3;
const REPEAT = 5;
/** In-process timings are cheap and the machine is shared: more runs for a steadier median. */
const REPEAT_IN_PROCESS = 9;

// A full collection before each timed step, so that no step pays for the garbage of the one
// before it (the quick and the general path alternate; the general one's model is tens of MB).
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number): string => `${x.toFixed(0).padStart(6)} ms`;

async function timeIt<T>(fn: () => T | Promise<T>): Promise<number> {
  collect();
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/**
 * Peak memory of the quick parse + topology, measured in a fresh process so earlier runs do not
 * pollute it: the JS heap plus array buffers (the scan keeps its tables in typed arrays).
 */
function peakHeap(dumpPath: string): { retained: number; peakRss: number } {
  const script = `
    import { readFileSync } from 'node:fs';
    import { scanNatDump } from './shared/netfilter/nat-scan.ts';
    import { compactInspect } from './shared/kube/compact-topology.ts';
    const text = readFileSync(${JSON.stringify(dumpPath)}, 'utf8');
    const used = () => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
    globalThis.gc(); const rss0 = process.memoryUsage().rss; const h0 = used();
    let peak = 0; const sample = () => { peak = Math.max(peak, used() - h0); };
    const scan = scanNatDump(text); sample();
    const json = compactInspect(scan); sample();
    globalThis.gc(); const retained = used() - h0;
    const peakRss = process.resourceUsage().maxRSS * 1024 - rss0;
    console.log(JSON.stringify({ retained: Math.max(retained, 0), peak, peakRss, n: json.nodePorts.length }));`;
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`heap probe failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    retained: number;
    peak: number;
    peakRss: number;
  };
  return { retained: Math.max(out.retained, out.peak), peakRss: out.peakRss };
}

/**
 * The README's commands on the largest node, as people run them: a whole `iptables-save -c` dump
 * (every table, the README's example), `npg inspect` for people and for machines, `npg trace` of a
 * packet to one of its NodePorts. Baseline: that iptables-save, same run.
 */
async function readmeCommands(
  ns: string,
  dir: string,
  n: number,
  spawnTimed: (args: string[]) => Promise<number>,
): Promise<string[]> {
  let whole = '';
  const saveTimes: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    saveTimes.push(
      await timeIt(async () => {
        whole = await run(['iptables-save', '-c'], { netns: ns, timeoutMs: 120_000 });
      }),
    );
  }
  const path = join(dir, `all-${n}.txt`);
  writeFileSync(path, whole);
  const port = /-A KUBE-NODEPORTS .*--dport (\d+)/.exec(whole)?.[1];
  if (port === undefined) throw new Error('no NodePort in the whole dump');
  const commands: [string, string[]][] = [
    ['npg inspect --file ALL --json', [CLI, 'inspect', '--file', path, '--json']],
    ['npg inspect --file ALL', [CLI, 'inspect', '--file', path]],
    [
      `npg trace --file ALL (to NodePort ${port})`,
      [CLI, 'trace', '--file', path, '--src', '198.18.5.5', '--dst', '198.18.0.11', '--dport', port],
    ],
  ];
  const times = commands.map((): number[] => []);
  for (let i = 0; i < REPEAT; i++) {
    for (const [k, [, args]] of commands.entries()) times[k]!.push(await spawnTimed(args));
  }
  const save = median(saveTimes);
  return [
    `README's commands, ${n} services, whole dump (iptables-save -c, ${(whole.length / 1e6).toFixed(1)} MB): iptables-save -c ${ms(save)}`,
    ...commands.map(
      ([label], k) =>
        `  ${label.padEnd(40)} ${ms(median(times[k]!))}  ${(median(times[k]!) / save).toFixed(3)} x`,
    ),
  ];
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('npm run bench: needs root (it loads the rules into a network namespace)');
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), 'npg-bench-'));
  // Build the CLI bundle now, so that no timed run below includes a rebuild by the launcher.
  await buildNode({ only: 'cli' });
  console.log(
    `load average at the start: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`,
  );
  console.log(
    'services  rules     dump MB   iptables-save   parse     topology  parse+topo  ratio  cli       cli ratio  heap/dump           general parse  topology  ratio  json bytes   node start  node floor  floor ratio',
  );
  const readme: string[] = [];
  try {
    for (const n of SIZES) {
      const rules = generateKubeProxyRules({
        mode: 'iptables',
        family: 'ipv4',
        services: syntheticServices(n, ENDPOINTS),
        nodeName: 'node1',
        nodeIp: '198.18.0.11',
        clusterCidr: '198.19.0.0/16',
      });
      await withTempNetns(`npgbench-${n}`, async (ns) => {
        for (const t of ['mangle', 'filter', 'nat'] as const) {
          await run(['iptables-restore', '-w'], { netns: ns, input: rules[t], timeoutMs: 120_000 });
        }
        let dump = '';
        const saveTimes: number[] = [];
        for (let i = 0; i < REPEAT; i++) {
          saveTimes.push(
            await timeIt(async () => {
              dump = await run(['iptables-save', '-c', '-t', 'nat'], { netns: ns, timeoutMs: 120_000 });
            }),
          );
        }
        const dumpPath = join(dir, `nat-${n}.txt`);
        writeFileSync(dumpPath, dump);

        const parseTimes: number[] = [];
        const topoTimes: number[] = [];
        const generalTimes: number[] = [];
        const generalTopoTimes: number[] = [];
        const bytesTimes: number[] = [];
        let ruleCount = 0;
        let found = 0;
        // One untimed round first: the first size would otherwise also time the JIT's warm-up.
        const warm = scanNatDump(dump);
        if (warm) {
          compactInspect(warm);
          compactInspectBytes(warm);
        }
        const warmGeneral = parseIptablesSave(dump, { lazy: true });
        if (warmGeneral.ok) analyzeTopology({ nat: findTable(warmGeneral.ruleset, 'nat')! });
        for (let i = 0; i < REPEAT_IN_PROCESS; i++) {
          let general: ReturnType<typeof parseIptablesSave> | undefined;
          generalTimes.push(await timeIt(() => (general = parseIptablesSave(dump, { lazy: true }))));
          if (!general?.ok)
            throw new Error(`parse failed: ${general?.ok === false ? general.error.message : ''}`);
          const nat = findTable(general.ruleset, 'nat')!;
          ruleCount = nat.chains.reduce((a, c) => a + c.rules.length, 0);
          generalTopoTimes.push(await timeIt(() => analyzeTopology({ nat })));
          general = undefined;
          let scan: NatScan | undefined;
          parseTimes.push(await timeIt(() => (scan = scanNatDump(dump))));
          // The quick path must answer on kube-proxy's own dump: a fallback would time the other path.
          if (!scan) throw new Error('the quick scan did not read the dump');
          const quick = scan;
          topoTimes.push(await timeIt(() => (found = compactInspect(quick)?.nodePorts.length ?? -1)));
          bytesTimes.push(await timeIt(() => compactInspectBytes(quick)));
        }
        if (found !== n) throw new Error(`topology found ${found} NodePorts, expected ${n}`);

        // What the CLI prints, for the floor to write as many bytes.
        const printed = spawnSync(process.execPath, [CLI, 'inspect', '--file', dumpPath, '--json'], {
          maxBuffer: 1 << 30,
        });
        if (printed.status !== 0) throw new Error(`npg inspect failed: ${printed.stderr}`);
        const cliTimes: number[] = [];
        const startTimes: number[] = [];
        const floorTimes: number[] = [];
        // Alternated with the CLI runs, so that both see the same load.
        const spawnTimed = (args: string[]): Promise<number> =>
          timeIt(() => {
            const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
            if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${r.stderr}`);
          });
        for (let i = 0; i < REPEAT; i++) {
          startTimes.push(await spawnTimed(['-e', '0']));
          floorTimes.push(await spawnTimed([FLOOR, dumpPath, String(printed.stdout.length)]));
          // The bundle bin/npg.js imports, run directly: the launcher would rebuild it whenever a
          // source file is newer (another engineer editing the tree), which is no start-up.
          cliTimes.push(await spawnTimed([CLI, 'inspect', '--file', dumpPath, '--json']));
        }
        const heap = peakHeap(dumpPath);
        const save = median(saveTimes);
        const both = median(parseTimes) + median(topoTimes);
        console.log(
          [
            String(n).padEnd(9),
            String(ruleCount).padEnd(9),
            (dump.length / 1e6).toFixed(1).padStart(7),
            `  ${ms(save)}     `,
            ms(median(parseTimes)),
            ms(median(topoTimes)),
            ms(both),
            `  ${(both / save).toFixed(3)}`,
            ms(median(cliTimes)),
            `  ${(median(cliTimes) / save).toFixed(3)}   `,
            `  ${(heap.retained / dump.length).toFixed(1)}x (rss ${(heap.peakRss / dump.length).toFixed(1)}x)`,
            `    ${ms(median(generalTimes))}`,
            ms(median(generalTopoTimes)),
            `  ${((median(generalTimes) + median(generalTopoTimes)) / save).toFixed(3)}`,
            ms(median(bytesTimes)),
            `   ${ms(median(startTimes))}`,
            ms(median(floorTimes)),
            `  ${(median(floorTimes) / save).toFixed(3)}`,
          ].join(' '),
        );
        if (n === SIZES[SIZES.length - 1]) readme.push(...(await readmeCommands(ns, dir, n, spawnTimed)));
      });
    }
    for (const line of readme) console.log(line);
    console.log(
      `load average at the end: ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
    console.log(
      'targets: parse+topo ratio <= 0.1, cli ratio <= 0.25, heap/dump <= 8x, time per rule flat across sizes',
    );
    console.log(
      `node floor: ${FLOOR} (start node, read the dump, one pass over its bytes, write the output's size; no parsing), the least any Node.js CLI pays`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
