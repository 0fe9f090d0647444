// Inspect a dump: parse the iptables-save text (and, for ipvs mode, `ipset list` / `ipvsadm -Ln`)
// or an nft ruleset of kube-proxy's nftables mode, and analyse kube-proxy's topology. Pure
// composition of shared/ steps; errors name the input and line so the CLI and the UI can print
// them as they are. inspectAnyDump is the one place that tells the formats apart.

import { recognizeDataplane, signsFromRuleset } from '../../shared/dataplane/index.js';
import {
  analyzeTopology,
  type IpsetList,
  type IpvsTable,
  parseIpsetList,
  parseIpvsadm,
  type Topology,
} from '../../shared/kube/index.js';
import { findTable, parseIptablesSave, type Ruleset, type Table } from '../../shared/netfilter/index.js';
import {
  inspectNftDump,
  mentionsIptablesKubeChains,
  type NftInspected,
  sniffDumpSyntax,
} from '../../shared/nftables/index.js';
import type { Family } from '../../shared/vocabulary.js';
import { readXtablesNft } from '../../shared/xtables-nft/index.js';

export interface DumpInput {
  readonly text: string;
  /** Shown in messages: a file name, `stdin`, `pasted rules`, a node name. */
  readonly source: string;
  readonly table?: string;
  readonly ipsets?: { readonly text: string; readonly source: string };
  readonly ipvs?: { readonly text: string; readonly source: string };
}

export interface Inspected {
  readonly ruleset: Ruleset;
  readonly nat: Table;
  readonly topology: Topology;
  /** Parsed `ipset list`, when given (the tracer evaluates `-m set` with it). */
  readonly ipsets?: IpsetList;
  readonly warnings: readonly string[];
}

export type InspectOutcome =
  | { readonly ok: true; readonly value: Inspected }
  | { readonly ok: false; readonly message: string };

const at = (source: string, line: number, text: string, message: string): string =>
  line > 0 ? `${source} line ${line}: ${message}${text ? ` (in: ${text})` : ''}` : `${source}: ${message}`;

/** A dump read and checked, before any topology: what the tracer needs. */
export interface ReadDump {
  readonly ruleset: Ruleset;
  readonly nat: Table;
  readonly ipsets?: IpsetList;
  readonly ipvs?: IpvsTable;
  readonly warnings: readonly string[];
}

export type ReadDumpOutcome =
  | { readonly ok: true; readonly value: ReadDump }
  | { readonly ok: false; readonly message: string };

/** Parses the dump and its ipset / ipvsadm companions; every error names its input and line. */
export function readDump(input: DumpInput): ReadDumpOutcome {
  const parsed = parseIptablesSave(input.text, input.table ? { table: input.table } : {});
  if (!parsed.ok)
    return {
      ok: false,
      message: at(input.source, parsed.error.line, parsed.error.text, parsed.error.message),
    };
  const nat = findTable(parsed.ruleset, 'nat');
  if (!nat) {
    const tables = parsed.ruleset.tables.map((t) => t.name).join(', ') || 'none';
    return {
      ok: false,
      message: `${input.source}: no nat table in the dump (tables: ${tables}); save it with iptables-save -t nat`,
    };
  }
  const warnings = [...parsed.warnings];
  let ipsets: IpsetList | undefined;
  if (input.ipsets) {
    const r = parseIpsetList(input.ipsets.text);
    if (!r.ok)
      return { ok: false, message: at(input.ipsets.source, r.error.line, r.error.text, r.error.message) };
    ipsets = r.ipsets;
    warnings.push(...r.warnings);
  }
  let ipvs: IpvsTable | undefined;
  if (input.ipvs) {
    const r = parseIpvsadm(input.ipvs.text);
    if (!r.ok)
      return { ok: false, message: at(input.ipvs.source, r.error.line, r.error.text, r.error.message) };
    ipvs = r.ipvs;
    warnings.push(...r.warnings);
  }
  return {
    ok: true,
    value: {
      ruleset: parsed.ruleset,
      nat,
      ...(ipsets ? { ipsets } : {}),
      ...(ipvs ? { ipvs } : {}),
      warnings,
    },
  };
}

