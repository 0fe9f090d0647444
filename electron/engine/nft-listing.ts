// The nft listing of our chains (QUICK_SCRIPT, and READ_SCRIPT before a guard read) as data, pure:
// a fingerprint that changes with any rule added, deleted, replaced or moved (rule handles are in
// it; counters are not), and the rules' counters in order, to bring an earlier `iptables -S -v`
// read up to date when the fingerprint says nothing else changed.

import type { Family } from '../../shared/vocabulary.js';
import type { ScriptOutput, Section } from './sections.js';

export interface RuleCounters {
  readonly packets: number;
  readonly bytes: number;
}

const COUNTER = /\bcounter packets (\d+) bytes (\d+)/;

/** The listing without its counters. */
export function nftFingerprint(text: string): string {
  return text.replace(/\bcounter packets \d+ bytes \d+/g, 'counter');
}

/**
 * Per family and chain, the counters of its rules in listing order; undefined when a rule has
 * no counter (not written by iptables-nft: the listing cannot stand in for a read).
 */
export function nftCounters(text: string): Map<Family, Map<string, RuleCounters[]>> | undefined {
  const out = new Map<Family, Map<string, RuleCounters[]>>();
  let family: Family | undefined;
  let chain: RuleCounters[] | undefined;
  for (const line of text.split('\n')) {
    const table = /^table (ip6?) nat \{$/.exec(line);
    if (table) {
      family = table[1] === 'ip6' ? 'ipv6' : 'ipv4';
      chain = undefined;
      continue;
    }
    const head = /^\tchain (\S+) \{/.exec(line);
    if (head && family) {
      const chains = out.get(family) ?? new Map<string, RuleCounters[]>();
      out.set(family, chains);
      chain = [];
      chains.set(head[1]!, chain);
      continue;
    }
    if (chain && /^\t\t.*# handle \d+$/.test(line)) {
      const c = COUNTER.exec(line);
      if (!c) return undefined;
      chain.push({ packets: Number(c[1]), bytes: Number(c[2]) });
    }
  }
  return out;
}

/**
 * An `iptables -S -v` excerpt with each rule's ` -c PACKETS BYTES` replaced by the listing's, rule
 * by rule per chain; undefined unless every chain of the excerpt has exactly as many rules there.
 */
export function spliceCounters(
  text: string,
  counters: ReadonlyMap<string, readonly RuleCounters[]>,
): string | undefined {
  const used = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const rule = /^-A (\S+) /.exec(line);
    if (!rule) continue;
    const name = rule[1]!;
    const n = used.get(name) ?? 0;
    const c = counters.get(name)?.[n];
    if (!c || !/ -c \d+ \d+/.test(line)) return undefined;
    used.set(name, n + 1);
    // The last ` -c N N` is iptables' counter (see withoutCounters in snapshot.ts).
    lines[i] = line.replace(/^(.*) -c \d+ \d+/, `$1 -c ${c.packets} ${c.bytes}`);
  }
  for (const name of used.keys()) if ((counters.get(name)?.length ?? 0) !== used.get(name)) return undefined;
  return lines.join('\n');
}

const FAMILY_SECTION: Readonly<Record<Family, string>> = { ipv4: 'v4', ipv6: 'v6' };

/**
 * A guard read brought up to date by a quick read: when the quick listing equals the one taken
 * before the read (counters aside), the read's sections with the new counters, listening sockets
 * and pending state; otherwise undefined (read again).
 */
export function refreshedOutput(read: ScriptOutput, quick: ScriptOutput): ScriptOutput | undefined {
  const before = read.sections.get('nft');
  const now = quick.sections.get('nft');
  if (!before || !now || before.rc !== 0 || now.rc !== 0 || before.body.trim() === '') return undefined;
  if (nftFingerprint(before.body) !== nftFingerprint(now.body)) return undefined;
  const counters = nftCounters(now.body);
  if (!counters) return undefined;
  const sections = new Map<string, Section>();
  for (const [name, s] of read.sections)
    if (!name.startsWith('state:') && name !== 'listen') sections.set(name, s);
  for (const family of ['ipv4', 'ipv6'] as const) {
    const name = FAMILY_SECTION[family];
    const s = read.sections.get(name);
    if (s?.rc !== 0) continue;
    const body = spliceCounters(s.body, counters.get(family) ?? new Map());
    if (body === undefined) return undefined;
    sections.set(name, { ...s, body });
  }
  for (const [name, s] of quick.sections)
    if (name.startsWith('state:') || name === 'listen') sections.set(name, s);
  const markers = new Map(read.markers);
  for (const key of ['now', 'guard-other-backend']) {
    const v = quick.markers.get(key);
    if (v) markers.set(key, v);
    else markers.delete(key);
  }
  return { sections, markers, events: read.events };
}
