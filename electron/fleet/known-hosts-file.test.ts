import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatKnownHostsLine } from './known-hosts';
import { appendKnownHostsLine, readKnownHostsFile } from './known-hosts-file';
import { makeKeyPair } from './test-support/keys';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'npg-khf-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('known_hosts file', () => {
  it('treats a missing file as empty and creates it 0600 on first record', async () => {
    const path = join(dir, 'sub', 'known_hosts');
    const read = await readKnownHostsFile(path);
    expect(read).toMatchObject({ ok: true, known: { entries: [] } });
    const key = makeKeyPair('ed25519').blob;
    expect(await appendKnownHostsLine(path, formatKnownHostsLine('h1', 22, key, { hashed: false }))).toEqual({
      ok: true,
    });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const again = await readKnownHostsFile(path);
    expect(again.ok && again.known.entries).toHaveLength(1);
  });

  it('keeps concurrent records whole and adds a missing final newline first', async () => {
    const path = join(dir, 'concurrent');
    await writeFile(path, '# no newline at end');
    const keys = Array.from({ length: 8 }, () => makeKeyPair('ed25519').blob);
    await Promise.all(
      keys.map((k, i) =>
        appendKnownHostsLine(path, formatKnownHostsLine(`n${i}`, 22, k, { hashed: i % 2 === 0 })),
      ),
    );
    const text = await readFile(path, 'utf8');
    expect(text.split('\n')[0]).toBe('# no newline at end');
    const read = await readKnownHostsFile(path);
    expect(read.ok && read.known.entries).toHaveLength(8);
    expect(read.ok && read.known.problems).toEqual([]);
  });

  it('refuses a record that is not exactly one line', async () => {
    expect(await appendKnownHostsLine(join(dir, 'x'), 'a\nb\n')).toMatchObject({ ok: false });
  });
});
