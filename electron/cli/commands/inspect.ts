// `npg inspect --file DUMP [--ipset FILE] [--ipvs FILE] [--json]`: what a node does with NodePort
// traffic, from a dump. Without --file it reads the nodes of a workspace (inspect-nodes.ts).
import type { Command } from 'commander';
import {
  type InspectJson,
  quickInspect,
  quickInspectBytes,
  toInspectJson,
} from '../../../shared/kube/index.js';
import { inspectDump } from '../../engine/inspect.js';
import { CliError, EXIT_OK } from '../exit.js';
import { readInput } from '../io.js';
import { type FleetCliOptions, fleetOptions, type Runner } from './fleet-options.js';
import { humanReport } from './inspect-report.js';

export interface InspectOptions extends FleetCliOptions {
  readonly file?: string;
  readonly table?: string;
  readonly ipset?: string;
  readonly ipvs?: string;
}

/** The first of `flags` that is set, as it is spelled on the command line. */
function firstSet(flags: readonly (readonly [string, unknown])[]): string | undefined {
  return flags.find(([, value]) => value !== undefined)?.[0];
}

function print(json: InspectJson, warnings: readonly string[], asJson: boolean | undefined): void {
  if (asJson) process.stdout.write(`${JSON.stringify(json)}\n`);
  else process.stdout.write(`${humanReport(json, warnings)}\n`);
}

export async function runInspect(opts: InspectOptions): Promise<number> {
  if (!opts.file) {
    const dumpOnly = firstSet([
      ['--table', opts.table],
      ['--ipset', opts.ipset],
      ['--ipvs', opts.ipvs],
    ]);
    if (dumpOnly)
      throw new CliError(`inspect: ${dumpOnly} goes with --file (a live node is read whole, its ipsets too)`);
    if (opts.workspace === undefined && !process.env.NPG_WORKSPACE)
      throw new CliError(
        "inspect: give --file DUMP, or --workspace FILE (or set NPG_WORKSPACE) to read the workspace's nodes",
      );
    // The engine (workspace, SSH) is loaded only here: the dump form starts without it.
    return (await import('./inspect-nodes.js')).runInspectNodes(opts);
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
  // A plain dump of kube-proxy's iptables mode (the nat table alone or every table) is walked
  // without building the rule model; for any other input the quick path says so and the general
  // one below reads it.
  if (!opts.table && !opts.ipset && !opts.ipvs) {
    // --json: the walk writes the JSON bytes itself (no objects, no stringify, no encoding).
    const quick = opts.json ? quickInspectBytes(text) : quickInspect(text);
    if (quick instanceof Uint8Array) {
      process.stdout.write(quick);
      process.stdout.write('\n');
      return EXIT_OK;
    }
    if (quick) {
      print(quick, quick.warnings, opts.json);
      return EXIT_OK;
    }
  }
  const r = inspectDump(
    {
      text,
      source: opts.file === '-' ? 'stdin' : opts.file,
      ...(opts.table ? { table: opts.table } : {}),
      ...(opts.ipset
        ? { ipsets: { text: await readInput(opts.ipset, 'ipset list'), source: opts.ipset } }
        : {}),
      ...(opts.ipvs
        ? { ipvs: { text: await readInput(opts.ipvs, 'ipvsadm output'), source: opts.ipvs } }
        : {}),
    },
    // Only the topology is printed: rules need not be built (a large node reads several times faster).
    { lazy: true },
  );
  if (!r.ok) throw new CliError(r.message);
  print(toInspectJson(r.value.topology), r.value.warnings, opts.json);
  return EXIT_OK;
}

export function registerInspect(program: Command, run: Runner): void {
  fleetOptions(
    program
      .command('inspect')
      .description(
        "show every NodePort of a node: its chain path, service and endpoints (a dump, or the workspace's nodes)",
      )
      .option('--file <DUMP>', 'iptables-save output, `iptables -t nat -S`, or an excerpt; - for stdin')
      .option('--table <NAME>', 'read a headerless excerpt as this table (nat, filter, ...)')
      .option('--ipset <FILE>', '`ipset list` output (ipvs mode)')
      .option('--ipvs <FILE>', '`ipvsadm -Ln` output (ipvs mode)'),
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
        "  npg inspect --file node1.txt --json | jq '.nodePorts[] | select(.port==30001)'",
        '  npg inspect --file nat.txt --ipset ipset.txt --ipvs ipvsadm.txt',
        '  npg inspect --workspace cluster.yaml --node node2',
      ].join('\n'),
    )
    .action((opts: InspectOptions) => run(runInspect(opts)));
}
