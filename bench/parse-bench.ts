// `npm run bench [-- --sizes 1000,5000] [--baseline REV]`: how fast is reading a big node, on the
// one path every caller takes (parseIptablesSave, then analyzeTopology)? Generates kube-proxy-shaped
// rules (N NodePort services x 3 endpoints), loads them into a throwaway network namespace and
// saves four shapes of the same node there with the real iptables-save: the plain nat table, the
// same node guarded by us (NPG chains in front of 50 NodePorts), every table (`iptables-save -c`,
// the README's command) and the IPv6 twin (ip6tables-save). Needs root.
//
// Baselines, in the same run: iptables-save itself; the node floor (bench/node-floor.mjs: start
// node, read the dump, one pass over it, write as many bytes as the output; what any Node.js CLI
// pays); and a build of the baseline revision (default: main before the readers were folded
// into one, when a plain dump took a separate quick path), in process and as a CLI.
// In process, the shapes are timed round-robin (the same JIT state and load for each); the CLI
// runs shape by shape, alternated with the floor and the baseline's CLI.
// Targets (issue 12): the plain dump no slower than the baseline's quick path; the CLI within 3x
// the node floor; the guarded, whole and IPv6 shapes each within 1.2x the plain dump; peak heap
// <= 4x the dump for every shape.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { generateKubeProxyRules, syntheticServices } from '../e2e/lab/kube-proxy/index.js';
import { run } from '../e2e/lab/sys/exec.js';
import { withTempNetns } from '../e2e/lab/sys/netns.js';
// @ts-expect-error: the build script is plain JavaScript without type declarations.
import { buildNode } from '../scripts/build-node.mjs';
import { analyzeTopology, toInspectJson } from '../shared/kube/index.js';
import { findTable, parseIptablesSave } from '../shared/netfilter/index.js';
import { COMMENTS, type Family } from '../shared/vocabulary.js';

/** main just before issue 12 folded the quick path (nat-scan + compact walk) into the one reader. */
const DEFAULT_BASELINE = '568bd8c';
const CLI = 'dist/node/npg.mjs';
const FLOOR = 'bench/node-floor.mjs';
const ENDPOINTS = 3;
const GUARDED_PORTS = 50;
const REPEAT_CLI = 5;
const REPEAT_IN_PROCESS = 9;

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number): string => `${x.toFixed(0).padStart(5)} ms`;
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;

