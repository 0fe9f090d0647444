// An nft ruleset pasted or saved by a user, to the one Topology that `npg inspect --file` prints:
// read (text or JSON), tell kube-proxy's nftables mode from iptables mode seen through
// iptables-nft, pick the family, walk. Errors are one line naming the source and line.
import type { Topology } from '../kube/topology';
import type { Family } from '../vocabulary';
import {
  IPTABLES_NFT_MESSAGE,
  isIptablesNftKube,
  kubeProxyTables,
  mentionsIptablesKubeChains,
} from './detect';
import type { NftRuleset, NftTable } from './model';
import { parseNftJson, parseNftText } from './read';
import { analyzeNftTopology, tableFamily } from './topology';

export interface NftInspected {
  readonly ruleset: NftRuleset;
  readonly family: Family;
  readonly topology: Topology;
}

export type NftInspectOutcome =
  | { readonly ok: true; readonly value: NftInspected }
  | { readonly ok: false; readonly message: string };

export interface NftDumpInput {
  readonly text: string;
  readonly source: string;
  readonly json: boolean;
  /** The family to show when the ruleset has both kube-proxy tables (default: ipv4). */
  readonly family?: Family;
}

export function inspectNftDump(input: NftDumpInput): NftInspectOutcome {
  const r = input.json ? parseNftJson(input.text) : parseNftText(input.text);
  if (!r.ok) {
    if (!input.json && mentionsIptablesKubeChains(input.text))
      return { ok: false, message: `${input.source}: ${IPTABLES_NFT_MESSAGE}` };
    const e = r.error;
    const where = e.line > 0 ? `${input.source} line ${e.line}` : input.source;
    return { ok: false, message: `${where}: ${e.message}${e.text ? ` (in: ${e.text})` : ''}` };
  }
  const rs = r.ruleset;
  if (isIptablesNftKube(rs)) return { ok: false, message: `${input.source}: ${IPTABLES_NFT_MESSAGE}` };
  const tables = kubeProxyTables(rs);
  if (tables.length === 0) {
    const names = rs.tables.map((t) => `${t.family} ${t.name || '(no table)'}`).join(', ') || 'none';
    return {
      ok: false,
      message: `${input.source}: no kube-proxy nftables table (table ip kube-proxy or ip6 kube-proxy) in this ruleset (tables: ${names})`,
    };
  }
  const wanted = input.family ?? 'ipv4';
  const table = tables.find((t) => tableFamily(t) === wanted) ?? tables[0]!;
  const topology = analyzeNftTopology(table);
  const others = tables.filter((t) => t !== table);
  const warnings = [
    ...topology.warnings,
    ...others.map(
      (t) =>
        `this ruleset also has table ${t.family} ${t.name}: shown here is table ${table.family} ${table.name} only`,
    ),
    ...otherTablesWarnings(rs, table),
  ];
  return {
    ok: true,
    value: { ruleset: rs, family: tableFamily(table) ?? 'ipv4', topology: { ...topology, warnings } },
  };
}

/** Families whose packets a table of this family sees (an inet table sees both). */
function sameTraffic(a: NftTable, b: NftTable): boolean {
  return a.family === b.family || a.family === 'inet' || b.family === 'inet';
}

/**
 * What else in the ruleset meets NodePort traffic: nat prerouting chains of other tables that run
 * before kube-proxy's (a guard at `dstnat - 10` is one), and kube-proxy's iptables-mode chains
 * left in iptables-nft's tables.
 */
function otherTablesWarnings(rs: NftRuleset, kube: NftTable): string[] {
  const out: string[] = [];
  const kubeHook = kube.chains.find((c) => c.base?.type === 'nat' && c.base.hook === 'prerouting')?.base;
  for (const t of rs.tables) {
    if (t === kube || !sameTraffic(t, kube) || t.name === kube.name) continue;
    for (const c of t.chains) {
      const b = c.base;
      if (b?.type !== 'nat' || b.hook !== 'prerouting') continue;
      const when =
        kubeHook === undefined
          ? ''
          : b.priority < kubeHook.priority
            ? `, before kube-proxy's (${kubeHook.priority}): it sees NodePort traffic first`
            : b.priority === kubeHook.priority
              ? `, the same as kube-proxy's: which runs first is not defined`
              : `, after kube-proxy's (${kubeHook.priority}): NodePort traffic is already DNATed there`;
      out.push(
        `table ${t.family} ${t.name} chain ${c.name} hooks nat prerouting at priority ${b.priority}${when}`,
      );
    }
    if (t.chains.some((c) => /^KUBE-(SERVICES|NODEPORTS)$/.test(c.name)))
      out.push(
        `table ${t.family} ${t.name} also has kube-proxy's iptables-mode chains (KUBE-SERVICES): left over from a mode switch, or a second proxy`,
      );
  }
  return out;
}
