// `npm run bench:ui`: the UI's speed targets (issue 10), measured in Debian's Chromium against the
// loopback web host, with the page's own clock:
//   1. the start page's first (contentful) paint and when its controls are there and usable;
//   2. file to list: a 5,000-NodePort dump (8.2 MB, bench/ui-bench-dump.ts) set into the file
//      input, from the input's change event to the first NodePort row in the DOM (and the frame
//      after it), with where the time went (reading + sending, the engine, decoding, rendering);
//   3. the filter, keystroke by keystroke: from the keydown to the frame after the last React
//      commit it caused (the list uses useDeferredValue: the typed character shows first, the
//      list follows), plus "echo", the keydown's Event Timing duration (input to next paint);
//   4. the diagram of a 100-endpoint NodePort: the diagram's own `npg-diagram:layout+paint`
//      measure, first open and a second (warm) open;
//   5. long tasks (PerformanceObserver 'longtask') during 2-4;
//   6. the same 1-3 on the commit before the UI work (b45f3fe), built in a temporary git worktree
//      and served by its own web host, alternating with ours run by run; ratios ours/baseline.
//      With NPG_UI_BENCH_BASE_DIR=DIR the baseline is instead a tree of this UI already built in
//      DIR (a copy of an earlier commit: `git archive REV | tar -x -C DIR`, node_modules linked,
//      `npm run build` there), measured like ours, diagram included, and no worktree is made.
// Options: NPG_UI_BENCH_RUNS (5); NPG_UI_BENCH_SKIP_FILTER=1 leaves out the keystrokes (3);
// NPG_UI_BENCH_TRACE=FILE writes a Chrome trace of ours' first diagram open in the first run.
// Plus the renderer bundle's size per asset (raw and gzip). It builds nothing unless dist/ is
// missing (it says when the sources are newer than dist/). A benchmark, not a test: it prints
// figures and whether each target is met, and fails only when it cannot measure.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type Browser, type BrowserContext, chromium, type Page } from '@playwright/test';
import { BIG_ENDPOINTS, BIG_NODEPORT, BIG_SERVICE, UI_SERVICES, uiBenchDump } from './ui-bench-dump.js';
import {
  ARM_CLICK,
  ARM_FILE,
  ARM_FILTER,
  ARM_KEY,
  DIAGRAM_DONE,
  INIT_SCRIPT,
  READ_DIAGRAM,
  READ_FILE,
  READ_START,
  SETTLE_KEY,
} from './ui-bench-page.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.NPG_UI_BENCH_RUNS ?? 5);
const PREBUILT_BASE = process.env.NPG_UI_BENCH_BASE_DIR;
const SKIP_FILTER = process.env.NPG_UI_BENCH_SKIP_FILTER === '1';
const TRACE_FILE = process.env.NPG_UI_BENCH_TRACE;
const BASE_COMMIT = PREBUILT_BASE ? `prebuilt ${PREBUILT_BASE}` : 'b45f3fe';
const BASE_DIR = '/tmp/npg-base';
const TOKEN = 'npg-ui-bench-token-not-secret';
const LAYOUT_MEASURE = 'npg-diagram:layout+paint';
const LAYOUT_ONLY_MEASURE = 'npg-diagram:layout';
const VIEWPORT = { width: 1360, height: 860 };
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
];

const TARGETS = { firstPaint: 1000, fileToList: 1000, keystroke: 50, diagram: 200, longTask: 50 };

/** The typed sequence: a port narrowing down, backspaces, a service name, then clearing it all. */
const KEYS: readonly { readonly key: string; readonly selectAll?: boolean }[] = [
  ...'3000'.split('').map((key) => ({ key })),
  ...Array.from({ length: 4 }, () => ({ key: 'Backspace' })),
  ...BIG_SERVICE.split('').map((key) => ({ key })),
  { key: 'Backspace', selectAll: true },
];
const keyLabels = (): string[] => {
  let text = '';
  return KEYS.map(({ key, selectAll }) => {
    if (selectAll) text = '';
    else text = key === 'Backspace' ? text.slice(0, -1) : text + key;
    return selectAll ? "'' (select all, Backspace)" : `'${text}'`;
  });
};

