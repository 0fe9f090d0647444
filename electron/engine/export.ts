// Export (pure): the guard as it stands on each node, as files an operator can use without
// NodePort Guard: per node and family an iptables-restore file (for a node without the guard),
// per node with our nft table (kube-proxy's nftables mode) an `nft -f` file that writes exactly
// that table, one idempotent shell script that installs the policy's guard on whichever node runs
// it (the nft table where kube-proxy runs in nftables mode, else the iptables chains), and a JSON
// document (policy, per-node rules, hashes, time, operator) that `npg import` reads back.
import { type DesiredGuard, desiredGuard } from '../../shared/guard/desired.js';
import { fingerprint } from '../../shared/guard/hash.js';
import {
  nftDesired,
  nftDesiredFromState,
  nftStateHash,
  planNftState,
  renderNftPlan,
  serializeNftSavedState,
} from '../../shared/guard/nft/index.js';
import { NFT_TABLE_REF } from '../../shared/guard/nft/names.js';
import { tableBlock } from '../../shared/guard/nft/render.js';
import { planNode } from '../../shared/guard/plan.js';
import { desiredFromState, renderFamilyPlan, renderNodePlan } from '../../shared/guard/render.js';
import { serializeSavedState } from '../../shared/guard/saved-state.js';
import { emptyFamilyState, guardStateHash } from '../../shared/guard/state.js';
import type { Family } from '../../shared/vocabulary.js';
import { COMMENTS, ENTRY_CHAIN } from '../../shared/vocabulary.js';
import { type Policy, PolicySchema } from '../../shared/workspace/schema.js';
import type { NodeSnapshot } from './snapshot.js';

export interface ExportedFamily {
  readonly family: Family;
  /** Our chains and entry jump as they are on the node (saved-state text, no counters). */
  readonly rules: string;
  /** iptables-restore --noflush input that creates exactly this guard on a node without one. */
  readonly restore: string;
  readonly hash: string;
}

export interface ExportDocument {
  readonly version: 1;
  readonly kind: 'npg-export';
  readonly time: string;
  readonly operator: string;
  readonly workspace: string;
  readonly policy: Policy;
  readonly policyHash: string;
  readonly nodes: readonly {
    readonly node: string;
    readonly backend: string;
    readonly stateHash: string;
    readonly families: readonly ExportedFamily[];
    /** Which guard the node takes (nft: kube-proxy's nftables mode). */
    readonly guard: 'iptables' | 'nft';
    /** Our nft table as it is on the node, and the `nft -f` file that writes exactly it. */
    readonly nft?: { readonly rules: string; readonly file: string; readonly hash: string };
  }[];
  readonly scriptHash: string;
}

export interface ExportFiles {
  readonly document: ExportDocument;
  /** File name -> text: `node1.v4.rules`, `install-guard.sh`, `export.json`. */
  readonly files: ReadonlyMap<string, string>;
}

function createFromNothing(
  node: string,
  family: Family,
  desired: DesiredGuard,
  backend: NodeSnapshot['kubeBackend'],
): string {
  const plan = planNode({
    node,
    current: [emptyFamilyState(family)],
    desired: { ports: desired.ports, families: desired.families.filter((f) => f.family === family) },
    kubeProxy: { mode: 'iptables', backend },
  });
  return renderNodePlan(plan)[0]?.text ?? '';
}

