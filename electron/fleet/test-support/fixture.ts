// A temporary home for one test file: key files, a known_hosts file, and ResolvedNode values
// pointing at in-process servers.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatKnownHostsLine } from '../known-hosts';
import type { ResolvedNode, SshHop } from '../types';
import type { TestKeyPair } from './keys';
import type { TestServer } from './ssh-server';

export interface Fixture {
  readonly dir: string;
  readonly knownHostsPath: string;
  writeKey(name: string, key: TestKeyPair): Promise<string>;
  /** Writes known_hosts with these (server, host key) records. */
  trust(records: ReadonlyArray<readonly [TestServer, Buffer]>, options?: { hashed?: boolean }): Promise<void>;
  cleanup(): Promise<void>;
}

export async function makeFixture(): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'npg-fleet-'));
  const knownHostsPath = join(dir, 'known_hosts');
  return {
    dir,
    knownHostsPath,
    async writeKey(name, key) {
      const path = join(dir, name);
      await writeFile(path, key.privateKey, { mode: 0o600 });
      return path;
    },
    async trust(records, options = {}) {
      const text = records
        .map(([server, blob]) =>
          formatKnownHostsLine(server.host, server.port, blob, { hashed: options.hashed ?? false }),
        )
        .join('');
      await writeFile(knownHostsPath, text);
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export function hopFor(
  server: TestServer,
  name: string,
  user: string,
  identityFiles: readonly string[] = [],
): SshHop {
  return { name, host: server.host, port: server.port, user, identityFiles, identityFilesExplicit: true };
}

export function nodeFor(
  server: TestServer,
  name: string,
  user: string,
  extra: { identityFiles?: readonly string[]; sudo?: boolean; jumps?: readonly SshHop[] } = {},
): ResolvedNode {
  return {
    ...hopFor(server, name, user, extra.identityFiles ?? []),
    sudo: extra.sudo ?? user !== 'root',
    jumps: extra.jumps ?? [],
  };
}