// ---------------------------------------------------------------------------------------------
// small helpers

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const max = (xs: readonly number[]): number => Math.max(...xs);
const fmt = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : `${Math.round(x).toLocaleString('en-US')} ms`;
const medMax = (xs: readonly number[]): string => (xs.length ? `${fmt(median(xs))} / ${fmt(max(xs))}` : '—');
const ratio = (a: number, b: number): string => (b > 0 ? (a / b).toFixed(2) : '—');
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface LongTask {
  readonly s: number;
  readonly d: number;
}
/** The longest long task that overlaps [from, to] (page clock), 0 when none. */
const longestIn = (lt: readonly LongTask[], from: number, to: number): number =>
  lt.filter((t) => t.s < to && t.s + t.d > from).reduce((m, t) => Math.max(m, t.d), 0);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function sh(cmd: string, args: string[], cwd: string): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 26 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

// ---------------------------------------------------------------------------------------------
// builds and hosts

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds only when dist/ is missing; says when the renderer's sources are newer than the build. */
function ensureBuilt(): string[] {
  const notes: string[] = [];
  const index = join(ROOT, 'dist/renderer/index.html');
  if (!existsSync(index) || !existsSync(join(ROOT, 'dist/node/web-host.mjs'))) {
    console.log('dist/ is missing: npm run build');
    const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('npm run build failed');
    notes.push('built dist/ (it was missing)');
  }
  const built = statSync(index).mtimeMs;
  const src = Math.max(newestMtime(join(ROOT, 'renderer/src')), newestMtime(join(ROOT, 'shared')));
  notes.push(`dist/renderer built ${new Date(built).toISOString()}`);
  if (src > built) {
    notes.push(
      `WARNING: renderer/ or shared/ has files newer than dist/renderer (${new Date(src).toISOString()}): these figures are of the last build, run npm run build to measure the sources`,
    );
  }
  return notes;
}

interface Host {
  readonly origin: string;
  /** Which UI it serves: this one, or the one before the UI work (token in the address, no diagram). */
  readonly ui: Kind;
  readonly proc: ChildProcess;
  close(): Promise<void>;
}

async function startHost(dir: string, label: string, ui: Kind): Promise<Host> {
  const port = await freePort();
  const config = mkdtempSync(join(tmpdir(), `npg-ui-bench-${label}-`));
  const proc = spawn(process.execPath, ['dist/node/web-host.mjs', '--port', String(port)], {
    cwd: dir,
    env: { ...process.env, NPG_WEB_TOKEN: TOKEN, NPG_CONFIG_DIR: config },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} web host did not start: ${output}`)), 30_000);
    const on = (d: Buffer) => {
      output += d.toString();
      if (/NodePort Guard/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout!.on('data', on);
    proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${label} web host exited (${code}): ${output}`));
    });
  });
  return {
    origin: `http://127.0.0.1:${port}`,
    ui,
    proc,
    close: async () => {
      if (proc.exitCode === null) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([gone, sleep(3000)]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      rmSync(config, { recursive: true, force: true });
    },
  };
}

/** Lockfile entries (path -> version) for comparing two trees' dependencies. */
function lockVersions(text: string): Map<string, string> {
  const lock = JSON.parse(text) as { packages?: Record<string, { version?: string }> };
  return new Map(
    Object.entries(lock.packages ?? {})
      .filter(([p]) => p !== '')
      .map(([p, v]) => [p, v.version ?? '']),
  );
}

/** The commit before the UI work in a temporary worktree, built; its node_modules from ours if the locks agree. */
function buildBaseline(): { dir?: string; notes: string[] } {
  const notes: string[] = [];
  sh('git', ['worktree', 'remove', '--force', BASE_DIR], ROOT);
  sh('git', ['worktree', 'prune'], ROOT);
  rmSync(BASE_DIR, { recursive: true, force: true });
  const add = sh('git', ['worktree', 'add', '--detach', BASE_DIR, BASE_COMMIT], ROOT);
  if (!add.ok) return { notes: [`baseline: git worktree add failed: ${add.out}`] };
  const ours = lockVersions(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  const theirs = lockVersions(readFileSync(join(BASE_DIR, 'package-lock.json'), 'utf8'));
  const differ = [...theirs].filter(([p, v]) => ours.get(p) !== v);
  if (differ.length === 0) {
    symlinkSync(join(ROOT, 'node_modules'), join(BASE_DIR, 'node_modules'));
    notes.push(
      `baseline ${BASE_COMMIT}: node_modules linked from ours (every locked package of it at the same version)`,
    );
  } else {
    notes.push(`baseline ${BASE_COMMIT}: ${differ.length} locked packages differ from ours: npm ci`);
    const ci = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: BASE_DIR, stdio: 'inherit' });
    if (ci.status !== 0) return { notes: [...notes, `baseline: npm ci failed in ${BASE_DIR}`] };
  }
  const t0 = performance.now();
  const build = spawnSync('npm', ['run', 'build'], { cwd: BASE_DIR, encoding: 'utf8' });
  if (build.status !== 0) {
    return {
      notes: [
        ...notes,
        `baseline: npm run build failed: ${`${build.stdout}${build.stderr}`.trim().split('\n').slice(-5).join(' | ')}`,
      ],
    };
  }
  notes.push(`baseline ${BASE_COMMIT}: built in ${((performance.now() - t0) / 1000) | 0} s`);
  return { dir: BASE_DIR, notes };
}

