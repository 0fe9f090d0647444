// `npm start`: build, then open the desktop app. Electron fetches its binary on first launch
// (npm ci runs no install scripts here); where it cannot be had, say so in one line and serve the
// same UI from the loopback web host instead.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 2);

const electronDir = dirname(require.resolve('electron/package.json'));
function electronBinary() {
  const pathTxt = join(electronDir, 'path.txt');
  if (!existsSync(pathTxt)) return undefined;
  const bin = join(electronDir, 'dist', readFileSync(pathTxt, 'utf8').trim());
  return existsSync(bin) ? bin : undefined;
}

let bin = electronBinary();
if (!bin) {
  spawnSync(process.execPath, [join(electronDir, 'install.js')], { stdio: 'ignore', timeout: 120_000 });
  bin = electronBinary();
}
if (bin && (process.env.DISPLAY || process.env.WAYLAND_DISPLAY || process.platform !== 'linux')) {
  // `npm start -- --workspace FILE` opens that workspace in the window (electron/shell/start-workspace.ts).
  const child = spawn(bin, ['.', ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log(
    bin
      ? 'npm start: no display to open the Electron window on; serving the same UI in your browser instead.'
      : 'npm start: the Electron binary could not be downloaded on this machine; serving the same UI in your browser instead (npm run web).',
  );
  const child = spawn(process.execPath, ['dist/node/web-host.mjs', ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  child.on('exit', (code) => process.exit(code ?? 0));
}
