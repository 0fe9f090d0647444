// Typed views of rule targets: verdicts, NAT, MARK, LOG, and jumps/gotos to user chains. Like
// decodeMatch, anything not understood comes back as `{kind: 'unknown'}` with the target.

import { chainsByName } from './chain-index.js';
import { type NatRange, type PortRange, parseMark, parseNatRange, parsePortRange } from './decode-values.js';
import { isBuiltinTarget } from './known-names.js';
import type { MatchOption, Table, Target } from './model.js';

export interface VerdictTarget {
  readonly kind: 'accept' | 'drop' | 'return' | 'queue';
}

export interface RejectTarget {
  readonly kind: 'reject';
  /** `--reject-with` as written (icmp-port-unreachable, tcp-reset, ...); absent: the default. */
  readonly with?: string;
}

export interface NatTarget {
  readonly kind: 'dnat' | 'snat';
  /** Usually one range; kernels before 2.6.11 allowed several. Empty only for a malformed rule. */
  readonly to: readonly NatRange[];
  readonly random: boolean;
  readonly randomFully: boolean;
  readonly persistent: boolean;
}

export interface MasqueradeTarget {
  readonly kind: 'masquerade';
  readonly toPorts?: PortRange;
  readonly random: boolean;
  readonly randomFully: boolean;
}

export interface RedirectTarget {
  readonly kind: 'redirect';
  /** Absent: keep the destination port. */
  readonly toPorts?: PortRange;
  readonly random: boolean;
}

/**
 * MARK, as written (`op`) and normalised the way the kernel applies it: every form is
 * `mark = (mark & ~mask) ^ xor` (iptables-save prints all of them as --set-xmark xor/mask).
 */
export interface MarkTarget {
  readonly kind: 'mark';
  readonly op: 'set-xmark' | 'set-mark' | 'and-mark' | 'or-mark' | 'xor-mark';
  readonly xor: number;
  readonly mask: number;
}

export interface LogTarget {
  readonly kind: 'log';
  readonly prefix?: string;
  readonly level?: string;
}

export interface ChainTarget {
  readonly kind: 'chain';
  readonly chain: string;
  /** `-g`: RETURN from that chain goes back past the rule that jumped here. */
  readonly goto: boolean;
}

export interface UnknownTarget {
  readonly kind: 'unknown';
  readonly target: Target;
  readonly reason?: string;
}

export type KnownTarget =
  | VerdictTarget
  | RejectTarget
  | NatTarget
  | MasqueradeTarget
  | RedirectTarget
  | MarkTarget
  | LogTarget
  | ChainTarget
  | UnknownTarget;

/** The last option called `name` (a loop, not findLast with a closure: DNAT runs once per endpoint). */
function opt(t: Target, name: string): MatchOption | undefined {
  const options = t.options;
  for (let i = options.length - 1; i >= 0; i--) if (options[i]!.name === name) return options[i];
  return undefined;
}

function has(t: Target, name: string): boolean {
  return opt(t, name) !== undefined;
}

function single(o: MatchOption | undefined): string | undefined {
  return o && o.values.length === 1 ? o.values[0] : undefined;
}

function unknown(target: Target, reason?: string): UnknownTarget {
  return reason === undefined ? { kind: 'unknown', target } : { kind: 'unknown', target, reason };
}

function nat(t: Target, kind: NatTarget['kind']): KnownTarget {
  const optionName = kind === 'dnat' ? 'to-destination' : 'to-source';
  const to: NatRange[] = [];
  for (const o of t.options) {
    if (o.name !== optionName) continue;
    const r = single(o) === undefined ? undefined : parseNatRange(o.values[0]!);
    if (!r) return unknown(t, `--${optionName} ${o.values.join(' ')} is not an address/port range`);
    to.push(r);
  }
  return {
    kind,
    to,
    random: has(t, 'random'),
    randomFully: has(t, 'random-fully'),
    persistent: has(t, 'persistent'),
  };
}

