// Opens the real Electron window where the Electron binary exists (it downloads on first
// `npm start`). On machines where it cannot be downloaded, or with no display, the test is
// skipped and says exactly why, so a green run never hides that the shell went untested.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { _electron as electron } from '@playwright/test';
import { describe, expect, it } from 'vitest';
import { apiMethods } from '../shared/api.js';

const require = createRequire(import.meta.url);

function electronBinary(): string | undefined {
  const dir = dirname(require.resolve('electron/package.json'));
  const pathTxt = join(dir, 'path.txt');
  if (!existsSync(pathTxt)) return undefined;
  const bin = join(dir, 'dist', readFileSync(pathTxt, 'utf8').trim());
  return existsSync(bin) ? bin : undefined;
}

const bin = electronBinary();
const display = process.env.DISPLAY ?? process.env.WAYLAND_DISPLAY;
const why = !bin
  ? 'SKIPPED: the Electron binary is not downloaded on this machine (npm start fetches it on first launch)'
  : !display
    ? 'SKIPPED: no display (run under xvfb-run to test the window)'
    : undefined;
if (why) console.log(`electron launch test ${why}`);

describe('Electron shell', () => {
  it.skipIf(why !== undefined)(`opens the NodePort Guard window${why ? ` (${why})` : ''}`, async () => {
    const app = await electron.launch({ executablePath: bin!, args: ['.'], timeout: 30_000 });
    try {
      const win = await app.firstWindow();
      await expect.poll(() => win.title()).toBe('NodePort Guard');
      // The preload exposes named API functions, cancel and the menu subscription, and nothing else.
      const exposed = await win.evaluate(() =>
        Object.keys((globalThis as unknown as { npg: object }).npg).sort(),
      );
      expect(exposed).toEqual([...apiMethods, 'cancel', 'onMenu'].sort());
    } finally {
      await app.close();
    }
  });
});
