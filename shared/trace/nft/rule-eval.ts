// One nft rule against the packet, statement by statement as nft runs them: a match that fails
// ends the rule, a verdict or NAT ends it with that result, a counter or mark goes on. `numgen`
// forks: the rule's result is a list of alternatives, each with its share of new connections.
import type { PortRange } from '../../netfilter/decode-values';
import type {
  NftElement,
  NftRule,
  NftSelector,
  NftStatement,
  NftTable,
  NftVerdict,
} from '../../nftables/model';
import { parseAddress } from '../cidr';
import type { MarkState } from '../types';
import { compareMatches } from './atoms';
import type { FieldValue } from './fields';
import { findSet, type LookupContext, type LookupResult, lookup, selectorFields } from './lookup';
import { applyMarkSet } from './mark-set';

export type RuleEnd =
  | { readonly kind: 'no-match' }
  /** Every statement ran and none ended the rule: the next rule follows. */
  | { readonly kind: 'fallthrough' }
  | { readonly kind: 'verdict'; readonly verdict: NftVerdict }
  | { readonly kind: 'dnat'; readonly address: string; readonly port: number }
  /** `ports` for a range (`redirect to :1000-2000`): the kernel picks one per connection. */
  | { readonly kind: 'redirect'; readonly port: number; readonly ports?: PortRange }
  | { readonly kind: 'reject'; readonly text: string }
  | { readonly kind: 'unknown'; readonly reason: string };

export interface RuleAlt {
  /** Share of the packets that reach this rule which end this way. */
  readonly probability: number;
  readonly mark: MarkState;
  /** The rule set the mark (a hop of kind `mark`). */
  readonly marked: boolean;
  readonly notes: readonly string[];
  readonly end: RuleEnd;
}

export interface RuleContext extends LookupContext {
  readonly table: NftTable;
}

/** Statements that only look or log: they neither test nor change what the walk needs. */
const HARMLESS_OTHER =
  /^(log\b|notrack\b|meta nftrace set\b|nftrace set\b|ct (?:label|helper|zone|mark) set\b)/;

interface Acc {
  readonly probability: number;
  readonly mark: MarkState;
  readonly marked: boolean;
  readonly notes: readonly string[];
}

const end = (acc: Acc, e: RuleEnd): RuleAlt => ({ ...acc, end: e });

/** The elements a match or vmap looks in: an anonymous list, or a named set of the rule's table. */
function elementsOf(
  ref:
    | { readonly kind: 'named' | 'set'; readonly name: string }
    | { readonly kind: 'anon'; readonly elements: readonly NftElement[] },
  ctx: RuleContext,
): readonly NftElement[] | string {
  if (ref.kind === 'anon') return ref.elements;
  const set = findSet(ctx.table, ref.name);
  return set
    ? set.elements
    : `@${ref.name}: no such set or map in table ${ctx.table.family} ${ctx.table.name}`;
}

/** Far above any service's endpoint count; a pasted `mod 4000000000` must not become an array. */
const MAX_NUMGEN_MOD = 1 << 16;

/** The numgen values (offset .. offset+mod-1), each with an equal share; undefined past the bound. */
function numgenValues(key: NftSelector): number[] | undefined {
  const g = key.numgen!;
  if (g.mod > MAX_NUMGEN_MOD) return undefined;
  return Array.from({ length: g.mod }, (_, i) => g.offset + i);
}

const tooMany = (key: NftSelector): RuleEnd => ({
  kind: 'unknown',
  reason: `${key.parts[0]}: more than ${MAX_NUMGEN_MOD} values`,
});

function numgenNote(key: NftSelector): string[] {
  return key.numgen?.mode === 'inc'
    ? ['numgen inc: round robin, so each value takes an equal share of new connections over time']
    : [];
}

