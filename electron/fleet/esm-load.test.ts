import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

describe('loading under plain Node ESM', () => {
  // Vitest papers over CommonJS interop; the npg CLI bundle does not (it is ESM with node_modules
  // external), so a named import Node cannot see in ssh2 would only fail there. Load it for real.
  it('imports the fleet with Node ESM semantics', async () => {
    const script = `const m = await import(${JSON.stringify(join(here, 'index.ts'))}); console.log(typeof m.openFleet, typeof m.Fleet);`;
    const { stdout } = await exec(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: join(here, '..', '..'),
      },
    );
    expect(stdout.trim()).toBe('function function');
  }, 30_000);
});
