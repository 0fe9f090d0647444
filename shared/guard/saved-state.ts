// The saved guard state, as text: an iptables-save excerpt of our chains and entry jump(s), one per
// family. Saved before every change, on the node (/var/lib/nodeport-guard/) and in the app, so that
// rollback is one restore. Text rather than JSON so that an operator can read it on the node, and so
// that reading it back goes through the same strict parser as a live dump.
//
// It is NOT iptables-restore input: its `-A PREROUTING` line would append a second entry jump. Rollback
// reads it back and plans (planRestore), which deletes and inserts exactly what is needed.
import { parseIptablesSave } from '../netfilter/parse';
import { serializeRule } from '../netfilter/serialize';
import type { Family } from '../vocabulary';
import { bareRule, type ExtractResult, extractGuardState, type FamilyGuardState } from './state';

const HEADER = '# nodeport-guard saved state v1';

export function serializeSavedState(state: FamilyGuardState): string {
  const lines = [
    `${HEADER} ${state.family}`,
    '# not iptables-restore input: restore with `npg rollback`',
    '*nat',
    ...state.chains.map((c) => `:${c.name} - [0:0]`),
    ...state.entryJumps.map((e) => serializeRule(bareRule(e.rule))),
    ...state.chains.flatMap((c) => c.rules.map((r) => serializeRule(bareRule(r)))),
    'COMMIT',
  ];
  return `${lines.join('\n')}\n`;
}

export function parseSavedState(text: string, family: Family): ExtractResult {
  const first = text.split('\n', 1)[0] ?? '';
  if (first !== `${HEADER} ${family}`) {
    return {
      ok: false,
      error: `not a saved ${family} guard state (first line must be "${HEADER} ${family}")`,
    };
  }
  const parsed = parseIptablesSave(text, { family });
  if (!parsed.ok)
    return {
      ok: false,
      error: `saved ${family} guard state, line ${parsed.error.line}: ${parsed.error.message}`,
    };
  const r = extractGuardState(parsed.ruleset, family);
  if (!r.ok) return r;
  if (r.state.foreignReferences.length > 0) {
    return { ok: false, error: `saved ${family} guard state holds rules outside our chains` };
  }
  return r;
}
