// Read the node's nft guard back: `nft -j list table inet nodeport-guard` into an NftGuardState, and
// `nft -j list chains` into the node's base chains (priority check). The JSON is read by the project's
// one libnftables-json reader (shared/nftables/read-json.ts), which bounds the untrusted text, checks
// every field's type and keeps control characters out; this file is only what the guard makes of that
// model. Any surprise is a typed error value, never a thrown exception.
//
// Rules of ours are recognised by their exact statement list (what ruleText renders, as nft prints it
// back: `meta l4proto tcp th dport` is listed as `tcp dport`); any other rule in our table is kept as
// `foreign`, so plan removes it and verify names it.
import type { Counters } from '../../netfilter/model';
import { NftSyntaxError, type NftSyntaxKind } from '../../nftables/errors';
import type {
  NftChain,
  NftRule,
  NftRuleset,
  NftSet,
  NftStatement,
  NftTable,
  NftValue,
} from '../../nftables/model';
import { readNftJson } from '../../nftables/read-json';
import type { Family, Protocol } from '../../vocabulary';
import { isProtocol } from '../../vocabulary';
import { type CidrValue, compareCidrs, toCidr } from '../cidr';
import type { NftAction, NftGuardState, NftHandle, NftStateChain, NftStateRule, NftStateSet } from './model';
import { NFT_TABLE, NFT_TABLE_FAMILY, NFT_TABLE_REF } from './names';

/** Bigger than any real guard table (1,000 ports x 1,000 prefixes is ~40 MB of JSON would be absurd). */
export const NFT_READ_LIMITS = {
  maxChars: 16 * 1024 * 1024,
  maxObjects: 100_000,
  maxElementsPerSet: 200_000,
  maxExprPerRule: 64,
} as const;

export type NftReadErrorKind = 'too-large' | 'not-json' | 'bad-shape' | 'wrong-table';

export interface NftReadError {
  readonly kind: NftReadErrorKind;
  /** One line, naming where in the output the problem is (`nftables[3] (rule): ...`, `set allow-...: ...`). */
  readonly message: string;
}

export type NftReadResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: NftReadError };

class GuardReadError {
  constructor(
    readonly kind: NftReadErrorKind,
    readonly message: string,
  ) {}
}

function fail(message: string, kind: NftReadErrorKind = 'bad-shape'): never {
  throw new GuardReadError(kind, message);
}

const READ_KIND: Readonly<Record<NftSyntaxKind, NftReadErrorKind>> = {
  syntax: 'bad-shape',
  'too-large': 'too-large',
  'not-json': 'not-json',
};

function guarded<T>(fn: () => T): NftReadResult<T> {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    if (e instanceof GuardReadError) return { ok: false, error: { kind: e.kind, message: e.message } };
    if (e instanceof NftSyntaxError)
      return { ok: false, error: { kind: READ_KIND[e.kind], message: e.message } };
    // Anything else (a stack overflow on absurd nesting, say) is still the node's output's fault.
    return {
      ok: false,
      error: { kind: 'bad-shape', message: `output: unreadable (${String(e).slice(0, 120)})` },
    };
  }
}

/** The listing read with the guard's bounds, which are far tighter than a whole ruleset's. */
function readListing(text: string, impliedTables: boolean): NftRuleset {
  return readNftJson(text, {
    maxInput: NFT_READ_LIMITS.maxChars,
    maxObjects: NFT_READ_LIMITS.maxObjects,
    impliedTables,
  });
}

/**
 * Parse `nft -j list table inet nodeport-guard`. Output without our table object reads as absent
 * (when the table does not exist nft exits 1 with "No such file or directory": see isNoSuchTableError).
 */
export function parseNftGuardTable(text: string): NftReadResult<NftGuardState> {
  return guarded(() => {
    const { tables } = readListing(text, false);
    const foreign = tables.find((t) => t.family !== NFT_TABLE_FAMILY || t.name !== NFT_TABLE);
    if (foreign)
      fail(
        `table ${foreign.family} ${foreign.name.slice(0, 80)} is not our table ${NFT_TABLE_REF}`,
        'wrong-table',
      );
    const table = tables[0];
    return table ? guardState(table) : ({ table: 'absent' } as const);
  });
}

function guardState(table: NftTable): NftGuardState {
  const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const others = [
    ...table.sets.filter((s) => s.kind === 'map').map((m) => `map ${m.name}`),
    ...(table.others ?? []).map((o) => `${o.kind} ${o.name || '?'}`),
  ].map((o) => o.slice(0, 120));
  return {
    table: 'present',
    chains: table.chains.map(stateChain).sort(byName),
    sets: table.sets
      .filter((s) => s.kind === 'set')
      .map(stateSet)
      .sort(byName),
    others: others.sort(),
  };
}

function stateChain(c: NftChain): NftStateChain {
  return dropUndefined({
    name: c.name,
    handle: c.handle as NftHandle | undefined,
    type: c.base?.type,
    hook: c.base?.hook,
    prio: c.base?.priority,
    policy: c.base?.policy,
    rules: c.rules.map((r) => stateRule(r, c.name)),
  });
}

