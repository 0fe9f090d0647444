// A Session for unit tests of the use cases: no SSH. Each node answers every command with the
// text `answer(node, call)` returns (a read script's output), or fails as unreachable.
import type { ProgressListener, RunRequest } from '../../fleet/index.js';
import type { Session } from '../session.js';
import type { LoadedWorkspace } from '../workspace-file.js';

export type Answer = string | { readonly unreachable: string };

export interface FakeSession {
  readonly session: Session;
  /** Every runOnAll call: its nodes and the first command each node ran. */
  readonly calls: { nodes: readonly string[]; ops: string[] }[];
}

export function fakeSession(
  nodes: readonly string[],
  answer: (node: string, call: number) => Answer,
): FakeSession {
  const calls: FakeSession['calls'] = [];
  const fleet = {
    node: (name: string) => ({ name, host: `198.18.0.${11 + nodes.indexOf(name)}`, jumps: [] }),
    async runOnAll(
      list: readonly string[],
      step: (ctx: unknown) => Promise<{ ok: boolean; value?: unknown; error?: unknown }>,
      options: { onProgress?: ProgressListener; signal?: AbortSignal } = {},
    ) {
      const call = calls.length;
      const record = { nodes: list, ops: [] as string[] };
      calls.push(record);
      return Promise.all(
        list.map(async (name) => {
          const a = answer(name, call);
          options.onProgress?.({ node: name, phase: 'connecting', hop: name });
          if (typeof a !== 'string') {
            const error = {
              kind: 'connect-failed',
              node: name,
              hop: name,
              cause: 'x',
              message: a.unreachable,
            };
            options.onProgress?.({ node: name, phase: 'failed', message: a.unreachable, durationMs: 5 });
            return { node: name, ok: false, error, durationMs: 5 };
          }
          options.onProgress?.({ node: name, phase: 'running', op: 'read' });
          const run = async (req: RunRequest) => {
            record.ops.push(req.op ?? 'command');
            return { ok: true, node: name, op: req.op, stdout: a, stderr: '', code: 0, durationMs: 1 };
          };
          const r = await step({ node: { name }, signal: options.signal, run, ask: run });
          options.onProgress?.({ node: name, phase: 'done', durationMs: 5 });
          return r.ok
            ? { node: name, ok: true, value: r.value, durationMs: 5 }
            : { node: name, ok: false, error: r.error, durationMs: 5 };
        }),
      );
    },
  };
  return {
    session: { fleet, nodes, warnings: [], close: async () => {} } as unknown as Session,
    calls,
  };
}

export function loadedWorkspace(
  nodes: readonly string[],
  policy: LoadedWorkspace['workspace']['policy'],
  cluster?: LoadedWorkspace['workspace']['cluster'],
): LoadedWorkspace {
  return {
    path: '/tmp/npg-use-case-test.yaml',
    dir: '/tmp',
    text: '',
    workspace: {
      version: 1,
      inventory: {
        knownHosts: 'known_hosts',
        nodes: nodes.map((name, i) => ({ name, host: `198.18.0.${11 + i}`, user: 'root' })),
      },
      policy,
      ...(cluster ? { cluster } : {}),
    } as unknown as LoadedWorkspace['workspace'],
  };
}

/** A `full` read of a node whose nat table is `dump` (IPv4 only, nft backend). */
export function fullRead(dump: string): string {
  return `%%npg kube-backend nft\n%%npg begin v4\n${dump}\n%%npg end v4 0\n`;
}
