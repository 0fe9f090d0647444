// What a node can show cheaply about the dataplane that serves its Services, without running
// cilium/calicoctl/bpftool: chain names, nft table names, names pinned under /sys/fs/bpf, process
// names, one define of Cilium's node config. Every field is optional: absent = not looked at,
// which is not the same as "looked and found nothing" (an empty list).
//
// The names we look for, and where each comes from, are in sign-names.ts.

/** iptables chain names, as a dump shows them. */
export interface IptablesSigns {
  /**
   * Chain names per table ('nat', 'filter', 'mangle', 'raw', 'security'), for each table whose
   * `*table` block was read. A table present here was read whole (its declarations are there);
   * a table absent was not read.
   */
  readonly tables: Readonly<Record<string, readonly string[]>>;
  /** Chain names met outside any `*table` block (a grep'd paste): their table is unknown. */
  readonly unplaced: readonly string[];
}

export interface NodeSigns {
  readonly iptables?: IptablesSigns;
  /** nft tables as "family name" ("ip kube-proxy", "inet nodeport-guard"). */
  readonly nftTables?: readonly string[];
  /** The names we look for directly under /sys/fs/bpf ("cilium", "tc", "tcx"). */
  readonly bpffs?: readonly string[];
  /** The pinned maps we look for under /sys/fs/bpf/tc/globals ("cilium_lb4_services_v2", "cali_v4_nat_fe3"). */
  readonly bpfGlobals?: readonly string[];
  /** BPF links Cilium pinned per device, "device:name" (/sys/fs/bpf/cilium/devices/DEV/links/NAME). */
  readonly ciliumLinks?: readonly string[];
  /** The process names (/proc/PID/comm) we look for that run on the node. */
  readonly processes?: readonly string[];
  /** The defines we look for that Cilium's node_config.h has ("ENABLE_NODEPORT"). */
  readonly ciliumDefines?: readonly string[];
}

/** Several partial readings of one node as one (later lists are added to earlier ones). */
export function mergeNodeSigns(...parts: readonly NodeSigns[]): NodeSigns {
  const out: {
    iptables?: IptablesSigns;
    nftTables?: readonly string[];
    bpffs?: readonly string[];
    bpfGlobals?: readonly string[];
    ciliumLinks?: readonly string[];
    processes?: readonly string[];
    ciliumDefines?: readonly string[];
  } = {};
  const union = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
    b === undefined ? a : [...new Set([...(a ?? []), ...b])];
  for (const p of parts) {
    if (p.iptables) out.iptables = mergeIptables(out.iptables, p.iptables);
    out.nftTables = union(out.nftTables, p.nftTables);
    out.bpffs = union(out.bpffs, p.bpffs);
    out.bpfGlobals = union(out.bpfGlobals, p.bpfGlobals);
    out.ciliumLinks = union(out.ciliumLinks, p.ciliumLinks);
    out.processes = union(out.processes, p.processes);
    out.ciliumDefines = union(out.ciliumDefines, p.ciliumDefines);
  }
  for (const k of Object.keys(out) as (keyof typeof out)[]) if (out[k] === undefined) delete out[k];
  return out;
}

function mergeIptables(a: IptablesSigns | undefined, b: IptablesSigns): IptablesSigns {
  if (!a) return b;
  const tables: Record<string, readonly string[]> = { ...a.tables };
  for (const [t, chains] of Object.entries(b.tables)) {
    tables[t] = [...new Set([...(tables[t] ?? []), ...chains])];
  }
  return { tables, unplaced: [...new Set([...a.unplaced, ...b.unplaced])] };
}
