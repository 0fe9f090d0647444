// `npg nodes`: the inventory as resolved (host, port, user, sudo, jump hosts); with --check, each
// node is contacted (host key, login, sudo -n) and reported in one line.
import type { Command } from 'commander';
import { explain } from '../../engine/session.js';
import { EXIT_FAILURE, EXIT_OK } from '../exit.js';
import { formatTable } from '../format-table.js';
import { say } from '../io.js';
import {
  type FleetCliOptions,
  fleetOptions,
  loadOrFail,
  printJson,
  progress,
  type Runner,
  withSession,
} from './common.js';

interface NodesOptions extends FleetCliOptions {
  readonly check?: boolean;
}

interface NodeRow {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly sudo: boolean;
  readonly via: readonly string[];
  readonly status?: string;
  readonly error?: string;
}

export async function runNodes(opts: NodesOptions): Promise<number> {
  const loaded = await loadOrFail(opts);
  return withSession(loaded, opts, async (session) => {
    const rows: NodeRow[] = session.nodes.map((name) => {
      const n = session.fleet.node(name)!;
      return {
        name,
        host: n.host,
        port: n.port,
        user: n.user,
        sudo: n.sudo,
        via: n.jumps.map((j) => j.name),
      };
    });
    let failed = false;
    if (opts.check) {
      const results = await session.fleet.runOnAll(
        session.nodes,
        async (ctx) => {
          const id = await ctx.run({ op: 'id -u', argv: ['id', '-u'], sudo: false });
          if (!id.ok) return id;
          if (ctx.node.sudo) {
            const s = await ctx.run({ op: 'sudo -n true', argv: ['true'] });
            if (!s.ok) return s;
          }
          const root = id.stdout.trim() === '0';
          return {
            ok: true,
            value: root ? 'ok (root)' : ctx.node.sudo ? 'ok (sudo -n)' : 'reachable, not root and sudo off',
          };
        },
        { onProgress: progress(opts, 'check') },
      );
      results.forEach((r, i) => {
        const row = rows[i]!;
        if (r.ok) {
          rows[i] = { ...row, status: r.value };
          if (r.value.startsWith('reachable')) failed = true;
        } else {
          failed = true;
          rows[i] = {
            ...row,
            status: 'failed',
            error: 'kind' in r.error ? explain(r.error) : String(r.error),
          };
        }
      });
    }
    if (opts.json) printJson({ nodes: rows });
    else {
      const head = ['NODE', 'HOST', 'PORT', 'USER', 'SUDO', 'VIA', ...(opts.check ? ['STATUS'] : [])];
      say(
        `${formatTable(
          head,
          rows.map((r) => [
            r.name,
            r.host,
            String(r.port),
            r.user,
            r.sudo ? 'yes' : 'no',
            r.via.join(',') || '-',
            ...(opts.check ? [r.error ?? r.status ?? ''] : []),
          ]),
        )}\n`,
      );
    }
    return failed ? EXIT_FAILURE : EXIT_OK;
  });
}

export function registerNodes(program: Command, run: Runner): void {
  fleetOptions(
    program
      .command('nodes')
      .description("list the workspace's nodes as they will be reached; --check logs in to each")
      .option('--check', 'connect to every node: host key, login, sudo -n'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  npg nodes --workspace cluster.yaml\n  npg nodes --workspace cluster.yaml --check --accept-new-host-keys',
    )
    .action((opts: NodesOptions) => run(runNodes(opts)));
}
