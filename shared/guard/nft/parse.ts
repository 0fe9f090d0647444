// Read the node's nft guard back: `nft -j list table inet nodeport-guard` (libnftables-json(5)) into
// an NftGuardState, and `nft -j list chains` into the node's base chains (priority check). The text
// comes from the node and is untrusted: its size and counts are bounded, every field is type-checked,
// and any surprise is a typed error value, never a thrown exception.
//
// Rules of ours are recognised by their exact expression list (what ruleText renders, as nft prints it
// back: `meta l4proto tcp th dport` is listed as `tcp dport`); any other rule in our table is kept as
// `foreign`, so plan removes it and verify names it.
import type { Counters } from '../../netfilter/model';
import type { Family, Protocol } from '../../vocabulary';
import { isProtocol } from '../../vocabulary';
import { type CidrValue, compareCidrs, toCidr } from '../cidr';
import type { NftAction, NftGuardState, NftHandle, NftStateChain, NftStateRule, NftStateSet } from './model';
import { NFT_PRIORITY, NFT_TABLE, NFT_TABLE_FAMILY } from './names';

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
  /** One line, naming where in the output the problem is (`nftables[3].rule.expr[2]: ...`). */
  readonly message: string;
}

export type NftReadResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: NftReadError };

type Json = unknown;
type Obj = { readonly [k: string]: Json };

class ShapeError {
  constructor(
    readonly kind: NftReadErrorKind,
    readonly message: string,
  ) {}
}

const isObj = (v: Json): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(path: string, what: string, kind: NftReadErrorKind = 'bad-shape'): never {
  throw new ShapeError(kind, `${path}: ${what}`);
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** A string field: bounded, and one line (names and comments end up in one-line messages). */
function str(o: Obj, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length > 4096) fail(`${path}.${key}`, 'expected a string');
  if (CONTROL.test(v)) fail(`${path}.${key}`, 'contains a control character');
  return v;
}

function optStr(o: Obj, key: string, path: string): string | undefined {
  return o[key] === undefined ? undefined : str(o, key, path);
}

function int(o: Obj, key: string, path: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(`${path}.${key}`, 'expected an integer');
  return v;
}

function optHandle(o: Obj, path: string): NftHandle | undefined {
  return o.handle === undefined ? undefined : (int(o, 'handle', path) as NftHandle);
}

/** The objects of `{"nftables": [...]}`, each as [kind, body], metainfo dropped. */
function listObjects(text: string): [string, Obj, string][] {
  if (text.length > NFT_READ_LIMITS.maxChars)
    fail('output', `${text.length} characters, more than ${NFT_READ_LIMITS.maxChars}`, 'too-large');
  let root: Json;
  try {
    root = JSON.parse(text);
  } catch (e) {
    fail('output', `not JSON (${e instanceof Error ? e.message.slice(0, 120) : 'parse error'})`, 'not-json');
  }
  if (!isObj(root) || !Array.isArray(root.nftables)) fail('output', 'expected {"nftables": [...]}');
  const list = root.nftables as Json[];
  if (list.length > NFT_READ_LIMITS.maxObjects)
    fail('nftables', `${list.length} objects, more than ${NFT_READ_LIMITS.maxObjects}`, 'too-large');
  const out: [string, Obj, string][] = [];
  list.forEach((item, i) => {
    const path = `nftables[${i}]`;
    if (!isObj(item)) fail(path, 'expected an object');
    const keys = Object.keys(item);
    if (keys.length !== 1) fail(path, `expected one key, got ${keys.length}`);
    const kind = keys[0]!;
    const body = item[kind];
    if (!isObj(body)) fail(`${path}.${kind}`, 'expected an object');
    if (kind !== 'metainfo') out.push([kind, body, `${path}.${kind}`]);
  });
  return out;
}

