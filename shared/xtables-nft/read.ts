// `nft list ruleset` / `nft list table ip nat` / `nft list chain ip nat KUBE-SERVICES` of tables
// iptables-nft made, back to iptables-save text of one family, which shared/netfilter then parses
// into the one Ruleset model every caller uses. Going through the text (not building the model
// here) keeps one decoder of iptables options: this reader only undoes nft's printing.
//
// Errors are one line naming the source line. What nft could not print (an `xt target`, a target
// it printed as nothing, an ipset name) is refused; `xt match NAME` is kept as `-m NAME` with a
// warning, since the model keeps modules it does not understand.
import { parseIptablesSave, type Ruleset } from '../netfilter/index';
import type { Family } from '../vocabulary';
import { type RuleFamily, readRule } from './rule';

export interface XtablesNftRead {
  readonly ok: true;
  /** iptables-save text of the chosen family; `-A` lines carry nft's counters. */
  readonly text: string;
  readonly ruleset: Ruleset;
  readonly family: Family;
  /** What this reader noticed (nft's printing); parseWarnings are shared/netfilter's on the text. */
  readonly warnings: readonly string[];
  readonly parseWarnings: readonly string[];
}

export interface XtablesNftError {
  readonly ok: false;
  /** 1-based line of the nft text, 0 when the whole input is at fault. */
  readonly line: number;
  readonly text: string;
  readonly message: string;
}

export type XtablesNftResult = XtablesNftRead | XtablesNftError;

const IPTABLES_TABLES = new Set(['nat', 'filter', 'mangle', 'raw', 'security']);

/** `type nat hook prerouting priority dstnat; policy accept;` of a built-in chain. */
const BASE_CHAIN =
  /^type\s+\w+\s+hook\s+\w+(?:\s+device\s+\S+)?\s+priority\s+[^;]+;\s*policy\s+(accept|drop)\s*;?$/;

interface ChainOut {
  readonly name: string;
  policy: string;
  readonly rules: string[];
  /** nft line of each rule, for mapping parse errors back. */
  readonly lines: number[];
}

interface TableOut {
  readonly family: RuleFamily | undefined;
  readonly name: string;
  readonly chains: ChainOut[];
  /** Names of `chains`: a node has tens of thousands. */
  readonly names: Set<string>;
}

function fail(line: number, text: string, message: string): XtablesNftError {
  return { ok: false, line, text: text.trim().slice(0, 200), message };
}

export interface ReadOptions {
  /** Which family to give when the listing has ip and ip6 tables (default: ipv4). */
  readonly family?: Family;
}

