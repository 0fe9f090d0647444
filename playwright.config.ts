import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from '@playwright/test';

// The UI is driven in Debian's Chromium against the loopback web host (Electron's binary cannot
// be downloaded on these machines). One worker: the lab is one shared cluster.
const PORT = 4517;
export const E2E_TOKEN = 'e2e-token-not-secret';

export default defineConfig({
  testDir: 'e2e/ui',
  workers: 1,
  timeout: 60_000,
  outputDir: 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    screenshot: 'on',
    trace: 'retain-on-failure',
    viewport: { width: 1360, height: 860 },
    // NPG_E2E_SCHEME=dark runs the same scenarios (and screenshots) in the dark theme.
    colorScheme: process.env.NPG_E2E_SCHEME === 'dark' ? 'dark' : 'light',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
      ],
    },
  },
  webServer: {
    command: `node dist/node/web-host.mjs --port ${PORT}`,
    url: `http://127.0.0.1:${PORT}/`,
    // Its own recent-workspaces list, not the user's.
    env: { NPG_WEB_TOKEN: E2E_TOKEN, NPG_CONFIG_DIR: join(tmpdir(), 'npg-e2e-config') },
    reuseExistingServer: false,
    timeout: 30_000,
  },
});
