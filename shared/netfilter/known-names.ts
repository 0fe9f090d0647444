// What iptables itself knows: tables and their built-in chains, target extensions, and the full
// option lists of the match/target modules the rest of the app reasons about. Kept apart from the
// parser so that the parser, the decoder and the serializer agree on one list.

import type { BuiltinTable } from './model.js';

export const BUILTIN_TABLES: readonly BuiltinTable[] = ['raw', 'mangle', 'nat', 'filter', 'security'];

/** Built-in chains per table, in the order iptables lists them. */
export const BUILTIN_CHAINS: Readonly<Record<BuiltinTable, readonly string[]>> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

const ALL_BUILTIN_CHAINS: ReadonlySet<string> = new Set([
  'PREROUTING',
  'INPUT',
  'FORWARD',
  'OUTPUT',
  'POSTROUTING',
]);

export function isBuiltinTable(name: string): name is BuiltinTable {
  return (BUILTIN_TABLES as readonly string[]).includes(name);
}

/** A built-in chain name of any table (tables without that chain are rejected by iptables). */
export function isBuiltinChainName(name: string): boolean {
  return ALL_BUILTIN_CHAINS.has(name);
}

/**
 * Target extensions shipped with iptables (plus the four standard verdicts). Any other `-j NAME`
 * without options is taken to be a user chain; a `-j NAME --option` is always an extension.
 */
const BUILTIN_TARGETS: ReadonlySet<string> = new Set([
  'ACCEPT',
  'DROP',
  'QUEUE',
  'RETURN',
  'AUDIT',
  'CHECKSUM',
  'CLASSIFY',
  'CLUSTERIP',
  'CONNMARK',
  'CONNSECMARK',
  'CT',
  'DNAT',
  'DNPT',
  'DSCP',
  'ECN',
  'HL',
  'HMARK',
  'IDLETIMER',
  'LED',
  'LOG',
  'MARK',
  'MASQUERADE',
  'MIRROR',
  'NETMAP',
  'NFLOG',
  'NFQUEUE',
  'NOTRACK',
  'RATEEST',
  'REDIRECT',
  'REJECT',
  'SAME',
  'SECMARK',
  'SET',
  'SNAT',
  'SNPT',
  'SYNPROXY',
  'TCPMSS',
  'TCPOPTSTRIP',
  'TEE',
  'TOS',
  'TPROXY',
  'TRACE',
  'TTL',
  'ULOG',
]);

export function isBuiltinTarget(name: string): boolean {
  return BUILTIN_TARGETS.has(name);
}

/** Rule-level options, short and long spellings, mapped to their short letter. */
export type GlobalOption = 'p' | 's' | 'd' | 'i' | 'o' | 'f' | 'm' | 'j' | 'g' | 'c';

export const GLOBAL_OPTIONS: ReadonlyMap<string, GlobalOption> = new Map<string, GlobalOption>([
  ['-p', 'p'],
  ['--protocol', 'p'],
  ['-s', 's'],
  ['--source', 's'],
  ['--src', 's'],
  ['-d', 'd'],
  ['--destination', 'd'],
  ['--dst', 'd'],
  ['-i', 'i'],
  ['--in-interface', 'i'],
  ['-o', 'o'],
  ['--out-interface', 'o'],
  ['-f', 'f'],
  ['--fragment', 'f'],
  ['-m', 'm'],
  ['--match', 'm'],
  ['-j', 'j'],
  ['--jump', 'j'],
  ['-g', 'g'],
  ['--goto', 'g'],
  ['-c', 'c'],
  ['--set-counters', 'c'],
]);

/**
 * Complete option lists (without dashes) of the modules whose options we check. A typo such as
 * `--dprot` in one of these is an error, not a silently kept option; modules not listed here keep
 * whatever options they are given, verbatim.
 */
const MATCH_OPTIONS: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  Object.entries({
    tcp: ['sport', 'dport', 'source-port', 'destination-port', 'tcp-flags', 'syn', 'tcp-option'],
    udp: ['sport', 'dport', 'source-port', 'destination-port'],
    sctp: ['sport', 'dport', 'source-port', 'destination-port', 'chunk-types'],
    comment: ['comment'],
    multiport: ['sports', 'dports', 'ports', 'source-ports', 'destination-ports'],
    addrtype: ['src-type', 'dst-type', 'limit-iface-in', 'limit-iface-out'],
    mark: ['mark'],
    statistic: ['mode', 'probability', 'every', 'packet'],
  }).map(([k, v]) => [k, new Set(v)]),
);

const TARGET_OPTIONS: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  Object.entries({
    ACCEPT: [],
    DROP: [],
    RETURN: [],
    DNAT: ['to-destination', 'random', 'random-fully', 'persistent'],
    SNAT: ['to-source', 'random', 'random-fully', 'persistent'],
    MASQUERADE: ['to-ports', 'random', 'random-fully'],
    REDIRECT: ['to-ports', 'random'],
    MARK: ['set-xmark', 'set-mark', 'and-mark', 'or-mark', 'xor-mark'],
    REJECT: ['reject-with'],
  }).map(([k, v]) => [k, new Set(v)]),
);

/** Undefined when the module's options are not checked (kept verbatim). */
export function knownMatchOptions(module: string): ReadonlySet<string> | undefined {
  return MATCH_OPTIONS.get(module);
}

export function knownTargetOptions(target: string): ReadonlySet<string> | undefined {
  return TARGET_OPTIONS.get(target);
}

/** The names knownTargetOptions knows: short words without a dash (rule-check.ts relies on it). */
export const KNOWN_OPTION_TARGETS: readonly string[] = [...TARGET_OPTIONS.keys()];
export const LONGEST_KNOWN_OPTION_TARGET = Math.max(...KNOWN_OPTION_TARGETS.map((t) => t.length));

/** Protocols whose match module iptables loads implicitly for `-p PROTO --dport ...`. */
export const IMPLICIT_PROTOCOL_MATCHES: ReadonlySet<string> = new Set([
  'tcp',
  'udp',
  'sctp',
  'udplite',
  'dccp',
  'icmp',
  'icmp6',
]);

/**
 * Options iptables-save prints through xtables_save_string (always quoted unless plain
 * `[A-Za-z0-9_-]`), so the serializer quotes them the same way.
 */
export const STRING_OPTIONS: ReadonlySet<string> = new Set([
  'comment',
  'log-prefix',
  'nflog-prefix',
  'string',
  'hex-string',
  'u32',
  'helper',
]);
