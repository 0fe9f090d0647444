// Set and map lookups: a selector (one field or a concatenation `ip daddr . meta l4proto . th
// dport`) read off the packet, then the first element whose every member matches. A named set is
// looked up in the rule's own table, as nft does.
import type { NftElement, NftSelector, NftSet, NftTable } from '../../nftables/model';
import type { ParsedCidr } from '../cidr';
import type { MarkState } from '../types';
import { atomMatches } from './atoms';
import { type FieldContext, type FieldValue, fieldOf } from './fields';

export type LookupResult =
  | { readonly kind: 'hit'; readonly element: NftElement }
  | { readonly kind: 'miss' }
  | { readonly kind: 'unknown'; readonly reason: string };

export interface LookupContext {
  readonly fields: FieldContext;
  readonly cidr: (text: string) => ParsedCidr | undefined;
}

export function selectorFields(key: NftSelector, ctx: LookupContext, mark: MarkState): FieldValue[] {
  return key.parts.map((p) => fieldOf(p, ctx.fields, mark));
}

/**
 * Member indexes with address members last: kube-proxy's big maps key on address . protocol .
 * port, and the port rules out almost every element before an address is parsed.
 */
function cheapFirst(fields: readonly FieldValue[]): number[] {
  const idx = fields.map((_, i) => i);
  return [...idx.filter((i) => fields[i]!.kind !== 'addr'), ...idx.filter((i) => fields[i]!.kind === 'addr')];
}

/** One element against the packet's fields: undefined when some member cannot be told. */
function elementMatches(
  fields: readonly FieldValue[],
  order: readonly number[],
  e: NftElement,
  ctx: LookupContext,
): boolean | undefined {
  if (e.key.length !== fields.length) return undefined;
  let unsure = false;
  for (const i of order) {
    const m = atomMatches(fields[i]!, e.key[i]!, ctx.cidr);
    if (m === false) return false;
    if (m === undefined) unsure = true;
  }
  return unsure ? undefined : true;
}

export function lookup(
  fields: readonly FieldValue[],
  elements: readonly NftElement[],
  ctx: LookupContext,
  what: string,
): LookupResult {
  // A field the packet lacks fails the whole lookup, whatever the elements hold.
  if (fields.some((f) => f.kind === 'absent')) return { kind: 'miss' };
  const unknownField = fields.find((f) => f.kind === 'unknown');
  if (unknownField?.kind === 'unknown') return { kind: 'unknown', reason: `${what}: ${unknownField.reason}` };
  const order = cheapFirst(fields);
  for (const e of elements) {
    const m = elementMatches(fields, order, e, ctx);
    if (m === true) return { kind: 'hit', element: e };
    if (m === undefined)
      return { kind: 'unknown', reason: `${what}: cannot tell whether element ${e.key.join(' . ')} matches` };
  }
  return { kind: 'miss' };
}

export function findSet(table: NftTable, name: string): NftSet | undefined {
  return table.sets.find((s) => s.name === name);
}
