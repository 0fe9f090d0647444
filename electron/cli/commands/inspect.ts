// `npg inspect --file DUMP [--ipset FILE] [--ipvs FILE] [--json]`: what a node does with NodePort
// traffic, from a dump. Without --file it will read the nodes of a workspace (engine issue).
import type { Command } from 'commander';
import {
  type InspectJson,
  quickInspect,
  quickInspectBytes,
  toInspectJson,
} from '../../../shared/kube/index.js';
import { inspectDump } from '../../engine/inspect.js';
import { CliError, EXIT_OK } from '../exit.js';
import { formatTable } from '../format-table.js';
import { readInput } from '../io.js';

export interface InspectOptions {
  readonly file?: string;
  readonly table?: string;
  readonly ipset?: string;
  readonly ipvs?: string;
  readonly json?: boolean;
}

function humanReport(t: InspectJson, warnings: readonly string[]): string {
  const rows = t.nodePorts.map((np) => [
    String(np.port),
    np.protocol,
    np.service ?? '-',
    np.noEndpoints ? 'none' : np.endpointsKnown ? np.endpoints.join(' ') : 'unknown (no ipvsadm output)',
    [
      np.guarded ? 'guarded' : '',
      np.externalTrafficPolicy === 'Local' ? 'ETP=Local' : '',
      np.foreignRules.length ? 'foreign-rule' : '',
    ]
      .filter(Boolean)
      .join(','),
  ]);
  const head = `kube-proxy mode: ${t.mode}, layout: ${t.layout}, iptables backend: ${t.backend}, ${t.nodePorts.length} NodePorts`;
  const body = rows.length
    ? formatTable(['PORT', 'PROTO', 'SERVICE', 'ENDPOINTS', 'NOTES'], rows)
    : 'no NodePorts found';
  return [head, body, ...warnings.map((w) => `warning: ${w}`)].join('\n');
}

function print(json: InspectJson, warnings: readonly string[], asJson: boolean | undefined): void {
  if (asJson) process.stdout.write(`${JSON.stringify(json)}\n`);
  else process.stdout.write(`${humanReport(json, warnings)}\n`);
}

export async function runInspect(opts: InspectOptions): Promise<number> {
  if (!opts.file)
    throw new CliError(
      'inspect: --file DUMP is required (reading live nodes from a workspace comes with `npg discover`)',
    );
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

export function registerInspect(program: Command, run: (p: Promise<number>) => void): void {
  program
    .command('inspect')
    .description('show every NodePort of a node: its chain path, service and endpoints')
    .option('--file <DUMP>', 'iptables-save output, `iptables -t nat -S`, or an excerpt; - for stdin')
    .option('--table <NAME>', 'read a headerless excerpt as this table (nat, filter, ...)')
    .option('--ipset <FILE>', '`ipset list` output (ipvs mode)')
    .option('--ipvs <FILE>', '`ipvsadm -Ln` output (ipvs mode)')
    .option(
      '--json',
      'machine-readable output: {"mode", "nodePorts": [{"port","protocol","service","endpoints"}]}',
    )
    .addHelpText(
      'after',
      "\nExamples:\n  sudo iptables-save -c > node1.txt && npg inspect --file node1.txt\n  npg inspect --file node1.txt --json | jq '.nodePorts[] | select(.port==30001)'\n  npg inspect --file nat.txt --ipset ipset.txt --ipvs ipvsadm.txt",
    )
    .action((opts: InspectOptions) => run(runInspect(opts)));
}