/** A match statement: true, false, or a reason it cannot be told. */
function matchResult(
  s: Extract<NftStatement, { kind: 'match' }>,
  fields: readonly FieldValue[],
  ctx: RuleContext,
): boolean | string {
  const what = `${s.left.parts.join(' . ')} ${s.op}`;
  let hit: LookupResult;
  if (s.right.kind === 'literal') {
    if (s.op !== '==' && s.op !== '!=') {
      const only = fields[0];
      if (fields.length !== 1 || !only) return `${what} ${s.right.text}: not modelled`;
      const r = compareMatches(only, s.op, s.right.text);
      return r === undefined ? `${what} ${s.right.text}: cannot be told` : r;
    }
    // `ct state established,related` is one literal of flags: any of them.
    const atoms = fields.length === 1 ? s.right.text.split(',') : [s.right.text];
    const elements = atoms.map((a) => ({ key: fields.length === 1 ? [a] : a.split(' . ') }));
    hit = lookup(fields, elements, ctx, `${what} ${s.right.text}`);
  } else {
    const elements = elementsOf(s.right, ctx);
    if (typeof elements === 'string') return elements;
    hit = lookup(fields, elements, ctx, what);
  }
  if (hit.kind === 'unknown') return hit.reason;
  if (s.op === '==') return hit.kind === 'hit';
  if (s.op === '!=') {
    // nft's implicit dependency (`ip saddr` needs an IPv4 packet) fails before the negation.
    if (fields.some((f) => f.kind === 'absent')) return false;
    return hit.kind === 'miss';
  }
  return `${what}: a set on the right of ${s.op}`;
}

function vmapEnd(element: NftElement | undefined, acc: Acc, map: string): RuleAlt {
  if (!element?.verdict)
    return end(
      acc,
      element ? { kind: 'unknown', reason: `${map}: an element without a verdict` } : { kind: 'no-match' },
    );
  return end(acc, { kind: 'verdict', verdict: element.verdict });
}

function evalFrom(rule: NftRule, i: number, acc: Acc, ctx: RuleContext): RuleAlt[] {
  for (; i < rule.statements.length; i++) {
    const s = rule.statements[i]!;
    switch (s.kind) {
      case 'counter':
        continue;
      case 'match': {
        if (s.left.numgen) return forkMatch(rule, i, s, acc, ctx);
        const r = matchResult(s, selectorFields(s.left, ctx, acc.mark), ctx);
        if (typeof r === 'string') return [end(acc, { kind: 'unknown', reason: r })];
        if (!r) return [end(acc, { kind: 'no-match' })];
        continue;
      }
      case 'vmap': {
        const map = s.map.kind === 'named' ? `@${s.map.name}` : 'vmap { ... }';
        const elements = elementsOf(s.map, ctx);
        if (typeof elements === 'string') return [end(acc, { kind: 'unknown', reason: elements })];
        if (s.key.numgen) return forkVmap(s.key, elements, acc, map);
        const hit = lookup(
          selectorFields(s.key, ctx, acc.mark),
          elements,
          ctx,
          `${s.key.parts.join(' . ')} vmap ${map}`,
        );
        if (hit.kind === 'unknown') return [end(acc, { kind: 'unknown', reason: hit.reason })];
        const note = lookupNote(map, hit.kind === 'hit' ? hit.element : undefined);
        return [
          vmapEnd(hit.kind === 'hit' ? hit.element : undefined, { ...acc, notes: [...acc.notes, note] }, map),
        ];
      }
      case 'verdict':
        if (s.verdict.kind === 'continue') continue;
        return [end(acc, { kind: 'verdict', verdict: s.verdict })];
      case 'dnat': {
        const address = s.addr ?? ctx.fields.packet.dst;
        if (!parseAddress(address))
          return [end(acc, { kind: 'unknown', reason: `${s.text}: the address is not modelled` })];
        return [end(acc, { kind: 'dnat', address, port: s.port ?? ctx.fields.packet.dport })];
      }
      case 'redirect':
        return [end(acc, redirectEnd(s.text, s.port, ctx.fields.packet.dport))];
      case 'reject':
        return [end(acc, { kind: 'reject', text: s.text })];
      case 'snat':
      case 'masquerade':
        acc = { ...acc, notes: [...acc.notes, `${s.text}: source NAT, applied at postrouting`] };
        continue;
      case 'mark-set': {
        const mark = applyMarkSet(acc.mark, s.text);
        if (mark === undefined) return [end(acc, { kind: 'unknown', reason: `${s.text}: not modelled` })];
        acc = { ...acc, mark, marked: acc.marked || mark !== acc.mark };
        continue;
      }
      case 'set-update':
        acc = { ...acc, notes: [...acc.notes, `${s.text}: adds the packet's fields to @${s.set}`] };
        continue;
      case 'other':
        if (HARMLESS_OTHER.test(s.text)) continue;
        return [end(acc, { kind: 'unknown', reason: `${s.text}: not modelled` })];
      default: {
        const never: never = s;
        return never;
      }
    }
  }
  return [end(acc, { kind: 'fallthrough' })];
}