function stateSet(s: NftSet): NftStateSet {
  if (s.elements.length > NFT_READ_LIMITS.maxElementsPerSet)
    fail(
      `set ${s.name}: ${s.elements.length} elements, more than ${NFT_READ_LIMITS.maxElementsPerSet}`,
      'too-large',
    );
  // Addresses and prefixes as normalised CIDRs; anything else (a range, a concatenation) as nft shows it.
  const cidrs: CidrValue[] = [];
  const texts: string[] = [];
  for (const e of s.elements) {
    const text = e.key.join(' . ');
    const cidr = e.key.length === 1 ? toCidr(text) : undefined;
    if (cidr) cidrs.push(cidr);
    else texts.push(text.slice(0, 120));
  }
  return dropUndefined({
    name: s.name,
    handle: s.handle as NftHandle | undefined,
    type: s.type.join(' . '),
    flags: [...s.flags].sort(),
    elements: [...cidrs.sort(compareCidrs).map((c) => c.cidr as string), ...texts.sort()],
  });
}

/** A counter's values change with every packet; a foreign rule's text must not (it is hashed). */
const COUNTER_VALUES = /\bcounter packets \d+ bytes \d+/g;

function stateRule(r: NftRule, chain: string): NftStateRule {
  if (r.statements.length > NFT_READ_LIMITS.maxExprPerRule)
    fail(
      `chain ${chain}, rule handle ${r.handle ?? '?'}: ${r.statements.length} expressions, more than ${NFT_READ_LIMITS.maxExprPerRule}`,
      'too-large',
    );
  const handle = r.handle as NftHandle | undefined;
  const guard = r.comment === undefined ? undefined : guardRule(r.statements);
  if (guard && r.comment !== undefined)
    return dropUndefined({ kind: 'guard', ...guard, comment: r.comment, handle });
  const text = r.text.replace(COUNTER_VALUES, 'counter').slice(0, 400);
  return dropUndefined({ kind: 'foreign', handle, comment: r.comment, text });
}

interface GuardParts {
  protocol: Protocol;
  port: number;
  family: Family;
  set: string;
  action: NftAction;
  counters?: Counters;
}

/** The parts of one of our rules, when the statements are exactly that shape; undefined otherwise. */
function guardRule(statements: readonly NftStatement[]): GuardParts | undefined {
  const items = [...statements];
  let l4: string | undefined;
  let nfproto: string | undefined;
  // An implicit dependency that some nft versions print: `meta l4proto tcp`, `meta nfproto ipv4`.
  while (items.length > 0) {
    const m = matchOf(items[0], '==');
    if (m?.field === 'meta l4proto' && m.right.kind === 'literal') l4 = m.right.text;
    else if (m?.field === 'meta nfproto' && m.right.kind === 'literal') nfproto = m.right.text;
    else break;
    items.shift();
  }
  const [dport, fib, saddr, counter, action, ...rest] = items;
  if (rest.length > 0) return undefined;
  const d = matchOf(dport, '==');
  const protocol = /^([a-z]+) dport$/.exec(d?.field ?? '')?.[1];
  if (!d || protocol === undefined || !isProtocol(protocol)) return undefined;
  const port = d.right.kind === 'literal' ? portOf(d.right.text) : undefined;
  if (port === undefined) return undefined;
  if (l4 !== undefined && l4 !== protocol) return undefined;
  const f = matchOf(fib, '==');
  if (f?.field !== 'fib daddr type' || f.right.kind !== 'literal' || f.right.text !== 'local')
    return undefined;
  const s = matchOf(saddr, '!=');
  const family: Family | undefined =
    s?.field === 'ip saddr' ? 'ipv4' : s?.field === 'ip6 saddr' ? 'ipv6' : undefined;
  if (!s || family === undefined || s.right.kind !== 'set') return undefined;
  if (s.right.name === '' || s.right.name.length > 255) return undefined;
  if (nfproto !== undefined && nfproto !== family) return undefined;
  if (counter?.kind !== 'counter') return undefined;
  let act: NftAction;
  if (action === undefined) act = { kind: 'count' };
  else {
    // Only a bare `redirect to :PORT`: flags or a port range make it some other rule.
    if (action.kind !== 'redirect' || action.port === undefined) return undefined;
    const to = portOf(String(action.port));
    if (to === undefined || action.text !== `redirect to :${to}`) return undefined;
    act = { kind: 'redirect', port: to };
  }
  return { protocol, port, family, set: s.right.name, action: act, counters: counter.counters };
}

/** A match of one plain field (`tcp dport`, `fib daddr type`) with `op`. */
function matchOf(
  s: NftStatement | undefined,
  op: '==' | '!=',
): { readonly field: string; readonly right: NftValue } | undefined {
  if (s?.kind !== 'match' || s.op !== op || s.left.numgen || s.left.parts.length !== 1) return undefined;
  return { field: s.left.parts[0]!, right: s.right };
}

function portOf(text: string): number | undefined {
  if (!/^[1-9]\d{0,4}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65_535 ? port : undefined;
}

/** A base chain anywhere on the node, from `nft -j list chains`. */
export interface NftBaseChain {
  readonly family: string;
  readonly table: string;
  readonly name: string;
  readonly type: string;
  readonly hook: string;
  readonly prio: number;
}

/** Parse `nft -j list chains`: every base chain of every table (regular chains are left out). */
export function parseNftBaseChains(text: string): NftReadResult<readonly NftBaseChain[]> {
  return guarded(() =>
    // `list chains` prints no table objects: each chain names its table.
    readListing(text, true).tables.flatMap((t) =>
      t.chains.flatMap((c) =>
        c.base
          ? [
              {
                family: t.family,
                table: t.name,
                name: c.name,
                type: c.base.type,
                hook: c.base.hook,
                prio: c.base.priority,
              },
            ]
          : [],
      ),
    ),
  );
}

/** nft's error when the table does not exist (`nft list table ...` exits 1 with this on stderr). */
export function isNoSuchTableError(stderr: string): boolean {
  return /^Error: No such file or directory/m.test(stderr);
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
