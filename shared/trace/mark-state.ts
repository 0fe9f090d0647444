// The packet mark as partly known bits. A packet that enters without a known mark still gets
// known bits from MARK targets on the way (KUBE-MARK-MASQ sets 0x4000/0x4000), so a later
// `-m mark --mark 0x4000/0x4000` is decidable while one on other bits stays unknown.
import type { MarkTarget } from '../netfilter/decode-target';
import type { MarkState } from './types';

const ALL = 0xffff_ffff;

export function initialMark(mark: number | undefined): MarkState {
  return mark === undefined ? { value: 0, known: 0 } : { value: mark >>> 0, known: ALL };
}

/** `mark = (mark & ~mask) ^ xor`: bits under the mask become known, the others keep their state. */
export function applyMarkTarget(state: MarkState, target: MarkTarget): MarkState {
  const known = (state.known | target.mask) >>> 0;
  const value = (((state.value & ~target.mask) ^ target.xor) & known) >>> 0;
  return { value, known };
}

/** CONNMARK --restore-mark: the bits under the mask come from the connection, which we do not know. */
export function forgetBits(state: MarkState, mask: number): MarkState {
  const known = (state.known & ~mask) >>> 0;
  return { value: (state.value & known) >>> 0, known };
}

/** `-m mark [!] --mark value/mask`: undefined when a tested bit is unknown. */
export function markMatches(state: MarkState, value: number, mask: number): boolean | undefined {
  if ((mask & ~state.known) >>> 0 !== 0) return undefined;
  return (state.value & mask) >>> 0 === (value & mask) >>> 0;
}