export function readXtablesNft(input: string, opts: ReadOptions = {}): XtablesNftResult {
  const lines = input.split('\n');
  const tables: TableOut[] = [];
  const warnings: string[] = [];
  const notes = new Map<string, number>();
  const unprintable: string[] = [];
  let comments = 0;
  const jumps = new Map<string, { line: number; family: RuleFamily | undefined }>();
  let rules = 0;
  // A rule that cannot be read fails the read only when its family is the one given.
  const refused: { family: RuleFamily | undefined; error: XtablesNftError }[] = [];
  let table: TableOut | undefined;
  let chain: ChainOut | undefined;
  /** Depth of a table we skip (not iptables'), counted in braces. */
  let skipDepth = 0;
  // Chains pasted without their `table` line (`nft list chain` cut short).
  const standalone: TableOut = { family: undefined, name: '', chains: [], names: new Set() };

  for (let n = 1; n <= lines.length; n++) {
    // `nft -a` adds `# handle N`; the rest of the line is what nft printed.
    let raw = (lines[n - 1] ?? '').replace(/\r$/, '').replace(/\s# handle \d+$/, '');
    if (raw.includes('# Warning: table'))
      raw = raw.replace(/# Warning: table \S+ \S+ is managed by iptables-nft, do not touch!/, '');
    // With `2>&1` nft's stderr lands inside the line it was printing: `... bytes 0 XT target DNAT not found`.
    const inLine = raw.includes(' not found') ? /\sXT (target|match) (\S+) not found$/.exec(raw) : null;
    let lost: string | undefined;
    if (inLine && raw.slice(0, inLine.index).trim() !== '') {
      lost = `${inLine[1]} ${inLine[2]}`;
      raw = raw.slice(0, inLine.index + 1);
      unprintable.push(lost);
    }
    const line = raw.trim();
    if (skipDepth > 0) {
      skipDepth += count(line, '{') - count(line, '}');
      continue;
    }
    if (line === '') continue;
    // nft's stderr, often pasted with the listing (`2>&1`): says which targets it printed as nothing.
    const xt = /^XT (target|match) (\S+) not found$/.exec(line);
    if (xt) {
      unprintable.push(`${xt[1]} ${xt[2]}`);
      continue;
    }
    if (line.startsWith('#')) continue;
    if (chain) {
      if (line === '}') {
        chain = undefined;
        continue;
      }
      const base = BASE_CHAIN.exec(line);
      if (base) {
        chain.policy = base[1]!.toUpperCase();
        continue;
      }
      const family: RuleFamily = table?.family ?? guessFamily(line);
      const r = readRule(chain.name, line, family);
      const refuse = (message: string) =>
        refused.push({ family: table?.family, error: fail(n, raw, message) });
      if (!r.ok) {
        refuse(r.message);
        continue;
      }
      // A target nft could not find prints as nothing after the counter: the line ends in a space.
      // Trimmed, it shows as a KUBE-SEP rule that matches a protocol and does nothing.
      if (
        lost !== undefined ||
        (!r.hasTarget &&
          (/counter packets \d+ bytes \d+\s+$/.test(raw) || (r.hasProtocol && /^KUBE-SEP-/.test(chain.name))))
      ) {
        refuse(lostTarget(chain.name, lost ?? unprintable[0]));
        continue;
      }
      if (r.hasComment) comments++;
      for (const note of r.notes) if (!notes.has(note)) notes.set(note, n);
      if (r.jumpTo && !jumps.has(r.jumpTo)) jumps.set(r.jumpTo, { line: n, family: table?.family });
      chain.rules.push(r.line);
      rules++;
      chain.lines.push(n);
      continue;
    }
    const t = /^table\s+(\S+)\s+(\S+)\s*\{$/.exec(line);
    if (t) {
      if (table) return fail(n, raw, 'a table inside a table (a `}` is missing above)');
      const [, fam, name] = t;
      if ((fam !== 'ip' && fam !== 'ip6') || !IPTABLES_TABLES.has(name!)) {
        warnings.push(`line ${n}: table ${fam} ${name} is not one of iptables' tables and was not read`);
        skipDepth = 1;
        continue;
      }
      const found = tables.find((x) => x.family === fam && x.name === name);
      if (found) return fail(n, raw, `table ${fam} ${name} is listed twice (two listings pasted together?)`);
      table = { family: fam, name: name!, chains: [], names: new Set() };
      tables.push(table);
      continue;
    }
    const c = /^chain\s+(?:(ip6?)\s+(\S+)\s+)?(\S+)\s*\{$/.exec(line);
    if (c) {
      const [, fam, tname, name] = c;
      let into = table;
      if (!into && fam && tname) {
        // `nft list chain ip nat X` prints `table ip nat { chain X {...} }`; a bare `chain ip nat X {`
        // is `nft -f` input; both are accepted.
        into = tables.find((x) => x.family === fam && x.name === tname);
        if (!into) {
          into = { family: fam as RuleFamily, name: tname, chains: [], names: new Set() };
          tables.push(into);
        }
      }
      into ??= standalone;
      if (into.names.has(name!))
        return fail(
          n,
          raw,
          `chain ${name} is listed twice (two nodes' listings pasted together?): kube-proxy's iptables mode written through iptables-nft is read one node at a time; paste one node's listing, or its iptables-save`,
        );
      chain = { name: name!, policy: '-', rules: [], lines: [] };
      into.chains.push(chain);
      into.names.add(chain.name);
      continue;
    }
    if (line === '}' && table) {
      table = undefined;
      continue;
    }
    return fail(n, raw, 'not a line of `nft list` output for iptables-nft tables');
  }
  if (chain || table) return fail(0, '', 'the listing ends inside a chain or table (a `}` is missing)');
  if (standalone.chains.length > 0) tables.push(standalone);

  const wanted: RuleFamily = opts.family === 'ipv6' ? 'ip6' : 'ip';
  const families = new Set(tables.map((x) => x.family).filter((f) => f !== undefined));
  const family: RuleFamily = families.has(wanted) || families.size === 0 ? wanted : [...families][0]!;
  for (const f of families)
    if (f !== family)
      warnings.push(`this listing also has ${f} tables: shown here are the ${family} tables only`);
  const chosen = tables.filter((x) => x.family === family || x.family === undefined);
  if (chosen.length === 0) return fail(0, '', 'no iptables-nft table or chain in this listing');
  const first = refused.find((x) => x.family === family || x.family === undefined);
  if (first) return first.error;
  for (const [note, n] of notes) warnings.push(`line ${n}: ${note}`);
  // nft 1.0.6 prints xt_comment as nothing: kube-proxy's service names live only there.
  if (rules > 0 && comments === 0)
    warnings.push(
      "nft printed none of the rules' comments (`-m comment`): service names are not shown; iptables-save has them",
    );

  // `nft list chain` shows one chain: say which jumps lead out of the listing, not "no NodePorts".
  const shown = new Set(chosen.flatMap((t) => t.chains.map((c) => c.name)));
  const missing = [...jumps]
    .filter(([name, j]) => !shown.has(name) && (j.family === family || j.family === undefined))
    .sort(([a], [b]) => Number(b === 'KUBE-NODEPORTS') - Number(a === 'KUBE-NODEPORTS'));
  if (missing.length > 0) {
    const names = missing.slice(0, 3).map(([name, j]) => `${name} (line ${j.line})`);
    const more = missing.length > 3 ? ` and ${missing.length - 3} more` : '';
    warnings.push(
      `this listing does not show chains its rules jump to: ${names.join(', ')}${more}; what lies behind them is not shown`,
    );
  }
  const { text, lineOf } = toSaveText(chosen, family);
  const parsed = parseIptablesSave(text);
  if (!parsed.ok) {
    const n = lineOf[parsed.error.line - 1] ?? 0;
    return fail(n, n > 0 ? (lines[n - 1] ?? '') : '', parsed.error.message);
  }
  return {
    ok: true,
    text,
    ruleset: parsed.ruleset,
    family: family === 'ip6' ? 'ipv6' : 'ipv4',
    warnings,
    parseWarnings: parsed.warnings,
  };
}

function count(s: string, ch: string): number {
  let k = 0;
  for (const c of s) if (c === ch) k++;
  return k;
}

/** A chain pasted without its table: its own addresses say the family. */
function guessFamily(line: string): RuleFamily {
  return /\bip6 (saddr|daddr)\b/.test(line) ? 'ip6' : 'ip';
}

function lostTarget(chain: string, said0: string | undefined): string {
  const said = said0 ? ` (nft said: XT ${said0} not found)` : '';
  return `nft printed this ${chain} rule without its target${said}, so what it does is not shown; give iptables-save (ip6tables-save) of the node`;
}

/** Built-in chains per table in iptables-save's order: iptables-nft makes them only when used. */
const BUILTINS: Readonly<Record<string, readonly string[]>> = {
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/**
 * iptables-save text, in iptables-nft-save's order: a `*table` block per table, its built-in
 * chains (all of them, as iptables-save prints them), then user chains by name, then the rules
 * chain by chain in that order. Chains without a table stay an excerpt of `-A` lines, whose
 * table shared/netfilter infers.
 */
function toSaveText(tables: readonly TableOut[], family: RuleFamily): { text: string; lineOf: number[] } {
  const out: string[] = [];
  const lineOf: number[] = [];
  const push = (s: string, n = 0) => {
    out.push(s);
    lineOf.push(n);
  };
  const pushRules = (c: ChainOut) => {
    for (let k = 0; k < c.rules.length; k++) push(c.rules[k]!, c.lines[k]);
  };
  // The header tells shared/netfilter the family and the nft backend; the version is not known.
  push(
    `# Generated by ${family === 'ip6' ? 'ip6' : 'ip'}tables-nft-save v0 (nf_tables), read back from nft list`,
  );
  for (const t of tables) {
    if (!t.name) {
      for (const c of t.chains) pushRules(c);
      continue;
    }
    const builtins = BUILTINS[t.name] ?? [];
    const byName = new Map(t.chains.map((c) => [c.name, c]));
    const ordered: ChainOut[] = [
      ...builtins.map((b) => byName.get(b) ?? { name: b, policy: 'ACCEPT', rules: [], lines: [] }),
      ...t.chains
        .filter((c) => !builtins.includes(c.name))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    ];
    push(`*${t.name}`);
    for (const c of ordered) push(`:${c.name} ${c.policy} [0:0]`);
    for (const c of ordered) pushRules(c);
    push('COMMIT');
  }
  return { text: `${out.join('\n')}\n`, lineOf };
}
