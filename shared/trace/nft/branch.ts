// One branch of the nft walk: where it is (base chain, chain stack), what it carries (mark,
// share, notes) and the hops it took, kept as a shared-tail list so a numgen fork does not copy
// the hops walked so far.
import type { NftChain, NftRule, NftTable } from '../../nftables/model';
import { KUBE_PROXY_TABLE } from '../../nftables/topology';
import type { MarkState, TraceHop } from '../types';
import type { HookedChain } from './hooks';
import type { NftRuleAt, NftTraceHop } from './types';

export interface Frame {
  readonly chain: NftChain;
  index: number;
}

export interface HopNode {
  readonly hop: NftTraceHop;
  readonly prev?: HopNode;
}

export interface State {
  /** Index of the next base chain in `stages`. */
  next: number;
  /** The base chain being walked; undefined between two. */
  base?: HookedChain;
  stack: Frame[];
  mark: MarkState;
  hops?: HopNode;
  notes: string[];
  probability: number;
  /** Chains entered so far: a goto loop never deepens the stack, so it is caught by this count. */
  entered: number;
}

/** kube-proxy's chains go by their own names (as the path diagram shows them); others with their table. */
export function chainLabel(table: NftTable, chain: string): string {
  return table.name === KUBE_PROXY_TABLE ? chain : `${table.family} ${table.name} ${chain}`;
}

export function clone(s: State, probability: number): State {
  return {
    next: s.next,
    ...(s.base ? { base: s.base } : {}),
    stack: s.stack.map((f) => ({ chain: f.chain, index: f.index })),
    mark: s.mark,
    ...(s.hops ? { hops: s.hops } : {}),
    notes: [...s.notes],
    probability,
    entered: s.entered,
  };
}

export function addHop(s: State, at: NftRuleAt, action: TraceHop['action'], probability?: number): void {
  const table = s.base!.table;
  const hop: NftTraceHop = {
    chain: chainLabel(table, at.chain),
    position: at.position,
    rule: at,
    action,
    ...(probability === undefined || probability === 1 ? {} : { probability }),
  };
  s.hops = s.hops ? { hop, prev: s.hops } : { hop };
}

export function hopsOf(node: HopNode | undefined): NftTraceHop[] {
  const out: NftTraceHop[] = [];
  for (let n = node; n; n = n.prev) out.push(n.hop);
  return out.reverse();
}

export function notesOf(hops: readonly NftTraceHop[], own: readonly string[]): string[] {
  const notes = [...new Set(own)];
  if (hops.some((h) => h.rule.table === KUBE_PROXY_TABLE && h.rule.chain === 'mark-for-masquerade'))
    notes.push(
      "marked by mark-for-masquerade: kube-proxy's nat postrouting (masquerading) masquerades the connection",
    );
  return notes;
}

export function ruleAt(table: NftTable, chain: NftChain, position: number, rule: NftRule): NftRuleAt {
  return {
    family: table.family,
    table: table.name,
    chain: chain.name,
    position,
    rule,
    ...(rule.line === undefined ? {} : { line: rule.line }),
  };
}