/** `redirect`, `redirect to :65535`, `redirect to :1000-2000 [flags]`. */
function redirectEnd(text: string, port: number | undefined, dport: number): RuleEnd {
  if (port !== undefined) return { kind: 'redirect', port };
  if (!/\bto\b/.test(text)) return { kind: 'redirect', port: dport };
  const r = /\bto :(\d{1,5})-(\d{1,5})\b/.exec(text);
  if (!r) return { kind: 'unknown', reason: `${text}: the port is not modelled` };
  const ports = { from: Number(r[1]), to: Number(r[2]) };
  return { kind: 'redirect', port: ports.from, ports };
}

/** What a branch notes of a map lookup: the element it took, or that none matched. */
export function lookupNote(map: string, element?: NftElement): string {
  return `${map}: ${element ? elementText(element) : 'no element for this packet'}`;
}

function elementText(e: NftElement): string {
  const v = e.verdict;
  const value = v ? (v.kind === 'jump' || v.kind === 'goto' ? `${v.kind} ${v.target}` : v.kind) : '';
  return `${e.key.join(' . ')}${value ? ` : ${value}` : ''}${e.comment ? ` (${e.comment})` : ''}`;
}

/** `numgen random mod N vmap { 0 : goto a, 1 : goto b }`: one alternative per element hit. */
function forkVmap(key: NftSelector, elements: readonly NftElement[], acc: Acc, map: string): RuleAlt[] {
  const values = numgenValues(key);
  if (!values) return [end(acc, tooMany(key))];
  const share = 1 / values.length;
  // Single values by number (one per endpoint); ranges, rare, are searched.
  const single = new Map<number, NftElement>();
  const ranges: NftElement[] = [];
  for (const e of elements) {
    const atom = e.key.length === 1 ? e.key[0]! : '';
    if (/^\d{1,10}$/.test(atom)) {
      if (!single.has(Number(atom))) single.set(Number(atom), e);
    } else if (atom.includes('-')) ranges.push(e);
  }
  const byElement = new Map<NftElement | undefined, number>();
  for (const v of values) {
    const e = single.get(v) ?? ranges.find((x) => numberAtomHas(x.key[0]!, v));
    byElement.set(e, (byElement.get(e) ?? 0) + share);
  }
  return [...byElement].map(([e, p]) =>
    vmapEnd(e, { ...acc, probability: acc.probability * p, notes: [...acc.notes, ...numgenNote(key)] }, map),
  );
}

/** `numgen random mod 2 == 0` (or `{ 0, 1 }`): the rule goes on for the values that match. */
function forkMatch(
  rule: NftRule,
  i: number,
  s: Extract<NftStatement, { kind: 'match' }>,
  acc: Acc,
  ctx: RuleContext,
): RuleAlt[] {
  const values = numgenValues(s.left);
  if (!values) return [end(acc, tooMany(s.left))];
  const atoms =
    s.right.kind === 'literal'
      ? s.right.text.split(',')
      : s.right.kind === 'anon'
        ? s.right.elements.map((e) => e.key[0] ?? '')
        : undefined;
  if (!atoms || (s.op !== '==' && s.op !== '!='))
    return [end(acc, { kind: 'unknown', reason: `${s.left.parts[0]} ${s.op}: not modelled` })];
  const single = new Set(atoms.filter((a) => /^\d{1,10}$/.test(a)).map(Number));
  const ranges = atoms.filter((a) => a.includes('-'));
  const has = (v: number) => single.has(v) || ranges.some((a) => numberAtomHas(a, v));
  const hits = values.filter((v) => has(v) === (s.op === '=='));
  const p = hits.length / values.length;
  const out: RuleAlt[] = [];
  if (p > 0)
    out.push(
      ...evalFrom(
        rule,
        i + 1,
        { ...acc, probability: acc.probability * p, notes: [...acc.notes, ...numgenNote(s.left)] },
        ctx,
      ),
    );
  if (p < 1) out.push(end({ ...acc, probability: acc.probability * (1 - p) }, { kind: 'no-match' }));
  return out;
}

function numberAtomHas(atom: string, v: number): boolean {
  const r = /^(\d{1,10})(?:-(\d{1,10}))?$/.exec(atom);
  if (!r) return false;
  const lo = Number(r[1]);
  const hi = r[2] === undefined ? lo : Number(r[2]);
  return lo <= v && v <= hi;
}

export function evaluateNftRule(rule: NftRule, ctx: RuleContext, mark: MarkState): RuleAlt[] {
  return evalFrom(rule, 0, { probability: 1, mark, marked: false, notes: [] }, ctx);
}
