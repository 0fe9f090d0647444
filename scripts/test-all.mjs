// `npm test`: every check and every suite, in order, with one summed closing line.
//   lint + typecheck -> unit tests (vitest) -> lab tests (vitest, root + lab) -> e2e (Playwright)
// The lab suites need root: as root they run against the lab in each kube-proxy mode (dual-stack),
// which is brought up as needed and taken down afterwards unless it was already up; as another user
// they are reported as skipped, loudly.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const tmp = mkdtempSync(join(tmpdir(), 'npg-test-'));
const totals = { passed: 0, failed: 0, skipped: 0 };
const failures = [];

function run(label, cmd, args, env = {}) {
  console.log(`\n=== ${label}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

function step(label, cmd, args) {
  const code = run(label, cmd, args);
  if (code === 0) totals.passed += 1;
  else {
    totals.failed += 1;
    failures.push(label);
  }
}

function vitest(project, label = '') {
  const name = label ? `${project} (${label})` : project;
  const out = join(tmp, `vitest-${project}${label}.json`);
  const code = run(`vitest ${name}`, 'npx', [
    'vitest',
    'run',
    '--project',
    project,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${out}`,
  ]);
  if (!existsSync(out)) {
    totals.failed += 1;
    failures.push(`vitest ${name} (no report, exit ${code})`);
    return;
  }
  const r = JSON.parse(readFileSync(out, 'utf8'));
  totals.passed += r.numPassedTests;
  totals.failed += r.numFailedTests;
  totals.skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  // A suite that fails to load counts no test but must still fail the run.
  if (code !== 0 && r.numFailedTests === 0) {
    totals.failed += 1;
    failures.push(`vitest ${name} (exit ${code})`);
  } else if (r.numFailedTests > 0) failures.push(`vitest ${name}`);
}

function playwright() {
  const out = join(tmp, 'playwright.json');
  const code = run('playwright e2e', 'npx', ['playwright', 'test', '--reporter=list,json'], {
    PLAYWRIGHT_JSON_OUTPUT_NAME: out,
  });
  if (!existsSync(out)) {
    totals.failed += 1;
    failures.push(`playwright (no report, exit ${code})`);
    return;
  }
  const s = JSON.parse(readFileSync(out, 'utf8')).stats;
  totals.passed += s.expected + (s.flaky ?? 0);
  totals.failed += s.unexpected;
  totals.skipped += s.skipped;
  if (code !== 0 && s.unexpected === 0) {
    totals.failed += 1;
    failures.push(`playwright (exit ${code})`);
  } else if (s.unexpected > 0) failures.push('playwright');
}

step('lint', 'npx', ['biome', 'check', '.']);
step('typecheck', 'npm', ['run', '--silent', 'typecheck']);
step('build', 'npm', ['run', '--silent', 'build']);
vitest('unit');

// The lab suites run once per kube-proxy mode the guard must work with, all dual-stack: iptables
// mode first (the Playwright UI tests run then too), then ipvs, then nftables (the nft guard).
// NPG_LAB_MODES=iptables runs only the first pass.
const LAB_PASSES = (process.env.NPG_LAB_MODES ?? 'iptables,ipvs,nftables').split(',').filter(Boolean);

function labStatus() {
  const r = spawnSync('npx', ['tsx', 'e2e/lab/cli.ts', 'status', '--json'], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  try {
    return JSON.parse(r.stdout);
  } catch {
    return undefined;
  }
}

const isRoot = process.getuid?.() === 0;
if (!isRoot) {
  console.log(
    '\n=== lab tests SKIPPED: they need root (network namespaces, netfilter, sshd). Run `sudo npm test`.',
  );
} else {
  const wasUp = labStatus() !== undefined;
  for (const [i, mode] of LAB_PASSES.entries()) {
    // lab:up is idempotent: it keeps a lab that already has these options and rebuilds otherwise.
    if (
      run(`lab:up (${mode}, dual-stack)`, 'npx', [
        'tsx',
        'e2e/lab/cli.ts',
        'up',
        '--mode',
        mode,
        '--ipv6',
      ]) !== 0
    ) {
      totals.failed += 1;
      failures.push(`lab:up ${mode}`);
      continue;
    }
    vitest('lab', mode);
    if (i === 0) playwright();
  }
  if (!wasUp) run('lab:down', 'npx', ['tsx', 'e2e/lab/cli.ts', 'down']);
}

rmSync(tmp, { recursive: true, force: true });
console.log(`\n${failures.length ? `FAILED: ${failures.join(', ')}` : 'all suites green'}`);
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 ? 1 : 0);
