// `npg export`: the guard as applied on every node, as files usable without NodePort Guard
// (iptables-restore files per node, one idempotent install script, export.json). `npg import`
// reads export.json back into the workspace's policy (checked like a workspace file; nodes are
// changed only by a later apply).
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildExport, policyFromExport } from '../../engine/export.js';
import { operatorName } from '../../engine/local-store.js';
import { readErrorMessage, readNodes } from '../../engine/session.js';
import { saveWorkspace, writeFileAtomic } from '../../engine/workspace-file.js';
import { CliError, EXIT_FAILURE, EXIT_OK } from '../exit.js';
import { say } from '../io.js';
import {
  type FleetCliOptions,
  fleetOptions,
  loadOrFail,
  note,
  printJson,
  progress,
  type Runner,
  withSession,
  workspaceOptions,
} from './common.js';

interface ExportOptions extends FleetCliOptions {
  readonly out?: string;
}

interface ImportOptions extends FleetCliOptions {
  readonly file?: string;
}

export async function runExport(opts: ExportOptions): Promise<number> {
  if (!opts.out) throw new CliError('export: --out DIR is required');
  const loaded = await loadOrFail(opts);
  const out = opts.out;
  return withSession(loaded, opts, async (session) => {
    const results = await readNodes(session, session.nodes, 'nat', {
      onProgress: progress(opts, 'read'),
      prefer: loaded.workspace.policy.guardBackend ?? 'iptables',
    });
    const failed = results.flatMap((r) => (r.ok ? [] : [readErrorMessage(r.error)]));
    const snapshots = results.flatMap((r) => (r.ok ? [r.value] : []));
    const exp = buildExport(snapshots, loaded.workspace.policy, {
      time: new Date().toISOString(),
      operator: operatorName(),
      workspace: loaded.path,
    });
    await mkdir(out, { recursive: true, mode: 0o755 });
    for (const [name, text] of exp.files)
      await writeFileAtomic(join(out, name), text, name.endsWith('.sh') ? 0o755 : 0o644);
    for (const f of failed) say(`npg: ${f}; not exported\n`, process.stderr);
    if (opts.json) printJson({ out, files: [...exp.files.keys()], failed, document: exp.document });
    else say(`${[...exp.files.keys()].map((f) => join(out, f)).join('\n')}\n`);
    return failed.length ? EXIT_FAILURE : EXIT_OK;
  });
}

export async function runImport(opts: ImportOptions): Promise<number> {
  if (!opts.file) throw new CliError('import: --file EXPORT.json is required');
  const loaded = await loadOrFail(opts);
  let text: string;
  try {
    text = await readFile(opts.file, 'utf8');
  } catch (err) {
    throw new CliError(
      `import ${opts.file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    );
  }
  const r = policyFromExport(text);
  if (!r.ok) throw new CliError(`import ${opts.file}: ${r.message}; workspace unchanged`);
  const changed = JSON.stringify(r.policy) !== JSON.stringify(loaded.workspace.policy);
  if (changed) {
    const saved = await saveWorkspace(loaded, { ...loaded.workspace, policy: r.policy });
    if (!saved.ok) throw new CliError(saved.message);
  }
  if (opts.json) printJson({ changed, nodePorts: r.policy.nodePorts.length });
  else
    note(
      opts,
      changed
        ? `policy of ${r.policy.nodePorts.length} NodePort(s) imported into ${loaded.path} (run npg plan / npg apply to change the nodes)`
        : 'the workspace already holds this policy',
    );
  return EXIT_OK;
}

export function registerExport(program: Command, run: Runner): void {
  fleetOptions(
    program
      .command('export')
      .description(
        'write the applied guard of every node: iptables-restore files, an install script, export.json',
      )
      .option('--out <DIR>', 'folder for the files (created if missing)'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  npg export --workspace c.yaml --out guard-export/\n  sudo sh guard-export/install-guard.sh   # on a node',
    )
    .action((opts: ExportOptions) => run(runExport(opts)));
  workspaceOptions(
    program
      .command('import')
      .description("set the workspace's policy from an export.json (nodes change only with npg apply)")
      .option('--file <EXPORT.json>', 'export.json written by npg export'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  npg import --workspace c.yaml --file guard-export/export.json && npg plan --workspace c.yaml',
    )
    .action((opts: ImportOptions) => run(runImport(opts)));
}
