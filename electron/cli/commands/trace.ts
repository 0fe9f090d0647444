// `npg trace --file DUMP --src IP --dst IP --dport N [--proto tcp|udp|sctp] [--json]`: would this
// packet reach a pod? DUMP is iptables-save output or, in kube-proxy's nftables mode, the node's nft
// ruleset (`nft list ruleset` or `nft -j list ruleset`: every table, ours included). Exit 0 when every branch reaches an endpoint, 1 when some branch is blocked
// or not forwarded (redirect, drop, unchanged), 2 for bad input or a rule the tracer cannot
// evaluate (it reports it rather than guess).
import { type Command, Option } from 'commander';
import type { Protocol } from '../../../shared/vocabulary.js';
import { traceDump } from '../../engine/trace.js';
import { CliError, EXIT_DIFFERENCE, EXIT_FAILURE, EXIT_OK } from '../exit.js';
import { formatTable } from '../format-table.js';
import { readInput, say } from '../io.js';

export interface TraceOptions {
  readonly file?: string;
  readonly table?: string;
  readonly ipset?: string;
  readonly src: string;
  readonly dst: string;
  readonly dport: string;
  readonly proto: Protocol;
  readonly iface?: string;
  readonly local?: string;
  readonly json?: boolean;
}

function parsePort(text: string, what: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new CliError(`trace: ${what} ${JSON.stringify(text)}: not a port number (1-65535)`);
  }
  return Number(text);
}

export async function runTrace(opts: TraceOptions): Promise<number> {
  if (!opts.file) throw new CliError('trace: --file DUMP is required');
  const dport = parsePort(opts.dport, '--dport');
  if (opts.iface !== undefined && !/^[A-Za-z0-9_.:@-]{1,15}$/.test(opts.iface)) {
    throw new CliError(`trace: --in-interface ${JSON.stringify(opts.iface)}: not an interface name`);
  }
  const text = await readInput(opts.file, 'dump');
  const r = traceDump({
    dump: {
      text,
      source: opts.file === '-' ? 'stdin' : opts.file,
      ...(opts.table ? { table: opts.table } : {}),
      ...(opts.ipset
        ? { ipsets: { text: await readInput(opts.ipset, 'ipset list'), source: opts.ipset } }
        : {}),
    },
    src: opts.src,
    dst: opts.dst,
    dport,
    protocol: opts.proto,
    ...(opts.iface ? { inInterface: opts.iface } : {}),
    localAddresses: opts.local ? opts.local.split(',').map((s) => s.trim()) : [opts.dst],
  });
  if (!r.ok) throw new CliError(r.message);
  const { view, trace } = r.value;
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ packet: trace.packet, summary: trace.summary, ...view, warnings: trace.warnings })}\n`,
    );
  } else {
    const p = trace.packet;
    const lines = [`${p.protocol} ${p.src} -> ${p.dst}:${p.dport}: ${trace.summary}`];
    lines.push(
      formatTable(
        ['CHANCE', 'VERDICT', 'DETAIL'],
        view.outcomes.map((o) => [`${(o.probability * 100).toFixed(1)}%`, o.verdict, o.detail]),
      ),
    );
    const first = view.outcomes[0];
    if (first)
      lines.push(
        '',
        `path (${first.verdict}): ${first.hops.map((h) => h.chain).join(' -> ') || 'PREROUTING'}`,
      );
    for (const w of trace.warnings) lines.push(`warning: ${w}`);
    say(`${lines.join('\n')}\n`);
  }
  if (view.outcomes.some((o) => o.verdict === 'unknown')) return EXIT_FAILURE;
  return view.outcomes.every((o) => o.verdict === 'dnat') ? EXIT_OK : EXIT_DIFFERENCE;
}

export function registerTrace(program: Command, run: (p: Promise<number>) => void): void {
  program
    .command('trace')
    .description(
      "walk a packet through a node's nat PREROUTING (nft: its prerouting chains) and say where it goes",
    )
    .option(
      '--file <DUMP>',
      'iptables-save output of the node, or its nft ruleset (nft [-j] list ruleset); - for stdin',
    )
    .option('--table <NAME>', 'read a headerless excerpt as this table')
    .option('--ipset <FILE>', '`ipset list` output, to evaluate -m set matches')
    .requiredOption('--src <IP>', 'source address of the packet')
    .requiredOption('--dst <IP>', 'destination: the node address the client connects to')
    .requiredOption('--dport <N>', 'destination port (the NodePort)')
    .addOption(new Option('--proto <PROTO>', 'protocol').choices(['tcp', 'udp', 'sctp']).default('tcp'))
    .option('--in-interface <IF>', 'interface the packet arrives on (for -i matches)')
    .option('--local <IPS>', "the node's own addresses, comma-separated (addrtype LOCAL); default: --dst")
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\nExit: 0 reaches a pod on every branch, 1 blocked or not forwarded on some branch, 2 bad input or cannot tell.\n\nExamples:\n  npg trace --file node1.txt --src 203.0.113.9 --dst 198.18.0.11 --dport 30001\n  npg trace --file node1.txt --src 2001:2::9 --dst 2001:2::11 --dport 30053 --proto udp --json\n  npg trace --file node1-nft.json --src 203.0.113.9 --dst 198.18.0.11 --dport 30001',
    )
    .action((opts: TraceOptions & { inInterface?: string }) =>
      run(runTrace({ ...opts, ...(opts.inInterface ? { iface: opts.inInterface } : {}) })),
    );
}
