// One kube-proxy sync as data: per table, the chain lines (which flush the chain in
// iptables-restore --noflush) and the rules, each in the order kube-proxy writes them.

export interface TableParts {
  /** `:KUBE-SERVICES - [0:0]` lines. */
  readonly chains: readonly string[];
  /** `-A CHAIN ...` lines (and `-X CHAIN` for chains being deleted). */
  readonly rules: readonly string[];
}

export interface SyncParts {
  /** iptables mode writes filter then nat; ipvs mode nat then filter. */
  readonly order: readonly ('filter' | 'nat')[];
  readonly filter: TableParts;
  readonly nat: TableParts;
}

/** The text kube-proxy pipes into `iptables-restore -w 5 -W 100000 --noflush --counters`. */
export function renderSync(parts: SyncParts): string {
  let out = '';
  for (const table of parts.order) {
    const t = parts[table];
    out += `*${table}\n`;
    for (const line of t.chains) out += `${line}\n`;
    for (const line of t.rules) out += `${line}\n`;
    out += 'COMMIT\n';
  }
  return out;
}
