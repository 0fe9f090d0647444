// `mark set ...` as nft prints it (`mark set mark or 0x4000`, `meta mark set meta mark | 0x00004000`,
// `meta mark set 0x1`) applied to the partly known mark. `ct mark set` changes the connection's
// mark, not the packet's: the packet mark stays as it was.
import type { MarkState } from '../types';

const ALL = 0xffff_ffff;
const NUM = '(0x[0-9a-f]{1,8}|\\d{1,10})';
const SET = new RegExp(`^(?:meta )?mark set (?:(?:meta )?mark (\\||or|&|and|\\^|xor) ${NUM}|${NUM})$`, 'i');

/** The mark after the statement, or undefined when the statement is not one of these forms. */
export function applyMarkSet(state: MarkState, text: string): MarkState | undefined {
  if (/^ct mark set /.test(text)) return state;
  const m = SET.exec(text.trim());
  if (!m) return undefined;
  if (m[3] !== undefined) return { value: Number(m[3]) >>> 0, known: ALL };
  const n = Number(m[2]) >>> 0;
  switch (m[1]!.toLowerCase()) {
    case '|':
    case 'or':
      return { value: (state.value | n) >>> 0, known: (state.known | n) >>> 0 };
    case '&':
    case 'and':
      return { value: (state.value & n) >>> 0, known: (state.known | ~n) >>> 0 };
    default:
      // xor flips bits: known bits stay known, unknown ones stay unknown.
      return { value: ((state.value ^ n) & state.known) >>> 0, known: state.known };
  }
}