/** A tree of this UI built beforehand: nothing to make or remove, only checked. */
function prebuiltBaseline(dir: string): { dir?: string; notes: string[] } {
  const index = join(dir, 'dist/renderer/index.html');
  if (!existsSync(index) || !existsSync(join(dir, 'dist/node/web-host.mjs'))) {
    return { notes: [`baseline: ${dir} has no dist/ (run npm run build there)`] };
  }
  return { dir, notes: [`baseline: ${dir}, built ${new Date(statSync(index).mtimeMs).toISOString()}`] };
}

function removeBaseline(): void {
  const r = sh('git', ['worktree', 'remove', '--force', BASE_DIR], ROOT);
  if (!r.ok && existsSync(BASE_DIR)) console.warn(`could not remove the worktree ${BASE_DIR}: ${r.out}`);
  sh('git', ['worktree', 'prune'], ROOT);
}

interface Asset {
  readonly name: string;
  readonly raw: number;
  readonly gzip: number;
}

function bundleSizes(dir: string): Asset[] {
  const assets = join(dir, 'dist/renderer/assets');
  const files = [join(dir, 'dist/renderer/index.html'), ...readdirSync(assets).map((f) => join(assets, f))];
  return files
    .filter((f) => !f.endsWith('.map'))
    .map((f) => {
      const buf = readFileSync(f);
      return {
        name: relative(join(dir, 'dist/renderer'), f),
        raw: buf.length,
        gzip: gzipSync(buf, { level: 9 }).length,
      };
    })
    .sort((a, b) => b.raw - a.raw);
}

// ---------------------------------------------------------------------------------------------
// one run in one fresh browser context

type Kind = 'ours' | 'base';

interface StartFigures {
  fp: number | null;
  fcp: number | null;
  dcl: number | null;
  control: number | null;
  interactive: number | null;
  longest: number;
}

interface FileFigures {
  total: number;
  painted: number;
  readSend: number | null;
  engine: number | null;
  decode: number | null;
  render: number | null;
  sendMB: number | null;
  recvMB: number | null;
  rows: number | null;
  longest: number;
  /** The long tasks of the window, [start, duration], from the change event (raw figures only). */
  tasks: [number, number][];
  /** The auto-selected NodePort's diagram: change event -> its layout+paint measure's end. */
  autoDiagram: number | null;
  /** The longest task from the list painted to that diagram painted. */
  autoLongest: number | null;
}

interface KeyFigures {
  label: string;
  list: number | null;
  commit: number | null;
  echo: number | null;
  shown: number;
  commits: number;
  domChanged: boolean;
}

interface DiagramFigures {
  layoutPaint: number;
  layout: number | null;
  clickToPaint: number;
  attr: number | null;
  engine: string | null;
  nodes: number;
  longest: number;
}

interface RunFigures {
  start: StartFigures;
  file: FileFigures;
  keys: KeyFigures[];
  filterLongest: number;
  diagram?: { first: DiagramFigures; warm: DiagramFigures };
}

