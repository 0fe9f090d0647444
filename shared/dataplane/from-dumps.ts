// NodeSigns from text a user pastes or `npg inspect --file` reads: an iptables-save dump (chain names
// only: `*table` headers, `:CHAIN` declarations, `-A CHAIN` lines; `iptables -S` output has no
// header, so its chains are `unplaced`), or `nft list` text (table names).
// Nothing else of the dump is interpreted here; the netfilter reader does that.
import type { Ruleset } from '../netfilter/model.js';
import type { IptablesSigns, NodeSigns } from './signs.js';

/**
 * The chain names of a parsed dump, per table: what the product uses (the one reader has read the
 * dump already). The text scanners below serve pastes the reader refuses (greps mixing tables).
 */
export function signsFromRuleset(ruleset: Ruleset): NodeSigns {
  return {
    iptables: {
      tables: Object.fromEntries(ruleset.tables.map((t) => [t.name, t.chains.map((c) => c.name)])),
      unplaced: [],
    },
  };
}

const TABLE_LINE = /^\*([a-z]+)\s*$/;
const DECLARE_LINE = /^:(\S+)\s/;
/** `-A`/`-I` of iptables-save and `-N`/`-A` of `iptables -S`. */
const APPEND_LINE = /^-[AIN]\s+(\S+)/;
/** Bounds: a dump has tens of thousands of chains at most; we keep names, not rules. */
const MAX_CHAINS = 200_000;

/**
 * The chain names of an iptables-save text, per table. Lines outside any `*table` block (a paste of
 * `iptables-save | grep …`) give `unplaced` names: the table they came from is not shown, and
 * neither is whether other chains exist.
 */
export function iptablesSignsFromSave(text: string): IptablesSigns {
  const tables = new Map<string, Set<string>>();
  const unplaced = new Set<string>();
  let current: Set<string> | undefined;
  let count = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const t = TABLE_LINE.exec(line);
    if (t) {
      const name = t[1]!;
      current = tables.get(name) ?? new Set();
      tables.set(name, current);
      continue;
    }
    if (line === 'COMMIT') {
      current = undefined;
      continue;
    }
    const m = DECLARE_LINE.exec(line) ?? APPEND_LINE.exec(line);
    if (!m) continue;
    if (++count > MAX_CHAINS) break;
    (current ?? unplaced).add(m[1]!);
  }
  return {
    tables: Object.fromEntries([...tables].map(([t, s]) => [t, [...s]])),
    unplaced: [...unplaced].filter((c) => ![...tables.values()].some((s) => s.has(c))),
  };
}

/** NodeSigns of an iptables-save dump (or ip6tables-save): only its chains are known. */
export function signsFromIptablesSave(text: string): NodeSigns {
  return { iptables: iptablesSignsFromSave(text) };
}

const NFT_TABLE_LINE =
  /^\s*(?:add\s+)?table\s+(ip|ip6|inet|arp|bridge|netdev)\s+([A-Za-z0-9_.-]+)\s*(?:\{.*)?$/;

/**
 * The nft tables an `nft list ruleset` / `nft list table` / `nft -f` text declares, as "family name".
 * (`nft -j` JSON is read by the nftables reader; its table objects give the same pairs.)
 */
export function nftTablesFromText(text: string): readonly string[] {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const m = NFT_TABLE_LINE.exec(line);
    if (m) out.add(`${m[1]} ${m[2]}`);
  }
  return [...out];
}