export function inspectDump(input: DumpInput): InspectOutcome {
  const read = readDump(input);
  if (!read.ok) return read;
  const { ruleset, nat, ipsets, ipvs } = read.value;
  const filter = findTable(ruleset, 'filter');
  const mangle = findTable(ruleset, 'mangle');
  const topology = analyzeTopology({
    nat,
    ...(filter ? { filter } : {}),
    ...(mangle ? { mangle } : {}),
    ...(ipsets ? { ipsets } : {}),
    ...(ipvs ? { ipvs } : {}),
    backend: ruleset.backend,
    headerComments: ruleset.comments,
  });
  return {
    ok: true,
    value: {
      ruleset,
      nat,
      topology,
      ...(ipsets ? { ipsets } : {}),
      warnings: [...read.value.warnings, ...topology.warnings],
    },
  };
}

const MISPLACED_WORDS: Readonly<Record<MisplacedInput, string>> = {
  table: 'a table name',
  ipsets: '`ipset list` output',
  ipvs: '`ipvsadm -Ln` output',
  family: 'a family',
};

/** A dump as a user gives it: iptables-save (with its ipvs companions), or an nft ruleset. */
export interface AnyDumpInput extends DumpInput {
  /** nft rulesets with both kube-proxy tables: the one to show (default ipv4). */
  readonly family?: Family;
}

export type AnyInspected =
  | ({ readonly format: 'iptables' } & Inspected)
  | {
      readonly format: 'nft';
      readonly nft: NftInspected;
      readonly topology: Topology;
      readonly warnings: readonly string[];
    };

/** An input that belongs to the other format (the CLI names its flag, the UI its field). */
export type MisplacedInput = 'table' | 'ipsets' | 'ipvs' | 'family';

export type AnyInspectOutcome =
  | { readonly ok: true; readonly value: AnyInspected }
  | { readonly ok: false; readonly message: string; readonly misplaced?: MisplacedInput };

/**
 * Any dump: an nft ruleset (`nft list ruleset` text, `nft -f` input or `nft -j` JSON) of kube-proxy's
 * nftables mode, else iptables-save. Options that belong to the other format are refused in one line.
 */
export function inspectAnyDump(input: AnyDumpInput): AnyInspectOutcome {
  const syntax = sniffDumpSyntax(input.text);
  if (syntax === 'iptables') {
    if (input.family !== undefined)
      return {
        ok: false,
        misplaced: 'family',
        message: `${input.source}: the family goes with nft rulesets (an iptables-save dump is one family already)`,
      };
    const r = inspectDump(input);
    if (!r.ok) return r;
    // Another dataplane may serve NodePorts before netfilter: say so rather than "no NodePorts".
    const verdict = recognizeDataplane(signsFromRuleset(r.value.ruleset));
    const warnings = verdict.guardable === 'yes' ? r.value.warnings : [...r.value.warnings, verdict.sentence];
    return { ok: true, value: { format: 'iptables', ...r.value, warnings } };
  }
  const misplaced: MisplacedInput | undefined = input.table
    ? 'table'
    : input.ipsets
      ? 'ipsets'
      : input.ipvs
        ? 'ipvs'
        : undefined;
  if (misplaced)
    return {
      ok: false,
      misplaced,
      message: `${input.source} is an nft ruleset; ${MISPLACED_WORDS[misplaced]} goes with iptables-save dumps`,
    };
  // kube-proxy's iptables mode seen through iptables-nft: nft's words read back into iptables-save
  // text, then the iptables path, so the answer is the one the node's iptables-save gives.
  if (syntax === 'nft-text' && mentionsIptablesKubeChains(input.text)) {
    const x = readXtablesNft(input.text, input.family ? { family: input.family } : {});
    if (!x.ok) return { ok: false, message: at(input.source, x.line, x.text, x.message) };
    const r = inspectDump({ text: x.text, source: input.source });
    if (!r.ok) return r;
    const verdict = recognizeDataplane(signsFromRuleset(r.value.ruleset));
    const warnings = [
      ...x.warnings,
      ...r.value.warnings,
      ...(verdict.guardable === 'yes' ? [] : [verdict.sentence]),
    ];
    // The reader's warnings go in the JSON too, as the nftables path's do.
    const topology = { ...r.value.topology, warnings: [...x.warnings, ...r.value.topology.warnings] };
    return { ok: true, value: { format: 'iptables', ...r.value, topology, warnings } };
  }
  // kube-proxy's nftables mode (what else is refused there in one line).
  const r = inspectNftDump({
    text: input.text,
    source: input.source,
    json: syntax === 'nft-json',
    ...(input.family ? { family: input.family } : {}),
  });
  if (!r.ok) return r;
  return {
    ok: true,
    value: { format: 'nft', nft: r.value, topology: r.value.topology, warnings: r.value.topology.warnings },
  };
}