function guarded<T>(fn: () => T): NftReadResult<T> {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    if (e instanceof ShapeError) return { ok: false, error: { kind: e.kind, message: e.message } };
    // Anything else (a stack overflow on absurd nesting, say) is still the node's output's fault.
    return {
      ok: false,
      error: { kind: 'bad-shape', message: `output: unreadable (${String(e).slice(0, 120)})` },
    };
  }
}

/**
 * Parse `nft -j list table inet nodeport-guard`. Output without our table object reads as absent
 * (when the table does not exist nft exits 1 with "No such file or directory": see isNoSuchTableError).
 */
export function parseNftGuardTable(text: string): NftReadResult<NftGuardState> {
  return guarded(() => {
    const objects = listObjects(text);
    let present = false;
    const chains = new Map<string, { chain: Omit<NftStateChain, 'rules'>; rules: NftStateRule[] }>();
    const pendingRules: [string, NftStateRule][] = [];
    const sets: NftStateSet[] = [];
    const others: string[] = [];
    for (const [kind, body, path] of objects) {
      const family = str(body, 'family', path);
      const table = kind === 'table' ? str(body, 'name', path) : str(body, 'table', path);
      if (family !== NFT_TABLE_FAMILY || table !== NFT_TABLE)
        fail(path, `${family} ${table} is not our table ${NFT_TABLE_FAMILY} ${NFT_TABLE}`, 'wrong-table');
      switch (kind) {
        case 'table':
          present = true;
          break;
        case 'chain': {
          const chain = readChain(body, path);
          chains.set(chain.name, { chain, rules: [] });
          break;
        }
        case 'rule':
          pendingRules.push([str(body, 'chain', path), readRule(body, path)]);
          break;
        case 'set':
          sets.push(readSet(body, path));
          break;
        default:
          others.push(`${kind} ${typeof body.name === 'string' ? body.name.slice(0, 80) : '?'}`);
      }
    }
    if (!present) {
      if (objects.length > 0) fail('nftables', 'objects of our table but no table object');
      return { table: 'absent' } as const;
    }
    for (const [chain, rule] of pendingRules) {
      const c = chains.get(chain);
      if (!c) fail('nftables', `a rule of chain ${JSON.stringify(chain.slice(0, 80))}, which is not listed`);
      c.rules.push(rule);
    }
    const byName = <T extends { name: string }>(a: T, b: T) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    return {
      table: 'present',
      chains: [...chains.values()].map((c) => ({ ...c.chain, rules: c.rules })).sort(byName),
      sets: sets.sort(byName),
      others: others.sort(),
    } as const;
  });
}

function readChain(o: Obj, path: string): Omit<NftStateChain, 'rules'> {
  const base = { name: str(o, 'name', path), handle: optHandle(o, path) };
  if (o.hook === undefined) return dropUndefined(base);
  return dropUndefined({
    ...base,
    type: str(o, 'type', path),
    hook: str(o, 'hook', path),
    prio: priority(o.prio, `${path}.prio`),
    policy: optStr(o, 'policy', path),
  });
}

/** JSON gives a number; older or hand-written output may use nft's symbolic form (`dstnat - 10`). */
export function priority(v: Json, path: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'string') {
    const m = /^\s*([a-z]+)\s*(?:([+-])\s*(\d{1,6}))?\s*$/.exec(v);
    const base = m ? (NFT_PRIORITY as Readonly<Record<string, number>>)[m[1]!] : undefined;
    if (m && base !== undefined) return base + (m[2] === '-' ? -1 : 1) * Number(m[3] ?? 0);
    if (/^\s*-?\d{1,9}\s*$/.test(v)) return Number(v);
  }
  return fail(path, `not a chain priority: ${JSON.stringify(v).slice(0, 40)}`);
}