async function newPage(
  browser: Browser,
  host: Host,
  kind: Kind,
  label: string,
): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({ viewport: VIEWPORT });
  // Ours trades ?token= for a cookie with a redirect on the first visit: set the cookie up front,
  // so the timings are those of the page itself. The baseline reads the token from the address.
  if (kind === 'ours') {
    await ctx.addCookies([
      { name: 'npg_token', value: TOKEN, url: `${host.origin}/`, httpOnly: true, sameSite: 'Strict' },
    ]);
  }
  await ctx.addInitScript({ content: INIT_SCRIPT });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.log(`  [${label} page error] ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') console.log(`  [${label} console error] ${m.text()}`);
  });
  return { ctx, page };
}

/**
 * Waits until `expr` (page JavaScript) is true, polling from inside the page: the page's CSP
 * forbids eval, which Playwright's waitForFunction with a string needs.
 */
async function waitInPage(page: Page, expr: string, timeoutMs: number): Promise<void> {
  const ok = await page.evaluate(`new Promise((resolve) => {
    const until = performance.now() + ${timeoutMs};
    const poll = () => (${expr}) ? resolve(true) : performance.now() > until ? resolve(false) : setTimeout(poll, 20);
    poll();
  })`);
  if (!ok) throw new Error(`timed out after ${timeoutMs} ms waiting for ${expr}`);
}

async function measureStart(page: Page, host: Host, kind: Kind): Promise<StartFigures> {
  await page.goto(kind === 'ours' ? `${host.origin}/` : `${host.origin}/?token=${TOKEN}`);
  await waitInPage(page, 'window.__npg && window.__npg.seen.controlFrame !== undefined', 30_000);
  await sleep(1200); // a quiet moment, so that late long tasks are seen
  const s = (await page.evaluate(READ_START)) as {
    fp: number | null;
    fcp: number | null;
    dcl: number | null;
    control: number | null;
    controlFrame: number | null;
    lt: LongTask[];
  };
  // Interactive: the control is there and painted, the document's scripts ran, and no long task
  // starts within 500 ms of that (a light form of TTI's quiet window).
  let interactive = Math.max(s.controlFrame ?? 0, s.dcl ?? 0, s.fcp ?? 0);
  for (const t of [...s.lt].sort((a, b) => a.s - b.s)) {
    if (t.s < interactive + 500) interactive = Math.max(interactive, t.s + t.d);
  }
  return {
    fp: s.fp,
    fcp: s.fcp,
    dcl: s.dcl,
    control: s.controlFrame,
    interactive,
    longest: longestIn(s.lt, 0, interactive),
  };
}

async function measureFile(page: Page, kind: Kind, dumpPath: string): Promise<FileFigures> {
  if (kind === 'ours') await page.getByTestId('open-dump').click();
  const input = page.getByTestId('dump-file');
  await input.waitFor({ state: 'attached' });
  await page.evaluate(ARM_FILE);
  await input.setInputFiles(dumpPath);
  await waitInPage(page, 'window.__ftl.frame !== null', 180_000);
  const f = (await page.evaluate(READ_FILE)) as {
    t0: number;
    row: number;
    frame: number;
    send: { t: number; n: number } | null;
    recv: { t: number; done: number; n: number } | null;
    placeholder: string | null;
    summary: string | null;
    lt: LongTask[];
  };
  const rows = /Filter ([\d,]+) NodePorts/.exec(f.placeholder ?? '')?.[1];
  return {
    total: f.row - f.t0,
    painted: f.frame - f.t0,
    readSend: f.send ? f.send.t - f.t0 : null,
    engine: f.send && f.recv ? f.recv.t - f.send.t : null,
    decode: f.recv ? f.recv.done - f.recv.t : null,
    render: f.recv ? f.row - f.recv.done : null,
    sendMB: f.send ? f.send.n / 1e6 : null,
    recvMB: f.recv ? f.recv.n / 1e6 : null,
    rows: rows === undefined ? null : Number(rows.replace(/,/g, '')),
    longest: longestIn(f.lt, f.t0, f.frame),
    tasks: f.lt
      .filter((t) => t.s < f.frame && t.s + t.d > f.t0)
      .map((t) => [Math.round(t.s - f.t0), Math.round(t.d)]),
    autoDiagram: null,
    autoLongest: null,
  };
}

/** Waits for the page to settle (no new commit across idle callbacks). */
async function settle(page: Page): Promise<void> {
  await page.evaluate(ARM_KEY);
  await page.evaluate(SETTLE_KEY);
}

async function measureFilter(page: Page): Promise<{ keys: KeyFigures[]; longest: number }> {
  const input = page.locator('nav.np-list input').first();
  await input.click();
  await settle(page);
  await page.evaluate(ARM_FILTER);
  const labels = keyLabels();
  const keys: KeyFigures[] = [];
  let from = Number.POSITIVE_INFINITY;
  let to = 0;
  for (const [i, { key, selectAll }] of KEYS.entries()) {
    if (selectAll) {
      await page.keyboard.press('Control+A');
      await settle(page);
    }
    await page.evaluate(ARM_KEY);
    await page.keyboard.press(key);
    const r = (await page.evaluate(SETTLE_KEY)) as {
      start: number;
      commits: number;
      lastCommit: number | null;
      frame: number | null;
      muts: number;
      echo: number | null;
      shown: number;
      timedOut: boolean;
    };
    if (r.timedOut) console.log(`  keystroke ${labels[i]}: the page did not settle in 20 s`);
    from = Math.min(from, r.start);
    to = Math.max(to, r.frame ?? r.start);
    keys.push({
      label: labels[i]!,
      list: r.frame === null ? null : r.frame - r.start,
      commit: r.lastCommit === null ? null : r.lastCommit - r.start,
      echo: r.echo,
      shown: r.shown,
      commits: r.commits,
      domChanged: r.muts > 0,
    });
  }
  const lt = (await page.evaluate('window.__npg.lt.slice()')) as LongTask[];
  return { keys, longest: longestIn(lt, from, to) };
}

async function openDiagram(page: Page, port: number): Promise<DiagramFigures> {
  const row = page.getByTestId(`nodeport-tcp/${port}`);
  await row.waitFor({ state: 'visible' });
  await page.evaluate(ARM_CLICK);
  await row.click();
  await waitInPage(page, DIAGRAM_DONE(LAYOUT_MEASURE), 60_000);
  await sleep(100); // data-layout-ms follows the measure by one render
  const d = (await page.evaluate(READ_DIAGRAM(LAYOUT_MEASURE, LAYOUT_ONLY_MEASURE))) as {
    t0: number;
    layoutPaint: { s: number; d: number };
    layout: { s: number; d: number } | null;
    attr: number | null;
    engine: string | null;
    nodes: number;
    lt: LongTask[];
  };
  const end = d.layoutPaint.s + d.layoutPaint.d;
  return {
    layoutPaint: d.layoutPaint.d,
    layout: d.layout?.d ?? null,
    clickToPaint: end - d.t0,
    attr: d.attr,
    engine: d.engine,
    nodes: d.nodes,
    longest: longestIn(d.lt, d.t0, end),
  };
}

async function measureDiagram(
  page: Page,
  browser: Browser,
  trace?: string,
): Promise<{ first: DiagramFigures; warm: DiagramFigures }> {
  const filter = page.getByTestId('nodeport-filter');
  await filter.fill(String(BIG_NODEPORT).slice(0, -1)); // 2499x: the big one and its neighbours
  await settle(page);
  if (trace) await browser.startTracing(page, { path: trace, screenshots: false });
  const first = await openDiagram(page, BIG_NODEPORT);
  if (trace) {
    await browser.stopTracing();
    console.log(`  Chrome trace of the first diagram open: ${trace}`);
  }
  await settle(page);
  await openDiagram(page, BIG_NODEPORT - 1);
  await settle(page);
  const warm = await openDiagram(page, BIG_NODEPORT);
  return { first, warm };
}

/** The auto-selected NodePort's diagram after a load: when it was painted, the longest task on the way. */
async function autoDiagram(page: Page, file: FileFigures): Promise<void> {
  const a = (await page.evaluate(`(() => {
    const f = window.__ftl;
    const m = window.__npg.measures.find((x) => x.n === ${JSON.stringify(LAYOUT_MEASURE)} && x.s >= f.t0);
    return { t0: f.t0, frame: f.frame, end: m ? m.s + m.d : null, lt: window.__npg.lt.slice() };
  })()`)) as { t0: number; frame: number; end: number | null; lt: LongTask[] };
  if (a.end === null) return;
  file.autoDiagram = a.end - a.t0;
  file.autoLongest = longestIn(a.lt, a.frame, a.end);
}

async function oneRun(
  browser: Browser,
  host: Host,
  kind: Kind,
  dumpPath: string,
  trace?: string,
): Promise<RunFigures> {
  const ui = host.ui;
  const { ctx, page } = await newPage(browser, host, ui, kind);
  try {
    const start = await measureStart(page, host, ui);
    const file = await measureFile(page, ui, dumpPath);
    await settle(page);
    if (ui === 'ours') {
      await page.waitForSelector('.diagram[data-layout-ms]', { timeout: 60_000 }).catch(() => undefined);
      await autoDiagram(page, file);
    }
    await settle(page);
    const { keys, longest } = SKIP_FILTER ? { keys: [], longest: 0 } : await measureFilter(page);
    const diagram = ui === 'ours' ? await measureDiagram(page, browser, trace) : undefined;
    return { start, file, keys, filterLongest: longest, ...(diagram ? { diagram } : {}) };
  } finally {
    await ctx.close();
  }
}

// ---------------------------------------------------------------------------------------------
// report

function machine(): string {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'cpu';
  return `${model}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(w[i]!)).join(' | ')} |`;
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)].join('\n');
}

const met = (x: number, target: number): string => (x < target ? 'met' : 'MISSED');

function report(ours: RunFigures[], base: RunFigures[], baseNote: string | undefined): string {
  const out: string[] = [];
  const col = (runs: RunFigures[], f: (r: RunFigures) => number | null): number[] =>
    runs.map(f).filter((x): x is number => x !== null && Number.isFinite(x));
  const row = (label: string, f: (r: RunFigures) => number | null, target?: number): string[] => {
    const o = col(ours, f);
    const b = col(base, f);
    return [
      label,
      medMax(o),
      b.length ? medMax(b) : baseNote ? 'n/a' : '—',
      b.length && o.length ? ratio(median(o), median(b)) : '—',
      target === undefined
        ? ''
        : `< ${target} ms: ${o.length ? met(median(o), target) : '?'}${o.length && max(o) >= target && median(o) < target ? ' (max not)' : ''}`,
    ];
  };
  out.push(
    `runs: ${ours.length} ours, ${base.length} baseline (${BASE_COMMIT}); figures are median / max over runs`,
  );
  out.push(
    table(
      ['what', 'ours', `baseline ${BASE_COMMIT}`, 'ratio', 'target'],
      [
        row('start: first paint', (r) => r.start.fp),
        row('start: first contentful paint', (r) => r.start.fcp, TARGETS.firstPaint),
        row('start: first control painted', (r) => r.start.control),
        row('start: interactive (control, no long task after)', (r) => r.start.interactive),
        row('start: longest task', (r) => r.start.longest),
        row('file to list: change -> first row in DOM', (r) => r.file.total),
        row('file to list: change -> list painted (frame after)', (r) => r.file.painted, TARGETS.fileToList),
        row('  read file + send', (r) => r.file.readSend),
        row('  engine round trip (send -> reply)', (r) => r.file.engine),
        row('  decode reply (JSON.parse, checks)', (r) => r.file.decode),
        row('  render list (reply -> first row)', (r) => r.file.render),
        row('file to list: longest task', (r) => r.file.longest, TARGETS.longTask),
        row('auto-selected diagram: change -> painted', (r) => r.file.autoDiagram),
        row('  longest task, list painted -> diagram painted', (r) => r.file.autoLongest, TARGETS.longTask),
        row('filter: keystroke median (per run)', (r) =>
          median(col([r], () => null).concat(r.keys.map((k) => k.list ?? 0))),
        ),
        row('filter: keystroke max (per run)', (r) => max(r.keys.map((k) => k.list ?? 0)), TARGETS.keystroke),
        row('filter: echo max (keydown to next paint)', (r) => max(r.keys.map((k) => k.echo ?? 0))),
        row('filter: longest task', (r) => r.filterLongest, TARGETS.longTask),
        row(
          `diagram ${BIG_ENDPOINTS} endpoints, first open: layout+paint`,
          (r) => r.diagram?.first.layoutPaint ?? null,
          TARGETS.diagram,
        ),
        row('  of which layout (worker round trip)', (r) => r.diagram?.first.layout ?? null),
        row('  click -> painted', (r) => r.diagram?.first.clickToPaint ?? null),
        row('  longest task', (r) => r.diagram?.first.longest ?? null, TARGETS.longTask),
        row(
          `diagram ${BIG_ENDPOINTS} endpoints, second open: layout+paint`,
          (r) => r.diagram?.warm.layoutPaint ?? null,
          TARGETS.diagram,
        ),
        row('  click -> painted', (r) => r.diagram?.warm.clickToPaint ?? null),
        row('  longest task', (r) => r.diagram?.warm.longest ?? null, TARGETS.longTask),
      ],
    ),
  );
  const sizes = (runs: RunFigures[]) =>
    [
      ...new Set(
        runs.map(
          (r) =>
            `${r.file.sendMB?.toFixed(1)} MB sent, ${r.file.recvMB?.toFixed(1)} MB back, ${r.file.rows} rows`,
        ),
      ),
    ].join('; ');
  out.push(`dump exchange, ours: ${sizes(ours)}${base.length ? `; baseline: ${sizes(base)}` : ''}`);
  const d = ours[0]?.diagram;
  if (d)
    out.push(
      `diagram: ${d.first.nodes} nodes drawn, layout engine ${d.first.engine}, data-layout-ms ${ours.map((r) => r.diagram?.first.attr).join(', ')} (first) / ${ours.map((r) => r.diagram?.warm.attr).join(', ')} (second)`,
    );

  if (SKIP_FILTER) return out.join('\n');
  out.push('');
  out.push(
    'filter, keystroke by keystroke: keydown -> frame after the last React commit it caused (median / max over runs);',
  );
  out.push(
    '"echo" is the longest Event Timing duration of its keydown/input (to the next paint; entries under 16 ms are not reported: "<16")',
  );
  const labels = keyLabels();
  const keyRows = labels.map((label, i) => {
    const o = ours.map((r) => r.keys[i]!);
    const b = base.map((r) => r.keys[i]!);
    const l = (ks: KeyFigures[]) => ks.map((k) => k.list).filter((x): x is number => x !== null);
    const e = (ks: KeyFigures[]) =>
      ks.length ? (ks.some((k) => k.echo !== null) ? fmt(max(ks.map((k) => k.echo ?? 0))) : '<16') : '—';
    return [
      label,
      String(o[0]?.shown ?? ''),
      medMax(l(o)),
      e(o),
      `${o[0]?.commits ?? ''}${o.every((k) => k.domChanged) ? '' : o.some((k) => k.domChanged) ? ' (DOM sometimes)' : ' (no DOM change)'}`,
      b.length ? medMax(l(b)) : '—',
      e(b),
      b.length && l(o).length && l(b).length ? ratio(median(l(o)), median(l(b))) : '—',
    ];
  });
  out.push(
    table(
      [
        'text after the key',
        'rows',
        'ours list',
        'ours echo',
        'commits',
        'baseline list',
        'baseline echo',
        'ratio',
      ],
      keyRows,
    ),
  );
  const allO = ours.flatMap((r) => r.keys.map((k) => k.list ?? 0));
  const allB = base.flatMap((r) => r.keys.map((k) => k.list ?? 0));
  out.push(
    `all keystrokes: ours median ${fmt(median(allO))}, max ${fmt(max(allO))}, ${allO.filter((x) => x >= TARGETS.keystroke).length} of ${allO.length} >= ${TARGETS.keystroke} ms` +
      (allB.length
        ? `; baseline median ${fmt(median(allB))}, max ${fmt(max(allB))}; ratio of medians ${ratio(median(allO), median(allB))}`
        : ''),
  );
  return out.join('\n');
}

function sizeReport(label: string, assets: Asset[]): string {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const total = assets.reduce((a, x) => ({ raw: a.raw + x.raw, gzip: a.gzip + x.gzip }), { raw: 0, gzip: 0 });
  return [
    `renderer bundle, ${label} (dist/renderer, no .map; gzip -9):`,
    table(
      ['asset', 'raw', 'gzip'],
      [...assets.map((a) => [a.name, kb(a.raw), kb(a.gzip)]), ['total', kb(total.raw), kb(total.gzip)]],
    ),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  console.log(`npm run bench:ui, ${new Date().toISOString()}`);
  console.log(`machine: ${machine()}`);
  console.log(`load average at the start: ${load()}`);
  const head = sh('git', ['rev-parse', '--short', 'HEAD'], ROOT).out;
  const dirty = sh('git', ['status', '--porcelain'], ROOT).out.split('\n').filter(Boolean).length;
  console.log(`commit ${head}${dirty ? ` (${dirty} files changed in the tree)` : ''}`);
  for (const n of ensureBuilt()) console.log(n);
  // Other work may rebuild dist/ while this runs: say so, since the runs would then mix builds.
  const builtIndex = (): string => readFileSync(join(ROOT, 'dist/renderer/index.html'), 'utf8');
  const indexAtStart = builtIndex();

  const work = mkdtempSync(join(tmpdir(), 'npg-ui-bench-'));
  const hosts: Host[] = [];
  let browser: Browser | undefined;
  let baseDir: string | undefined;
  let baseNote: string | undefined;
  try {
    const t0 = performance.now();
    const dump = await uiBenchDump();
    const dumpPath = join(work, `node1-${UI_SERVICES}.iptables-save.txt`);
    writeFileSync(dumpPath, dump.text);
    console.log(
      `dump: ${UI_SERVICES.toLocaleString('en-US')} NodePort services (x3 endpoints; ${BIG_NODEPORT}/tcp ${BIG_SERVICE}: ${BIG_ENDPOINTS}), ${(dump.text.length / 1e6).toFixed(1)} MB, ${dump.text.split('\n').length.toLocaleString('en-US')} lines: ${dump.source} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );

    const baseline = PREBUILT_BASE ? prebuiltBaseline(PREBUILT_BASE) : buildBaseline();
    for (const n of baseline.notes) console.log(n);
    baseDir = baseline.dir;
    if (!baseDir) baseNote = baseline.notes[baseline.notes.length - 1];

    const ours = await startHost(ROOT, 'ours', 'ours');
    hosts.push(ours);
    const base = baseDir ? await startHost(baseDir, 'base', PREBUILT_BASE ? 'ours' : 'base') : undefined;
    if (base) hosts.push(base);

    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
    });
    console.log(
      `browser: Chromium ${browser.version()} (headless), viewport ${VIEWPORT.width}x${VIEWPORT.height}`,
    );

    // One untimed warm-up each: the first page of a fresh browser pays for the browser's own start.
    console.log('warm-up run (not counted)…');
    await oneRun(browser, ours, 'ours', dumpPath);
    if (base) await oneRun(browser, base, 'base', dumpPath);

    const oursRuns: RunFigures[] = [];
    const baseRuns: RunFigures[] = [];
    for (let i = 0; i < RUNS; i++) {
      const o = await oneRun(browser, ours, 'ours', dumpPath, i === 0 ? TRACE_FILE : undefined);
      oursRuns.push(o);
      const b = base ? await oneRun(browser, base, 'base', dumpPath) : undefined;
      if (b) baseRuns.push(b);
      const keys = (r: RunFigures) =>
        `keys median ${fmt(median(r.keys.map((k) => k.list ?? 0)))} max ${fmt(max(r.keys.map((k) => k.list ?? 0)))}`;
      console.log(
        `run ${i + 1}/${RUNS} (load ${load()}): ours FCP ${fmt(o.start.fcp)}, file->list ${fmt(o.file.painted)}, ${keys(o)}, diagram ${fmt(o.diagram?.first.layoutPaint)} / ${fmt(o.diagram?.warm.layoutPaint)}` +
          (b
            ? `; baseline FCP ${fmt(b.start.fcp)}, file->list ${fmt(b.file.painted)}, ${keys(b)}${b.diagram ? `, diagram ${fmt(b.diagram.first.layoutPaint)} / ${fmt(b.diagram.warm.layoutPaint)}` : ''}`
            : ''),
      );
    }

    console.log('');
    console.log(report(oursRuns, baseRuns, baseNote));
    if (baseNote) console.log(`BASELINE NOT MEASURED: ${baseNote}`);
    console.log('');
    console.log(sizeReport(`ours (${head})`, bundleSizes(ROOT)));
    if (baseDir) console.log(sizeReport(`baseline ${BASE_COMMIT}`, bundleSizes(baseDir)));
    const raw = join(tmpdir(), `npg-ui-bench-${Date.now()}.json`);
    writeFileSync(raw, JSON.stringify({ ours: oursRuns, base: baseRuns }, null, 1));
    console.log(`\nevery figure of every run: ${raw}`);
    if (builtIndex() !== indexAtStart) {
      console.log(
        'WARNING: dist/renderer was rebuilt during the run (by other work): later runs measured another build',
      );
    }
    console.log(`load average at the end: ${load()}`);
    console.log(
      `targets: file to list < ${TARGETS.fileToList} ms, every keystroke < ${TARGETS.keystroke} ms, diagram of ${BIG_ENDPOINTS} endpoints layout+paint < ${TARGETS.diagram} ms, first paint < ${TARGETS.firstPaint} ms, no main-thread task > ${TARGETS.longTask} ms`,
    );
  } finally {
    await browser?.close();
    for (const h of hosts) await h.close();
    if (!PREBUILT_BASE && existsSync(BASE_DIR)) removeBaseline();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