/** Wall time, and CPU time (the process's: the collector's helper threads included), in ms. */
function timeIt(fn: () => unknown): { wall: number; cpu: number } {
  collect();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

function spawnTimed(args: readonly string[]): number {
  collect();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const t = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${r.stderr}`);
  return t;
}

interface Shape {
  readonly name: string;
  readonly path: string;
  readonly text: string;
}

/** The one path, as `npg inspect --file X --json` runs it after reading the file. */
function onePath(text: string): number {
  const r = parseIptablesSave(text);
  if (!r.ok) throw new Error(`parse failed: line ${r.error.line}: ${r.error.message}`);
  const nat = findTable(r.ruleset, 'nat');
  if (!nat) throw new Error('no nat table');
  const filter = findTable(r.ruleset, 'filter');
  const topology = analyzeTopology({ nat, ...(filter ? { filter } : {}), backend: r.ruleset.backend });
  return JSON.stringify(toInspectJson(topology)).length;
}

/** Peak JS heap + array buffers of the one path in a fresh process, over the dump's size. */
function peakHeap(path: string): number {
  const here = pathToFileURL(resolve('.')).href;
  const script = `
    import { readFileSync } from 'node:fs';
    const { parseIptablesSave, findTable } = await import('${here}/shared/netfilter/index.ts');
    const { analyzeTopology, toInspectJson } = await import('${here}/shared/kube/index.ts');
    const text = readFileSync(${JSON.stringify(path)}, 'utf8');
    const used = () => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
    globalThis.gc(); const h0 = used(); let peak = 0;
    const sample = () => { peak = Math.max(peak, used() - h0); };
    const r = parseIptablesSave(text); sample();
    const nat = findTable(r.ruleset, 'nat'); const filter = findTable(r.ruleset, 'filter');
    const topo = analyzeTopology({ nat, ...(filter ? { filter } : {}) }); sample();
    const json = JSON.stringify(toInspectJson(topo)); sample();
    console.log(JSON.stringify({ peak, n: json.length }));`;
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`heap probe failed: ${r.stderr}`);
  return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { peak: number }).peak;
}

/** The baseline revision's tree, built, beside ours: its CLI and its in-process quick path. */
async function prepareBaseline(
  rev: string,
  dir: string,
): Promise<{ cli: string; quick?: (t: string) => number }> {
  const base = join(dir, 'baseline');
  mkdirSync(base);
  const archive = execFileSync('git', ['archive', rev], { maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', base], { input: archive });
  symlinkSync(resolve('node_modules'), join(base, 'node_modules'));
  execFileSync(
    process.execPath,
    ['-e', "import('./scripts/build-node.mjs').then((m) => m.buildNode({ only: 'cli' }))"],
    {
      cwd: base,
    },
  );
  let quick: ((t: string) => number) | undefined;
  try {
    const scan = (await import(pathToFileURL(join(base, 'shared/netfilter/nat-scan.ts')).href)) as {
      scanNatDump(t: string): unknown;
    };
    const walk = (await import(pathToFileURL(join(base, 'shared/kube/compact-topology.ts')).href)) as {
      compactInspectBytes(s: unknown): Uint8Array;
    };
    quick = (t) => {
      const s = scan.scanNatDump(t);
      if (!s) throw new Error('the baseline quick path did not take the dump');
      return walk.compactInspectBytes(s).length;
    };
  } catch {
    // A baseline without the quick path: its CLI is still compared.
  }
  return { cli: join(base, CLI), ...(quick ? { quick } : {}) };
}

/** Our guard in front of `ports` (what apply installs), in iptables-restore --noflush form. */
function guardRules(family: Family, ports: readonly number[]): string {
  const allow = family === 'ipv4' ? '198.18.200.0/24' : '2001:2:0:c8::/64';
  const lines = ['*nat', ':NPG-PREROUTING - [0:0]'];
  for (const p of ports) lines.push(`:NPG-TCP-${p} - [0:0]`);
  lines.push(`-I PREROUTING 1 -m comment --comment "${COMMENTS.entry}" -j NPG-PREROUTING`);
  for (const p of ports) {
    lines.push(
      `-A NPG-PREROUTING -p tcp -m tcp --dport ${p} -m addrtype --dst-type LOCAL -m comment --comment "${COMMENTS.dispatch('tcp', p, undefined)}" -j NPG-TCP-${p}`,
      `-A NPG-TCP-${p} -s ${allow} -m comment --comment "${COMMENTS.allow('office')}" -j RETURN`,
      `-A NPG-TCP-${p} -p tcp -m comment --comment "${COMMENTS.block}" -j REDIRECT --to-ports 65535`,
    );
  }
  return `${lines.join('\n')}\nCOMMIT\n`;
}

async function saveShapes(n: number, dir: string): Promise<{ save: number; shapes: Shape[] }> {
  const shapes: Shape[] = [];
  let save = 0;
  for (const family of ['ipv4', 'ipv6'] as const) {
    const v4 = family === 'ipv4';
    const rules = generateKubeProxyRules({
      mode: 'iptables',
      family,
      services: syntheticServices(n, ENDPOINTS, { family }),
      nodeName: 'node1',
      nodeIp: v4 ? '198.18.0.11' : '2001:2::11',
      clusterCidr: v4 ? '198.19.0.0/16' : '2001:2:1::/64',
    });
    const tool = v4 ? 'iptables' : 'ip6tables';
    await withTempNetns(`npgbench-${family}-${n}`, async (ns) => {
      for (const t of ['mangle', 'filter', 'nat'] as const) {
        await run([`${tool}-restore`, '-w'], { netns: ns, input: rules[t], timeoutMs: 120_000 });
      }
      const saveNat = () => run([`${tool}-save`, '-c', '-t', 'nat'], { netns: ns, timeoutMs: 120_000 });
      const keep = (name: string, text: string): void => {
        const path = join(dir, `${name}-${n}.txt`);
        writeFileSync(path, text);
        shapes.push({ name, path, text });
      };
      if (v4) {
        const times: number[] = [];
        let plain = '';
        for (let i = 0; i < REPEAT_CLI; i++) {
          const t0 = performance.now();
          plain = await saveNat();
          times.push(performance.now() - t0);
        }
        save = median(times);
        keep('plain', plain);
        keep('whole', await run([`${tool}-save`, '-c'], { netns: ns, timeoutMs: 120_000 }));
        const ports = [...plain.matchAll(/-A KUBE-NODEPORTS .*?--dport (\d+)/g)]
          .slice(0, GUARDED_PORTS)
          .map((m) => Number(m[1]));
        await run([`${tool}-restore`, '-w', '--noflush'], { netns: ns, input: guardRules(family, ports) });
        keep('guarded', await saveNat());
      } else {
        keep('ipv6', await saveNat());
      }
    });
  }
  return { save, shapes };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('npm run bench: needs root (it loads the rules into a network namespace)');
    process.exit(2);
  }
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const sizes = (opt('--sizes') ?? '5000').split(',').map(Number);
  if (sizes.some((s) => !Number.isInteger(s) || s < 1 || s > 5000)) {
    console.error('npm run bench: --sizes takes service counts from 1 to 5000, e.g. 1000,5000');
    process.exit(2);
  }
  const rev = opt('--baseline') ?? DEFAULT_BASELINE;
  const dir = mkdtempSync(join(tmpdir(), 'npg-bench-'));
  try {
    await buildNode({ only: 'cli' });
    const baseline = await prepareBaseline(rev, dir);
    console.log(
      `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`,
    );
    console.log(
      `load average at the start: ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
    console.log(
      `baseline: ${rev} (in process: ${baseline.quick ? 'its quick path' : 'none'}; CLI: its npg inspect)`,
    );
    for (const n of sizes) {
      const { save, shapes } = await saveShapes(n, dir);
      console.log(`\n${n} services, iptables-save -t nat ${ms(save)}`);
      console.log(
        'shape      dump MB  one path   vs plain  baseline in-process  ours/base  | cli      floor    cli/floor  baseline cli  ours/base | peak heap/dump',
      );
      // In process, round-robin over the shapes (and the baseline's quick path after the plain
      // dump): every shape sees the same JIT state and the same load. Measured shape by shape, the
      // plain dump (first) paid for warming up what the later shapes then reused.
      for (let i = 0; i < 2; i++) {
        for (const shape of shapes) {
          onePath(shape.text);
          if (shape.name === 'plain') baseline.quick?.(shape.text);
        }
      }
      const ours = new Map<string, number[]>(shapes.map((shape) => [shape.name, []]));
      const oursCpu = new Map<string, number[]>(shapes.map((shape) => [shape.name, []]));
      const base: number[] = [];
      const baseCpu: number[] = [];
      for (let i = 0; i < REPEAT_IN_PROCESS; i++) {
        for (const shape of shapes) {
          const t = timeIt(() => onePath(shape.text));
          ours.get(shape.name)!.push(t.wall);
          oursCpu.get(shape.name)!.push(t.cpu);
          if (baseline.quick && shape.name === 'plain') {
            const b = timeIt(() => baseline.quick!(shape.text));
            base.push(b.wall);
            baseCpu.push(b.cpu);
          }
        }
      }
      const plainOne = median(ours.get('plain')!);
      for (const shape of shapes) {
        const printed = spawnSync(process.execPath, [CLI, 'inspect', '--file', shape.path, '--json'], {
          maxBuffer: 1 << 30,
        });
        if (printed.status !== 0) throw new Error(`npg inspect ${shape.name} failed: ${printed.stderr}`);
        const cli: number[] = [];
        const floor: number[] = [];
        const baseCli: number[] = [];
        // Alternated, so that all three see the same load.
        for (let i = 0; i < REPEAT_CLI; i++) {
          floor.push(spawnTimed([FLOOR, shape.path, String(printed.stdout.length)]));
          cli.push(spawnTimed([CLI, 'inspect', '--file', shape.path, '--json']));
          baseCli.push(spawnTimed([baseline.cli, 'inspect', '--file', shape.path, '--json']));
        }
        const one = median(ours.get(shape.name)!);
        const heap = peakHeap(shape.path);
        console.log(
          [
            shape.name.padEnd(9),
            (shape.text.length / 1e6).toFixed(1).padStart(7),
            ` ${ms(one)}`,
            `  ${ratio(one, plainOne).padStart(6)}`,
            base.length && shape.name === 'plain'
              ? `  ${ms(median(base))}           `
              : '  -                  ',
            base.length && shape.name === 'plain' ? ratio(one, median(base)).padStart(8) : '       -',
            `   | ${ms(median(cli))}`,
            ms(median(floor)),
            ratio(median(cli), median(floor)).padStart(8),
            `   ${ms(median(baseCli))}`,
            ratio(median(cli), median(baseCli)).padStart(10),
            `  | ${(heap / shape.text.length).toFixed(1)}x`,
          ].join(' '),
        );
      }
      // CPU time of the same in-process runs (the process's, the collector's threads included): the
      // load of other processes on the machine inflates it less than wall time.
      const plainCpu = median(oursCpu.get('plain')!);
      console.log(
        `in process, CPU time: ${shapes
          .map((shape) => {
            const cpu = median(oursCpu.get(shape.name)!);
            return `${shape.name} ${ms(cpu).trim()} (${ratio(cpu, plainCpu)} plain)`;
          })
          .join(
            ', ',
          )}${baseCpu.length ? `; baseline quick path ${ms(median(baseCpu)).trim()}, plain/base ${ratio(plainCpu, median(baseCpu))}` : ''}`,
      );
    }
    console.log(
      `\nload average at the end: ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
    console.log(
      'targets: plain one path <= baseline quick path (ours/base <= 1.00); cli/floor <= 3; guarded, whole, ipv6 <= 1.2x plain; peak heap <= 4x the dump',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
