// Builds the Node-side entry points with esbuild: the `npg` CLI, the web host, and the Electron
// main + preload. esbuild rather than tsc emit or electron-vite: one fast tool (~100 ms) that
// bundles our TypeScript (and, for the CLI, its pure-JS dependencies), so `npx npg` can rebuild on demand
// (npm ci runs no install scripts here; see .npmrc) and start-up stays cheap.

import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
};

export async function buildNode({ only } = {}) {
  const jobs = [];
  if (!only || only === 'cli') {
    jobs.push(
      build({
        ...common,
        entryPoints: { npg: 'electron/cli/npg.ts', 'web-host': 'electron/host/web-main.ts' },
        outdir: 'dist/node',
        format: 'esm',
        outExtension: { '.js': '.mjs' },
        // One chunk per dynamic import: `npg inspect` loads only the modules it runs (npg.ts).
        splitting: true,
        chunkNames: 'chunks/[name]-[hash]',
        // Pure-JS dependencies are bundled: resolving and loading zod's or yaml's hundreds of
        // files cost more start-up than all our code. ssh2 (optional native parts) and ws stay
        // external; ssh2 is loaded only when a command connects.
        packages: undefined,
        external: ['ssh2', 'ws', 'electron'],
        banner: {
          js: "import { createRequire as __npgCreateRequire } from 'node:module'; const require = __npgCreateRequire(import.meta.url);",
        },
      }),
    );
  }
  if (!only || only === 'electron') {
    const electronCommon = {
      ...common,
      outdir: 'dist/electron',
      format: 'cjs',
      outExtension: { '.js': '.cjs' },
    };
    jobs.push(
      build({ ...electronCommon, entryPoints: { main: 'electron/main.ts' }, external: ['electron'] }),
    );
    // The engine's thread (worker_threads), started by main: parsing and node reads run there.
    jobs.push(
      build({ ...electronCommon, entryPoints: { 'engine-worker': 'electron/host/engine-worker.ts' } }),
    );
    // A sandboxed preload can require nothing but `electron`: bundle everything else into it.
    jobs.push(
      build({
        ...electronCommon,
        packages: undefined,
        entryPoints: { preload: 'electron/preload.ts' },
        external: ['electron'],
      }),
    );
  }
  await Promise.all(jobs);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildNode({ only: process.argv[2] });
}