function readSet(o: Obj, path: string): NftStateSet {
  const name = str(o, 'name', path);
  const type = Array.isArray(o.type)
    ? o.type
        .map((t, i) => (typeof t === 'string' ? t : fail(`${path}.type[${i}]`, 'expected a string')))
        .join(' . ')
    : str(o, 'type', path);
  const rawFlags = o.flags === undefined ? [] : o.flags;
  if (!Array.isArray(rawFlags) || !rawFlags.every((f) => typeof f === 'string'))
    fail(`${path}.flags`, 'expected a list of strings');
  const elem = o.elem === undefined ? [] : o.elem;
  if (!Array.isArray(elem)) fail(`${path}.elem`, 'expected a list');
  if (elem.length > NFT_READ_LIMITS.maxElementsPerSet)
    fail(
      `${path}.elem`,
      `${elem.length} elements, more than ${NFT_READ_LIMITS.maxElementsPerSet}`,
      'too-large',
    );
  const parsed = elem.map((e, i) => element(e, `${path}.elem[${i}]`));
  const cidrs = parsed.flatMap((p) => (typeof p === 'string' ? [] : [p]));
  const raw = parsed.filter((p): p is string => typeof p === 'string');
  const elements = [...cidrs.sort(compareCidrs).map((c) => c.cidr as string), ...raw.sort()];
  return dropUndefined({ name, handle: optHandle(o, path), type, flags: [...rawFlags].sort(), elements });
}

/** An element as a normalised CIDR, or as text when it is not an address or prefix (a range, say). */
function element(e: Json, path: string): CidrValue | string {
  if (typeof e === 'string') return toCidr(e) ?? `?${e.slice(0, 80)}`;
  if (isObj(e)) {
    if (isObj(e.prefix)) {
      const addr = str(e.prefix, 'addr', `${path}.prefix`);
      const len = int(e.prefix, 'len', `${path}.prefix`);
      return toCidr(`${addr}/${len}`) ?? `?${addr.slice(0, 80)}/${len}`;
    }
    // `{"elem": {"val": ..., "counter": ..., "comment": ...}}`: an element with its own statements.
    if (isObj(e.elem)) return element(e.elem.val, `${path}.elem.val`);
    if (Array.isArray(e.range) && e.range.length === 2)
      return `range ${e.range.map((x) => (typeof x === 'string' ? x.slice(0, 60) : '?')).join('-')}`;
  }
  return `?${JSON.stringify(e).slice(0, 80)}`;
}

function readRule(o: Obj, path: string): NftStateRule {
  const handle = optHandle(o, path);
  const comment = optStr(o, 'comment', path);
  const expr = o.expr;
  if (!Array.isArray(expr)) fail(`${path}.expr`, 'expected a list');
  if (expr.length > NFT_READ_LIMITS.maxExprPerRule)
    fail(
      `${path}.expr`,
      `${expr.length} expressions, more than ${NFT_READ_LIMITS.maxExprPerRule}`,
      'too-large',
    );
  const guard = comment === undefined ? undefined : guardRule(expr);
  if (guard && comment !== undefined) return dropUndefined({ kind: 'guard', ...guard, comment, handle });
  return dropUndefined({ kind: 'foreign', handle, comment, text: JSON.stringify(expr).slice(0, 400) });
}

interface GuardParts {
  protocol: Protocol;
  port: number;
  family: Family;
  set: string;
  action: NftAction;
  counters?: Counters;
}

