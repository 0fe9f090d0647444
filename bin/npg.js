#!/usr/bin/env node
// `npg` launcher. npm ci runs no install scripts here (.npmrc ignore-scripts), so the CLI bundle is
// built on first use and again whenever a source file is newer than it; then it is imported.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bundle = join(root, 'dist/node/npg.mjs');

function newestSource() {
  let newest = 0;
  for (const dir of ['shared', 'electron']) {
    for (const entry of readdirSync(join(root, dir), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && /\.tsx?$/.test(entry.name)) {
        newest = Math.max(newest, statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
      }
    }
  }
  return newest;
}

const stale =
  !existsSync(bundle) || (existsSync(join(root, 'electron')) && newestSource() > statSync(bundle).mtimeMs);
if (stale) {
  const { buildNode } = await import(pathToFileURL(join(root, 'scripts/build-node.mjs')).href);
  await buildNode({ only: 'cli' });
}
await import(pathToFileURL(bundle).href);