/** The idempotent installer: drop entry jumps, rewrite our chains in one transaction, delete stale NPG- chains. */
export function installScript(policy: Policy, time: string): string {
  const d = desiredGuard(policy);
  if (!d.ok) throw new Error(d.errors[0]?.message ?? 'invalid policy');
  const section = (
    family: Family,
    f: {
      readonly entry: boolean;
      readonly chains: DesiredGuard['families'][number]['chains'];
    } = d.desired.families.find((x) => x.family === family)!,
    name = family === 'ipv4' ? 'v4' : 'v6',
  ): string => {
    const keep = f.chains.map((c) => c.name).join(' ');
    const body = f.entry
      ? renderFamilyPlan({
          family,
          current: emptyFamilyState(family),
          desired: { ...f, family },
          noop: false,
          edits: [
            ...f.chains.map((c) => ({
              kind: 'chain-create' as const,
              family,
              chain: c.name,
              rules: c.rules,
            })),
            { kind: 'entry-add' as const, family },
          ],
        })
      : '';
    const tool = family === 'ipv4' ? 'iptables' : 'ip6tables';
    const entry = `PREROUTING -m comment --comment "${COMMENTS.entry}" -j ${ENTRY_CHAIN}`;
    const lines = body
      .trimEnd()
      .split('\n')
      .filter((l) => !l.startsWith('#'));
    const head = lines.filter((l) => l === '*nat' || l.startsWith(':'));
    const rest = lines.filter((l) => !(l === '*nat' || l.startsWith(':')));
    return [
      `${name}() {`,
      '  # One entry jump at most; the one left is replaced inside the transaction (no unguarded moment).',
      `  n=$(${tool} -w -t nat -S PREROUTING | grep -c -- '-j ${ENTRY_CHAIN}$' || true)`,
      `  while [ "$n" -gt 1 ]; do ${tool} -w -t nat -D ${entry}; n=$((n - 1)); done`,
      ...(body
        ? [
            `  if [ "$n" -eq 1 ]; then del='-D ${entry}'; else del=''; fi`,
            '  {',
            "    cat <<'NPG_HEAD'",
            ...head,
            'NPG_HEAD',
            '    if [ -n "$del" ]; then printf \'%s\\n\' "$del"; fi',
            "    cat <<'NPG_REST'",
            ...rest,
            'NPG_REST',
            `  } | ${tool}-restore -w --noflush`,
          ]
        : [`  if [ "$n" -eq 1 ]; then ${tool} -w -t nat -D ${entry}; fi`]),
      `  for c in $(${tool} -w -t nat -S | sed -n 's/^-N \\(NPG-[A-Z0-9-]*\\)$/\\1/p'); do`,
      `    case " ${keep} " in *" $c "*) ;; *) ${tool} -w -t nat -F "$c" && ${tool} -w -t nat -X "$c" ;; esac`,
      '  done',
      '}',
    ].join('\n');
  };
  // kube-proxy's nftables mode: our own table, written whole in one `nft -f` (add + delete + table:
  // the same text replaces it whatever it held). An empty policy deletes it.
  const want = nftDesired(d.desired);
  const nftBody = want.present
    ? [`add table ${NFT_TABLE_REF}`, `delete table ${NFT_TABLE_REF}`, ...tableBlock(want)]
    : [`add table ${NFT_TABLE_REF}`, `delete table ${NFT_TABLE_REF}`];
  const nftSection = ['nftguard() {', "  nft -f - <<'NPG_NFT'", ...nftBody, 'NPG_NFT', '}'].join('\n');
  const none = { entry: false, chains: [] };
  const nft = policy.guardBackend === 'nft';
  const hasV6 = 'command -v ip6tables >/dev/null 2>&1 && [ -e /proc/net/if_inet6 ]';
  return `${[
    '#!/bin/sh',
    `# NodePort Guard: install the guard of the exported policy on this node (run as root). Exported ${time}.`,
    '# Idempotent: running it again gives the same rules. Touches only NPG- chains and our PREROUTING jump,',
    nft
      ? `# or, where the node has nft (the workspace guards with nft), table ${NFT_TABLE_REF}: written first, then our NPG- chains go.`
      : `# or, where kube-proxy runs in nftables mode (table ip kube-proxy), only table ${NFT_TABLE_REF}.`,
    'set -eu',
    section('ipv4'),
    section('ipv6'),
    ...(nft ? [section('ipv4', none, 'v4off'), section('ipv6', none, 'v6off')] : []),
    nftSection,
    nft
      ? `if command -v nft >/dev/null 2>&1; then nftguard; if command -v iptables >/dev/null 2>&1; then v4off; fi; if ${hasV6}; then v6off; fi; exit 0; fi`
      : `if command -v nft >/dev/null 2>&1 && nft list tables ip 2>/dev/null | grep -qx 'table ip kube-proxy'; then nftguard; exit 0; fi`,
    'v4',
    `if ${hasV6}; then v6; fi`,
  ].join('\n')}\n`;
}

export function buildExport(
  snapshots: readonly NodeSnapshot[],
  policy: Policy,
  meta: { readonly time: string; readonly operator: string; readonly workspace: string },
): ExportFiles {
  const files = new Map<string, string>();
  const script = installScript(policy, meta.time);
  files.set('install-guard.sh', script);
  const nodes = snapshots.map((s) => {
    const families = s.families.map((f): ExportedFamily => {
      const desired = desiredFromState([f.state]);
      const restore = createFromNothing(s.node, f.family, desired, s.kubeBackend);
      const rules = serializeSavedState(f.state);
      if (restore) files.set(`${s.node}.${f.family === 'ipv4' ? 'v4' : 'v6'}.rules`, restore);
      return { family: f.family, rules, restore, hash: guardStateHash([f.state]) };
    });
    const t = s.nftGuard?.table;
    let nft: { rules: string; file: string; hash: string } | undefined;
    if (t?.ok && t.value.table === 'present') {
      const desired = nftDesiredFromState(t.value).desired;
      const file = renderNftPlan(planNftState(s.node, { table: 'absent' }, desired));
      if (file) files.set(`${s.node}.nft`, file);
      nft = { rules: serializeNftSavedState(t.value), file, hash: nftStateHash(t.value) };
    }
    return {
      node: s.node,
      backend: s.kubeBackend,
      stateHash: guardStateHash(s.families.map((f) => f.state)),
      families,
      guard: s.guardBackend,
      ...(nft ? { nft } : {}),
    };
  });
  const document: ExportDocument = {
    version: 1,
    kind: 'npg-export',
    ...meta,
    policy,
    policyHash: fingerprint(JSON.stringify(policy)),
    nodes,
    scriptHash: fingerprint(script),
  };
  files.set('export.json', `${JSON.stringify(document, null, 2)}\n`);
  return { document, files };
}

/** The policy of an export document, checked as strictly as a workspace file. */
export function policyFromExport(
  text: string,
): { ok: true; policy: Policy } | { ok: false; message: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return { ok: false, message: `not JSON: ${(err as Error).message}` };
  }
  const doc = v as Partial<ExportDocument> | null;
  if (doc?.kind !== 'npg-export' || doc.version !== 1)
    return { ok: false, message: 'not an export written by npg export (kind npg-export, version 1)' };
  const r = PolicySchema.safeParse(doc.policy);
  if (!r.success) {
    const i = r.error.issues[0];
    return { ok: false, message: `policy.${i?.path.join('.') ?? ''}: ${i?.message ?? 'invalid'}` };
  }
  const d = desiredGuard(r.data);
  if (!d.ok) return { ok: false, message: d.errors[0]?.message ?? 'invalid policy' };
  return { ok: true, policy: r.data };
}
