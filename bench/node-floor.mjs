// The least a Node.js `npg inspect --file DUMP --json` can cost on this machine, whatever its
// parser: start node, read the dump, look at every byte once (count the lines), write as many
// bytes as the real output has. `npm run bench` runs it beside the CLI, so the CLI's ratio can be
// read against what is left after this floor. Plain JavaScript on purpose: no tsx, no bundle.
import { readFileSync, writeSync } from 'node:fs';

const [file, size] = process.argv.slice(2);
if (file === undefined || !/^\d+$/.test(size ?? '')) {
  console.error('usage: node bench/node-floor.mjs DUMP OUTPUT_BYTES');
  process.exit(2);
}
const dump = readFileSync(file);
let lines = 0;
for (let i = 0; i < dump.length; i++) if (dump[i] === 10) lines++;
const out = Buffer.alloc(Number(size), 32);
for (let at = 0; at < out.length; ) at += writeSync(1, out, at);
if (lines === 0) process.exitCode = 1;