/** The parts of one of our rules, when `expr` is exactly that shape; undefined otherwise. */
function guardRule(expr: readonly Json[]): GuardParts | undefined {
  const items = [...expr];
  let l4: string | undefined;
  let nfproto: string | undefined;
  // An implicit dependency that some nft versions print: `meta l4proto tcp`, `meta nfproto ipv4`.
  while (items.length > 0) {
    const m = metaMatch(items[0]);
    if (!m) break;
    if (m.key === 'l4proto') l4 = m.value;
    else nfproto = m.value;
    items.shift();
  }
  const [dport, fib, saddr, counter, action, ...rest] = items;
  if (rest.length > 0) return undefined;
  const d = payloadMatch(dport, '==', 'dport');
  if (!d || !isProtocol(d.protocol) || typeof d.right !== 'number') return undefined;
  if (!Number.isInteger(d.right) || d.right < 1 || d.right > 65_535) return undefined;
  if (l4 !== undefined && l4 !== d.protocol) return undefined;
  if (!isFibLocal(fib)) return undefined;
  const s = payloadMatch(saddr, '!=', 'saddr');
  if (!s || (s.protocol !== 'ip' && s.protocol !== 'ip6')) return undefined;
  if (typeof s.right !== 'string' || !s.right.startsWith('@') || s.right.length > 256) return undefined;
  const family: Family = s.protocol === 'ip' ? 'ipv4' : 'ipv6';
  if (nfproto !== undefined && nfproto !== family) return undefined;
  const counters = counterOf(counter);
  if (!counters) return undefined;
  let act: NftAction;
  if (action === undefined) act = { kind: 'count' };
  else {
    const port = redirectPort(action);
    if (port === undefined) return undefined;
    act = { kind: 'redirect', port };
  }
  return { protocol: d.protocol, port: d.right, family, set: s.right.slice(1), action: act, counters };
}

function metaMatch(e: Json): { key: 'l4proto' | 'nfproto'; value: string } | undefined {
  if (!isObj(e) || !isObj(e.match)) return undefined;
  const { op, left, right } = e.match;
  if (op !== '==' || !isObj(left) || !isObj(left.meta) || typeof right !== 'string') return undefined;
  const key = left.meta.key;
  return key === 'l4proto' || key === 'nfproto' ? { key, value: right } : undefined;
}

function payloadMatch(
  e: Json,
  op: '==' | '!=',
  field: string,
): { protocol: string; right: Json } | undefined {
  if (!isObj(e) || !isObj(e.match) || Object.keys(e).length !== 1) return undefined;
  const m = e.match;
  if (m.op !== op || !isObj(m.left) || !isObj(m.left.payload)) return undefined;
  const p = m.left.payload;
  if (p.field !== field || typeof p.protocol !== 'string') return undefined;
  return { protocol: p.protocol, right: m.right };
}

function isFibLocal(e: Json): boolean {
  if (!isObj(e) || !isObj(e.match)) return false;
  const m = e.match;
  if (m.op !== '==' || m.right !== 'local' || !isObj(m.left) || !isObj(m.left.fib)) return false;
  const f = m.left.fib;
  return f.result === 'type' && Array.isArray(f.flags) && f.flags.length === 1 && f.flags[0] === 'daddr';
}

function counterOf(e: Json): Counters | undefined {
  if (!isObj(e) || !isObj(e.counter)) return undefined;
  const { packets, bytes } = e.counter;
  if (typeof packets !== 'number' || typeof bytes !== 'number') return undefined;
  if (!Number.isSafeInteger(packets) || !Number.isSafeInteger(bytes) || packets < 0 || bytes < 0)
    return undefined;
  return { packets, bytes };
}

function redirectPort(e: Json): number | undefined {
  if (!isObj(e) || !isObj(e.redirect)) return undefined;
  const r = e.redirect;
  if (Object.keys(r).length !== 1 || typeof r.port !== 'number') return undefined;
  return Number.isInteger(r.port) && r.port >= 1 && r.port <= 65_535 ? r.port : undefined;
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
    listObjects(text).flatMap(([kind, body, path]) => {
      if (kind !== 'chain' || body.hook === undefined) return [];
      return [
        {
          family: str(body, 'family', path),
          table: str(body, 'table', path),
          name: str(body, 'name', path),
          type: str(body, 'type', path),
          hook: str(body, 'hook', path),
          prio: priority(body.prio, `${path}.prio`),
        },
      ];
    }),
  );
}

/** nft's error when the table does not exist (`nft list table ...` exits 1 with this on stderr). */
export function isNoSuchTableError(stderr: string): boolean {
  return /^Error: No such file or directory/m.test(stderr);
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
