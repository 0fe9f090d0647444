// Which table does a headerless excerpt belong to? On-call engineers paste `iptables -t nat -S`
// output or `grep`ed lines of iptables-save into tickets: neither names its table. We name it only
// when the content leaves no doubt, from facts iptables itself enforces (nat-only targets, the set
// of built-in chains) and from the chain names kube-proxy always uses. Anything else is an error
// asking for the table, because reading filter rules as nat would draw a wrong packet path.

import { CHAIN_PREFIX } from '../vocabulary.js';
import { BUILTIN_CHAINS, BUILTIN_TABLES } from './known-names.js';
import type { BuiltinTable, Chain } from './model.js';

export type TableInference =
  | { readonly ok: true; readonly table: BuiltinTable; readonly reason: string }
  | { readonly ok: false; readonly line: number; readonly message: string };

interface Evidence {
  readonly tables: readonly BuiltinTable[];
  readonly what: string;
  readonly line: number;
}

const NAT_ONLY_TARGETS: ReadonlySet<string> = new Set(['DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'NETMAP']);
/** iptables refuses DROP in nat ("the nat table is not intended for filtering"). */
const NOT_NAT_TARGETS: ReadonlySet<string> = new Set(['DROP']);
/** The kernel's REJECT target is registered for the filter table only. */
const FILTER_ONLY_TARGETS: ReadonlySet<string> = new Set(['REJECT']);
const RAW_ONLY_TARGETS: ReadonlySet<string> = new Set(['CT', 'NOTRACK']);
const MANGLE_ONLY_TARGETS: ReadonlySet<string> = new Set(['TPROXY']);

const NAT_CHAIN_PREFIXES = [
  'KUBE-SVC-',
  'KUBE-SEP-',
  'KUBE-EXT-',
  'KUBE-SVL-',
  'KUBE-FW-',
  'KUBE-XLB-',
  CHAIN_PREFIX,
];
const NAT_CHAINS: ReadonlySet<string> = new Set([
  'KUBE-MARK-MASQ',
  'KUBE-MARK-DROP',
  'KUBE-POSTROUTING',
  'KUBE-LOAD-BALANCER',
  'KUBE-LOOP-BACK',
]);
/** kube-proxy creates these in both nat and filter; nat is what the app is about. */
const NAT_OR_FILTER_CHAINS: ReadonlySet<string> = new Set([
  'KUBE-SERVICES',
  'KUBE-NODEPORTS',
  'KUBE-NODE-PORT',
]);
const FILTER_CHAINS: ReadonlySet<string> = new Set([
  'KUBE-FORWARD',
  'KUBE-FIREWALL',
  'KUBE-EXTERNAL-SERVICES',
  'KUBE-PROXY-FIREWALL',
  'KUBE-SOURCE-RANGES-FIREWALL',
]);

function tablesWithChain(name: string): BuiltinTable[] {
  return BUILTIN_TABLES.filter((t) => BUILTIN_CHAINS[t].includes(name));
}

function chainEvidence(chain: Chain): Evidence | undefined {
  const name = chain.name;
  const line = chain.line ?? 1;
  const builtin = tablesWithChain(name);
  if (builtin.length > 0) return { tables: builtin, what: `chain ${name}`, line };
  if (NAT_CHAINS.has(name) || NAT_CHAIN_PREFIXES.some((p) => name.startsWith(p))) {
    return { tables: ['nat'], what: `chain ${name}`, line };
  }
  if (NAT_OR_FILTER_CHAINS.has(name)) return { tables: ['nat', 'filter'], what: `chain ${name}`, line };
  if (FILTER_CHAINS.has(name)) return { tables: ['filter'], what: `chain ${name}`, line };
  if (name === 'KUBE-IPTABLES-HINT') return { tables: ['mangle'], what: `chain ${name}`, line };
  return undefined;
}

function targetEvidence(name: string, line: number): Evidence | undefined {
  const what = `target ${name}`;
  if (NAT_ONLY_TARGETS.has(name)) return { tables: ['nat'], what, line };
  if (NOT_NAT_TARGETS.has(name)) return { tables: ['filter', 'mangle', 'raw', 'security'], what, line };
  if (FILTER_ONLY_TARGETS.has(name)) return { tables: ['filter'], what, line };
  if (RAW_ONLY_TARGETS.has(name)) return { tables: ['raw'], what, line };
  if (MANGLE_ONLY_TARGETS.has(name)) return { tables: ['mangle'], what, line };
  return undefined;
}

/**
 * `iptables -S` prints `-P` for every built-in chain of the table, so that set names the table;
 * a grep'd part of a listing has fewer `-P` lines: then any table with all of them fits.
 */
function policyEvidence(policyChains: readonly string[], line: number): Evidence | undefined {
  if (policyChains.length === 0) return undefined;
  const set = new Set(policyChains);
  const has = (t: BuiltinTable) => [...set].every((c) => BUILTIN_CHAINS[t].includes(c));
  const exact = BUILTIN_TABLES.filter((t) => has(t) && BUILTIN_CHAINS[t].length === set.size);
  const tables = exact.length > 0 ? exact : BUILTIN_TABLES.filter(has);
  return { tables, what: `policies of ${[...set].join(', ')}`, line };
}

/**
 * Infers the table of an excerpt from its chains (with their rules) and the chains that had a
 * `-P` policy line. Prefers nat over filter only for kube-proxy's shared chain names, and says so.
 */
export function inferExcerptTable(chains: readonly Chain[], policyChains: readonly string[]): TableInference {
  const evidence: Evidence[] = [];
  const firstLine = chains.reduce((min, c) => Math.min(min, c.line ?? 1), Number.POSITIVE_INFINITY);
  const policy = policyEvidence(policyChains, Number.isFinite(firstLine) ? firstLine : 1);
  if (policy) evidence.push(policy);
  for (const chain of chains) {
    const e = chainEvidence(chain);
    if (e) evidence.push(e);
    for (const rule of chain.rules) {
      const t = rule.target ? targetEvidence(rule.target.name, rule.line ?? 1) : undefined;
      if (t) evidence.push(t);
    }
  }
  let candidates: readonly BuiltinTable[] = BUILTIN_TABLES;
  for (const e of evidence) {
    const next = candidates.filter((t) => e.tables.includes(t));
    if (next.length === 0) {
      return {
        ok: false,
        line: e.line,
        message: `no table header, and the rules contradict each other (${e.what} cannot be in ${candidates.join('/')}); pass --table`,
      };
    }
    candidates = next;
  }
  const why = evidence.filter((e) => e.tables.length < BUILTIN_TABLES.length).map((e) => e.what);
  const reasons = [...new Set(why)].slice(0, 3).join(', ');
  const only = candidates.length === 1 ? candidates[0] : undefined;
  if (only) return { ok: true, table: only, reason: reasons };
  const sharedKubeChain = evidence.find((e) => e.tables.length === 2 && e.what.startsWith('chain KUBE-'));
  if (candidates.includes('nat') && sharedKubeChain) {
    return {
      ok: true,
      table: 'nat',
      reason: `${sharedKubeChain.what}, which kube-proxy also has in filter: pass --table filter if these are filter rules`,
    };
  }
  return {
    ok: false,
    line: Number.isFinite(firstLine) ? firstLine : 1,
    message: `no table header, and the rules could be in any of ${candidates.join(', ')}: pass --table (e.g. --table nat)`,
  };
}
