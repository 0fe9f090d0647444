// ssh2 takes a few hundred milliseconds to load; the CLI's offline commands (inspect, trace,
// policy) never open a connection, so it is loaded on first use. Through its default export:
// ssh2 is CommonJS and Node's ESM loader does not see its named exports (esm-load.test.ts).
import type ssh2Module from 'ssh2';

let loading: Promise<typeof ssh2Module> | undefined;

export function loadSsh2(): Promise<typeof ssh2Module> {
  loading ??= import('ssh2').then((m) => m.default);
  return loading;
}
