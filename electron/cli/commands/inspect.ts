// `npg inspect --file DUMP [--ipset FILE] [--ipvs FILE] [--json]`: what a node does with NodePort
// traffic, from a dump. Without --file it reads the nodes of a workspace (inspect-nodes.ts).
import type { Command } from 'commander';
import { type InspectJson, toInspectJson } from '../../../shared/kube/index.js';
import type { Family } from '../../../shared/vocabulary.js';
import { inspectAnyDump, type MisplacedInput } from '../../engine/inspect.js';

const MISPLACED_FLAG: Readonly<Record<MisplacedInput, string>> = {
  table: '--table',
  ipsets: '--ipset',
  ipvs: '--ipvs',
  family: '--family',
};

import { CliError, EXIT_DIFFERENCE, EXIT_OK } from '../exit.js';
import { readInput, say } from '../io.js';
import { type FleetCliOptions, fleetOptions, type Runner } from './fleet-options.js';
import { type PortFilter, parsePortFilter, selectPort } from './inspect-port.js';
import { humanReport } from './inspect-report.js';

export interface InspectOptions extends FleetCliOptions {
  readonly file?: string;
  readonly table?: string;
  readonly ipset?: string;
  readonly ipvs?: string;
  readonly port?: string;
  readonly family?: string;
}

/** The first of `flags` that is set, as it is spelled on the command line. */
function firstSet(flags: readonly (readonly [string, unknown])[]): string | undefined {
  return flags.find(([, value]) => value !== undefined)?.[0];
}

/** Prints the node's NodePorts (or the one --port asks for); exit 1 when that port is not there. */
function print(
  json: InspectJson,
  warnings: readonly string[],
  opts: InspectOptions,
  port?: PortFilter,
): number {
  const shown = port ? selectPort(json, port) : json;
  if (opts.json) process.stdout.write(`${JSON.stringify(shown)}\n`);
  else say(`${humanReport(json, warnings, port)}\n`);
  return port && shown.nodePorts.length === 0 ? EXIT_DIFFERENCE : EXIT_OK;
}

function parseFamily(text: string): Family {
  if (text === 'ipv4' || text === 'ipv6') return text;
  throw new CliError(`--family ${JSON.stringify(text)}: ipv4 or ipv6`);
}

export async function runInspect(opts: InspectOptions): Promise<number> {
  const port = opts.port === undefined ? undefined : parsePortFilter(opts.port);
  if (!opts.file) {
    const dumpOnly = firstSet([
      ['--table', opts.table],
      ['--ipset', opts.ipset],
      ['--ipvs', opts.ipvs],
      ['--family', opts.family],
    ]);
    if (dumpOnly)
      throw new CliError(`inspect: ${dumpOnly} goes with --file (a live node is read whole, its ipsets too)`);
    if (opts.workspace === undefined && !process.env.NPG_WORKSPACE)
      throw new CliError(
        "inspect: give --file DUMP, or --workspace FILE (or set NPG_WORKSPACE) to read the workspace's nodes",
      );
    // The engine (workspace, SSH) is loaded only here: the dump form starts without it.
    return (await import('./inspect-nodes.js')).runInspectNodes(opts, port);
  }
  const nodesOnly = firstSet([
    ['--workspace', opts.workspace],
    ['--node', opts.node],
    ['--accept-new-host-keys', opts.acceptNewHostKeys],
    ['--ssh-config', opts.sshConfig],
    ['--concurrency', opts.concurrency],
    ['--connect-timeout', opts.connectTimeout],
  ]);
  if (nodesOnly) throw new CliError(`inspect: ${nodesOnly} reads live nodes; it does not go with --file`);
  const text = await readInput(opts.file, 'dump');
  const source = opts.file === '-' ? 'stdin' : opts.file;
  const r = inspectAnyDump({
    text,
    source,
    ...(opts.table ? { table: opts.table } : {}),
    ...(opts.ipset
      ? { ipsets: { text: await readInput(opts.ipset, 'ipset list'), source: opts.ipset } }
      : {}),
    ...(opts.ipvs ? { ipvs: { text: await readInput(opts.ipvs, 'ipvsadm output'), source: opts.ipvs } } : {}),
    ...(opts.family !== undefined ? { family: parseFamily(opts.family) } : {}),
  });
  if (!r.ok && r.misplaced === 'family')
    throw new CliError(
      'inspect: --family goes with nft rulesets (an iptables-save dump is one family already)',
    );
  if (!r.ok && r.misplaced)
    throw new CliError(
      `inspect: ${MISPLACED_FLAG[r.misplaced]} goes with iptables-save dumps; ${source} is an nft ruleset`,
    );
  if (!r.ok) throw new CliError(r.message);
  return print(toInspectJson(r.value.topology), r.value.warnings, opts, port);
}

export function registerInspect(program: Command, run: Runner): void {
  fleetOptions(
    program
      .command('inspect')
      .description(
        "show every NodePort of a node: its chain path, service and endpoints (a dump, or the workspace's nodes)",
      )
      .option(
        '--file <DUMP>',
        'iptables-save output, `iptables -t nat -S`, an excerpt, or an nft ruleset (`nft list ruleset`, `nft -j list ruleset`); - for stdin',
      )
      .option('--table <NAME>', 'read a headerless excerpt as this table (nat, filter, ...)')
      .option('--ipset <FILE>', '`ipset list` output (ipvs mode)')
      .option('--ipvs <FILE>', '`ipvsadm -Ln` output (ipvs mode)')
      .option(
        '--family <ipv4|ipv6>',
        'an nft ruleset with both kube-proxy tables: the one to show (default ipv4)',
      )
      .option(
        '--port <PORT[/PROTO]>',
        'only this NodePort, with its chain path and each endpoint (exit 1 where it is not)',
      ),
  )
    .addHelpText(
      'after',
      [
        '',
        'Without --file, every node of the workspace is read over SSH (as `npg discover` reads it) and',
        'shown per node and IP family. --json prints {"mode", "nodePorts": [{"port", "protocol",',
        '"service", "endpoints", "path", ...}]} for a dump, {"nodes": [{"node", "ok", "families": [...]}]}',
        'for live nodes.',
        '',
        'Examples:',
        '  sudo iptables-save -c > node1.txt && npg inspect --file node1.txt',
        '  sudo nft -j list ruleset > node1.json && npg inspect --file node1.json   # kube-proxy nftables mode',
        "  npg inspect --file node1.txt --json | jq '.nodePorts[] | select(.port==30001)'",
        '  npg inspect --file nat.txt --ipset ipset.txt --ipvs ipvsadm.txt',
        '  npg inspect --file node1.txt --port 30001',
        '  npg inspect --workspace cluster.yaml --node node2 --port 30002/udp',
      ].join('\n'),
    )
    .action((opts: InspectOptions) => run(runInspect(opts)));
}
