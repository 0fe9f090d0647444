// `npg verify`: does every node hold the policy's guard, in front of kube-proxy? Exit 0 all in
// order, 1 drift (each finding names node, port and what differs), 2 could not check. --watch
// re-checks on an interval and reports findings as they appear and disappear.
import type { Command } from 'commander';
import { type VerifyResult, verifyNodes } from '../../engine/verify-nodes.js';
import { EXIT_DIFFERENCE, EXIT_FAILURE, EXIT_OK } from '../exit.js';
import {
  type FleetCliOptions,
  fleetOptions,
  loadOrFail,
  note,
  printJson,
  progress,
  type Runner,
  secondsFlag,
  withSession,
} from './common.js';

interface VerifyOptions extends FleetCliOptions {
  readonly watch?: string;
  readonly count?: string;
  readonly full?: boolean;
}

const CODE = { ok: EXIT_OK, drift: EXIT_DIFFERENCE, error: EXIT_FAILURE } as const;

function findingsOf(r: VerifyResult): string[] {
  return r.nodes.flatMap((n) =>
    n.ok ? n.verify.findings.filter((f) => f.severity !== 'info').map((f) => f.message) : [n.message],
  );
}

function infoOf(r: VerifyResult): string[] {
  return r.nodes.flatMap((n) => {
    if (!n.ok) return [];
    const lines = n.verify.findings.filter((f) => f.severity === 'info').map((f) => f.message);
    for (const a of n.audit)
      lines.push(
        a.sources.length
          ? `${n.node}: ${a.protocol}/${a.port} (${a.family === 'ipv4' ? 'IPv4' : 'IPv6'}) audit: would block ${a.sources.map((s) => `${s.source} (${s.flows} flow${s.flows === 1 ? '' : 's'})`).join(', ')}`
          : `${n.node}: ${a.protocol}/${a.port} (${a.family === 'ipv4' ? 'IPv4' : 'IPv6'}) audit: no recent source would be blocked`,
      );
    return [...lines, ...n.notes];
  });
}

function jsonOf(r: VerifyResult) {
  return {
    status: r.status,
    nodes: r.nodes.map((n) =>
      n.ok
        ? {
            node: n.node,
            status: n.verify.status,
            findings: n.verify.findings.map((f) => ({
              kind: f.kind,
              severity: f.severity,
              message: f.message,
            })),
            ports: n.verify.ports.map((p) => ({
              port: p.port,
              protocol: p.protocol,
              mode: p.mode,
              status: p.status,
              counters: p.counters,
            })),
            audit: n.audit,
            ...(n.pending ? { pending: n.pending } : {}),
            notes: n.notes,
          }
        : { node: n.node, status: 'error', error: n.message },
    ),
  };
}

export async function runVerify(opts: VerifyOptions): Promise<number> {
  const loaded = await loadOrFail(opts);
  const interval = secondsFlag('--watch', opts.watch, 1, 86_400);
  const count = secondsFlag('--count', opts.count, 1, 1_000_000);
  const policy = loaded.workspace.policy;
  const read = opts.full ? ('nat' as const) : ('guard' as const);
  return withSession(loaded, opts, async (session) => {
    if (interval === undefined) {
      const r = await verifyNodes(session, policy, { onProgress: progress(opts, 'verify'), read });
      if (opts.json) printJson(jsonOf(r));
      else {
        const lines = [...findingsOf(r), ...infoOf(r)];
        if (r.status === 'ok')
          lines.unshift(`all ${r.nodes.length} node${r.nodes.length === 1 ? '' : 's'} hold the policy`);
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      return CODE[r.status];
    }
    // Watch: print what changed since the last round; stop on SIGINT/SIGTERM or after --count rounds.
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let last = new Set<string>();
    let status: VerifyResult['status'] = 'ok';
    try {
      for (let round = 1; !stop.signal.aborted; round++) {
        const r = await verifyNodes(session, policy, { signal: stop.signal, read });
        if (stop.signal.aborted) break;
        status = r.status;
        const now = new Set(findingsOf(r));
        const appeared = [...now].filter((f) => !last.has(f));
        const gone = [...last].filter((f) => !now.has(f));
        const time = new Date().toISOString();
        if (opts.json) {
          if (round === 1 || appeared.length || gone.length)
            process.stdout.write(
              `${JSON.stringify({ time, round, ...jsonOf(r), appeared, resolved: gone })}\n`,
            );
        } else {
          if (round === 1 && now.size === 0)
            process.stdout.write(`${time} all ${r.nodes.length} nodes hold the policy\n`);
          for (const f of appeared) process.stdout.write(`${time} DRIFT ${f}\n`);
          for (const f of gone) process.stdout.write(`${time} resolved ${f}\n`);
          if (round > 1 && gone.length && now.size === 0)
            process.stdout.write(`${time} all ${r.nodes.length} nodes hold the policy again\n`);
        }
        last = now;
        if (count !== undefined && round >= count) break;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, interval * 1000);
          stop.signal.addEventListener(
            'abort',
            () => {
              clearTimeout(t);
              resolve();
            },
            { once: true },
          );
        });
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    note(opts, `watch ended: ${status}`);
    return CODE[status];
  });
}

export function registerVerify(program: Command, run: Runner): void {
  fleetOptions(
    program
      .command('verify')
      .description('check every node against the policy (exit 0 in order, 1 drift, 2 could not check)')
      .option('--watch <SECONDS>', 're-check every SECONDS and report drift as it appears')
      .option('--count <N>', 'with --watch: stop after N rounds')
      .option('--full', 'read the whole nat table, not only PREROUTING and our chains'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  npg verify --workspace c.yaml\n  npg verify --workspace c.yaml --watch 10\n  npg verify --workspace c.yaml --json | jq ".nodes[].findings"',
    )
    .action((opts: VerifyOptions) => run(runVerify(opts)));
}
