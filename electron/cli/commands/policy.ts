// `npg policy`: show or edit the workspace's policy. Edits are checked completely before the file is
// touched (bad CIDR, port, label: one line, exit 2, file unchanged), stored normalised, and written
// atomically. Nothing is sent to any node: `npg plan` / `npg apply` do that.
import type { Command } from 'commander';
import type { Protocol } from '../../../shared/vocabulary.js';
import {
  editPolicy,
  guardBackendNote,
  type PolicyEdit,
  parsePortFlag,
  portWarnings,
  splitList,
  withGuardBackend,
} from '../../engine/policy-edit.js';
import { saveWorkspace } from '../../engine/workspace-file.js';
import { CliError, EXIT_OK } from '../exit.js';
import { formatTable } from '../format-table.js';
import { say } from '../io.js';
import {
  type FleetCliOptions,
  loadOrFail,
  note,
  printJson,
  type Runner,
  workspaceOptions,
} from './common.js';

interface PolicyOptions extends FleetCliOptions {
  readonly port?: string;
  readonly proto?: string;
  readonly allow?: string[];
  readonly add?: string[];
  readonly remove?: string[];
  readonly label?: string;
  readonly mode?: string;
  readonly blackholePort?: string;
  readonly service?: string;
  readonly drop?: boolean;
  readonly allowEmpty?: boolean;
  readonly guardBackend?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function toEdit(opts: PolicyOptions): PolicyEdit | undefined {
  const editing =
    opts.allow !== undefined ||
    opts.add !== undefined ||
    opts.remove !== undefined ||
    opts.mode !== undefined ||
    opts.blackholePort !== undefined ||
    opts.service !== undefined ||
    opts.drop === true ||
    opts.allowEmpty === true;
  if (!editing) {
    if (opts.label !== undefined) throw new CliError('--label goes with --allow or --add');
    return undefined;
  }
  if (opts.port === undefined) throw new CliError('--port N is required to edit the policy');
  const port = parsePortFlag('--port', opts.port);
  if (!port.ok) throw new CliError(port.error);
  const protocol = (opts.proto ?? 'tcp').toLowerCase();
  if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp')
    throw new CliError(`--proto ${JSON.stringify(opts.proto)}: one of tcp, udp, sctp`);
  if (opts.mode !== undefined && opts.mode !== 'enforce' && opts.mode !== 'audit')
    throw new CliError(`--mode ${JSON.stringify(opts.mode)}: one of enforce, audit`);
  let blackholePort: number | undefined;
  if (opts.blackholePort !== undefined) {
    const b = parsePortFlag('--blackhole-port', opts.blackholePort);
    if (!b.ok) throw new CliError(b.error);
    blackholePort = b.port;
  }
  if (
    opts.drop &&
    (opts.allow || opts.add || opts.remove || opts.mode || opts.service || blackholePort || opts.allowEmpty)
  )
    throw new CliError('--drop removes the port from the policy; give no other edit with it');
  if (opts.allow !== undefined && opts.remove !== undefined)
    throw new CliError('--allow replaces the list; use --add / --remove to edit it instead');
  if (opts.label !== undefined && opts.allow === undefined && opts.add === undefined)
    throw new CliError('--label goes with --allow or --add');
  return {
    port: port.port,
    protocol: protocol as Protocol,
    ...(opts.allow !== undefined ? { allow: splitList(opts.allow) } : {}),
    ...(opts.add !== undefined ? { add: splitList(opts.add) } : {}),
    ...(opts.remove !== undefined ? { remove: splitList(opts.remove) } : {}),
    ...(opts.label !== undefined ? { label: opts.label } : {}),
    ...(opts.mode !== undefined ? { mode: opts.mode as 'enforce' | 'audit' } : {}),
    ...(blackholePort !== undefined ? { blackholePort } : {}),
    ...(opts.service !== undefined ? { service: opts.service } : {}),
    ...(opts.drop ? { drop: true } : {}),
    ...(opts.allowEmpty ? { allowEmpty: true } : {}),
  };
}

export async function runPolicy(opts: PolicyOptions): Promise<number> {
  if (opts.guardBackend !== undefined) return runGuardBackend(opts, opts.guardBackend);
  const edit = toEdit(opts);
  const loaded = await loadOrFail(opts);
  let policy = loaded.workspace.policy;
  if (edit) {
    const r = editPolicy(policy, edit);
    if (!r.ok) {
      const more = r.errors.length > 1 ? ` (and ${r.errors.length - 1} more)` : '';
      throw new CliError(`${r.errors[0]}${more}; workspace unchanged`);
    }
    for (const n of r.notes) note(opts, `note: ${n}`);
    if (!edit.drop) for (const w of portWarnings(loaded.workspace, [edit])) note(opts, `warning: ${w}`);
    if (r.changed) {
      const saved = await saveWorkspace(loaded, { ...loaded.workspace, policy: r.policy });
      if (!saved.ok) throw new CliError(saved.message);
      note(
        opts,
        edit.drop
          ? `${edit.protocol}/${edit.port} dropped from the policy (run npg apply to change the nodes)`
          : `${edit.protocol}/${edit.port}: ${r.entries} allow entr${r.entries === 1 ? 'y' : 'ies'} written (run npg plan / npg apply to change the nodes)`,
      );
    } else note(opts, 'policy unchanged');
    policy = r.policy;
  }
  let shown = policy.nodePorts;
  if (opts.port !== undefined && !edit?.drop) {
    const port = parsePortFlag('--port', opts.port);
    if (!port.ok) throw new CliError(port.error);
    shown = shown.filter(
      (p) => p.port === port.port && (opts.proto === undefined || p.protocol === opts.proto.toLowerCase()),
    );
  }
  if (opts.json) printJson({ guardBackend: policy.guardBackend ?? 'iptables', nodePorts: shown });
  else if (!edit) {
    say(
      `guard backend: ${policy.guardBackend ?? 'iptables'} (nodes in kube-proxy's nftables mode take nft)\n`,
    );
    const rows = shown.flatMap((p) => {
      const head = [String(p.port), p.protocol, p.mode, String(p.blackholePort)];
      if (p.allow.length === 0) return [[...head, '(none: blocks everyone)', '']];
      return p.allow.map((a, i) => [...(i === 0 ? head : ['', '', '', '']), a.cidr, a.label ?? '']);
    });
    say(
      `${shown.length ? formatTable(['PORT', 'PROTO', 'MODE', 'BLACKHOLE', 'ALLOW', 'LABEL'], rows) : 'no NodePort is guarded by the policy'}\n`,
    );
  }
  return EXIT_OK;
}

/** `--guard-backend nft|iptables`: a workspace-wide choice, so it takes no port edit beside it. */
async function runGuardBackend(opts: PolicyOptions, value: string): Promise<number> {
  const others = Object.entries(opts).filter(
    ([k, v]) =>
      v !== undefined &&
      [
        'port',
        'proto',
        'allow',
        'add',
        'remove',
        'label',
        'mode',
        'blackholePort',
        'service',
        'drop',
        'allowEmpty',
      ].includes(k),
  );
  if (others.length > 0)
    throw new CliError('--guard-backend is for the whole workspace; give it without --port or other edits');
  const loaded = await loadOrFail(opts);
  const r = withGuardBackend(loaded.workspace.policy, value);
  if (!r.ok) throw new CliError(`${r.error}; workspace unchanged`);
  if (r.changed) {
    const saved = await saveWorkspace(loaded, { ...loaded.workspace, policy: r.policy });
    if (!saved.ok) throw new CliError(saved.message);
    note(
      opts,
      `${guardBackendNote(value === 'nft' ? 'nft' : 'iptables')} (run npg plan / npg apply to change the nodes)`,
    );
  } else note(opts, `guard backend already ${value}; workspace unchanged`);
  if (opts.json) printJson({ guardBackend: r.policy.guardBackend ?? 'iptables', changed: r.changed });
  return EXIT_OK;
}

export function registerPolicy(program: Command, run: Runner): void {
  workspaceOptions(
    program
      .command('policy')
      .description("show or edit a NodePort's allow-list in the workspace (nodes are changed by apply)")
      .option('--port <N>', 'the NodePort')
      .option('--proto <PROTO>', 'tcp (default), udp or sctp')
      .option('--allow <CIDR,...>', 'replace the allow-list (repeat or comma-separate)', collect)
      .option('--add <CIDR,...>', 'add entries', collect)
      .option('--remove <CIDR,...>', 'remove entries', collect)
      .option('--label <TEXT>', 'label for the entries given with --allow / --add')
      .option('--mode <MODE>', 'enforce (block) or audit (count and list, block nothing)')
      .option('--blackhole-port <N>', 'local port blocked clients are redirected to (default 65535)')
      .option('--service <TEXT>', 'service name for people (namespace/name:port)')
      .option('--allow-empty', 'let the allow-list be empty: block every source (alone: empty it)')
      .option('--drop', 'remove this NodePort from the policy')
      .option(
        '--guard-backend <BACKEND>',
        'the guard on iptables/ipvs-mode nodes: iptables (NPG- chains, default) or nft (table inet nodeport-guard, which kube-proxy restarts cannot reorder); switched by the next apply',
      ),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  npg policy --workspace c.yaml --port 30001 --allow 203.0.113.0/24 --label office\n  npg policy --workspace c.yaml --port 30001 --add 198.51.100.7 --label vpn\n  npg policy --workspace c.yaml --port 30002 --proto udp --mode audit --allow 10.0.0.0/8\n  npg policy --workspace c.yaml --port 30003 --allow-empty\n  npg policy --workspace c.yaml --guard-backend nft\n  npg policy --workspace c.yaml',
    )
    .action((opts: PolicyOptions) => run(runPolicy(opts)));
}