function toPorts(t: Target): PortRange | undefined | 'bad' {
  const o = opt(t, 'to-ports');
  if (!o) return undefined;
  const v = single(o);
  return (v !== undefined && parsePortRange(v, '-')) || 'bad';
}

/** kernel xt_MARK semantics for each option (libxt_MARK.c, revision 2). */
function markTarget(t: Target): KnownTarget {
  const ops = ['set-xmark', 'set-mark', 'and-mark', 'or-mark', 'xor-mark'] as const;
  const o = t.options.find((x) => (ops as readonly string[]).includes(x.name));
  const v = o && single(o) !== undefined ? parseMark(o.values[0]!) : undefined;
  if (!o || !v) return unknown(t, 'MARK needs one of --set-xmark/--set-mark/--and-mark/--or-mark/--xor-mark');
  const op = o.name as MarkTarget['op'];
  const full = v.mask === 0xffff_ffff;
  switch (op) {
    case 'set-xmark':
      return { kind: 'mark', op, xor: v.value, mask: v.mask };
    case 'set-mark':
      return { kind: 'mark', op, xor: v.value, mask: (v.mask | v.value) >>> 0 };
    case 'and-mark':
      return full
        ? { kind: 'mark', op, xor: 0, mask: ~v.value >>> 0 }
        : unknown(t, '--and-mark takes no mask');
    case 'or-mark':
      return full ? { kind: 'mark', op, xor: v.value, mask: v.value } : unknown(t, '--or-mark takes no mask');
    case 'xor-mark':
      return full ? { kind: 'mark', op, xor: v.value, mask: 0 } : unknown(t, '--xor-mark takes no mask');
  }
}

/** The packet mark after a MARK target: `(mark & ~mask) ^ xor`, as unsigned 32 bits. */
export function applyMark(target: MarkTarget, mark: number): number {
  return ((mark & ~target.mask) ^ target.xor) >>> 0;
}

/**
 * Decodes a target. With `table`, a jump is a chain jump exactly when the table has that chain;
 * without, when the name is not an iptables target extension and carries no options.
 */
export function decodeTarget(t: Target, table?: Table): KnownTarget {
  const isChain = table
    ? chainsByName(table).has(t.name)
    : t.kind === 'goto' || (t.options.length === 0 && !isBuiltinTarget(t.name));
  if (t.kind === 'goto' || isChain) return { kind: 'chain', chain: t.name, goto: t.kind === 'goto' };
  switch (t.name) {
    case 'ACCEPT':
      return { kind: 'accept' };
    case 'DROP':
      return { kind: 'drop' };
    case 'RETURN':
      return { kind: 'return' };
    case 'QUEUE':
      return { kind: 'queue' };
    case 'REJECT': {
      const w = single(opt(t, 'reject-with'));
      return w === undefined ? { kind: 'reject' } : { kind: 'reject', with: w };
    }
    case 'DNAT':
      return nat(t, 'dnat');
    case 'SNAT':
      return nat(t, 'snat');
    case 'MASQUERADE': {
      const p = toPorts(t);
      if (p === 'bad') return unknown(t, '--to-ports is not a port or port range');
      const base = {
        kind: 'masquerade' as const,
        random: has(t, 'random'),
        randomFully: has(t, 'random-fully'),
      };
      return p ? { ...base, toPorts: p } : base;
    }
    case 'REDIRECT': {
      const p = toPorts(t);
      if (p === 'bad') return unknown(t, '--to-ports is not a port or port range');
      return p
        ? { kind: 'redirect', toPorts: p, random: has(t, 'random') }
        : { kind: 'redirect', random: has(t, 'random') };
    }
    case 'MARK':
      return markTarget(t);
    case 'LOG': {
      const prefix = single(opt(t, 'log-prefix'));
      const level = single(opt(t, 'log-level'));
      return { kind: 'log', ...(prefix !== undefined && { prefix }), ...(level !== undefined && { level }) };
    }
    default:
      return unknown(t);
  }
}
