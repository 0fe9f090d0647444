// Render an nft plan as ONE `nft -f` transaction per node (nft applies a file as one batch: all of it
// commits or none of it does), plus rollback, remove-all and commit-confirmed's restore text.
//
// Order inside an in-place transaction:
//   1. `delete rule ... handle N` of rules that go (first: a set cannot be deleted while a rule uses it);
//   2. `delete set` of sets that go;
//   3. `add set` + `add element` of new sets; `flush set` + `add element` of changed sets (the whole
//      list: robust against however the kernel split or merged intervals, and no window, one batch);
//   4. `add rule` of new and changed rules (rules match disjoint packets, so where they go is moot).
// A delete that hits nothing (a stale plan: the handle is gone) fails the whole batch: nothing changes.
import { assertNever } from '../../netfilter/model';
import type { Cidr } from '../cidr';
import { GUARD_CHAIN, type NftDesired, type NftDesiredSet, type NftGuardState, ruleText } from './model';
import { NFT_CHAIN, NFT_TABLE_REF, setType } from './names';
import { type NftEdit, type NftNodePlan, planNftState } from './plan';
import { nftDesiredFromState } from './state';

/** The text for `nft -f -`; empty for a noop plan (run nothing). */
export function renderNftPlan(plan: Pick<NftNodePlan, 'node' | 'stateHash' | 'edits'>): string {
  if (plan.edits.length === 0) return '';
  const head = `# nodeport-guard nft node ${safeComment(plan.node)} state ${plan.stateHash}`;
  return `${[head, ...renderEdits(plan.edits)].join('\n')}\n`;
}

export function renderEdits(edits: readonly NftEdit[]): string[] {
  const rules: string[] = [];
  const sets: string[] = [];
  const fill: string[] = [];
  const adds: string[] = [];
  const whole: string[] = [];
  for (const e of edits) {
    switch (e.kind) {
      case 'table-write':
        whole.push(`add table ${NFT_TABLE_REF}`, `delete table ${NFT_TABLE_REF}`, ...tableBlock(e.desired));
        break;
      case 'table-remove':
        // `add` first makes the delete succeed when there is no table (nft < 1.0.8 has no `destroy`).
        if (e.ifExists) whole.push(`add table ${NFT_TABLE_REF}`);
        whole.push(`delete table ${NFT_TABLE_REF}`);
        break;
      case 'rule-remove':
        rules.push(`delete rule ${NFT_TABLE_REF} ${NFT_CHAIN} handle ${e.handle}`);
        break;
      case 'set-remove':
        sets.push(`delete set ${NFT_TABLE_REF} handle ${e.handle}`);
        break;
      case 'set-create':
        fill.push(`add set ${NFT_TABLE_REF} ${e.set.name} { ${setSpec(e.set)} }`, ...addElements(e.set));
        break;
      case 'set-update':
        fill.push(`flush set ${NFT_TABLE_REF} ${e.set.name}`, ...addElements(e.set));
        break;
      case 'rule-add':
        adds.push(`add rule ${NFT_TABLE_REF} ${NFT_CHAIN} ${ruleText(e.rule)}`);
        break;
      default:
        assertNever(e, 'nft edit');
    }
  }
  return [...whole, ...rules, ...sets, ...fill, ...adds];
}

/** The whole table, as `nft -f` input (and as people read it in `nft list ruleset`). */
export function tableBlock(desired: NftDesired): string[] {
  const lines = [`table ${NFT_TABLE_REF} {`];
  for (const s of desired.sets) {
    const elements = s.elements.length > 0 ? ` elements = { ${elementList(s.elements)} };` : '';
    lines.push(`  set ${s.name} { ${setSpec(s)}${elements} }`);
  }
  lines.push(
    `  chain ${NFT_CHAIN} {`,
    // A number, not `dstnat - 10`, so that nft versions without symbolic priorities read it too.
    `    type nat hook prerouting priority ${GUARD_CHAIN.prio}; policy accept;`,
    ...desired.rules.map((r) => `    ${ruleText(r)}`),
    '  }',
    '}',
  );
  return lines;
}

function setSpec(s: NftDesiredSet): string {
  return `type ${setType(s.family)}; flags interval;`;
}

function addElements(s: NftDesiredSet): string[] {
  // `add element x { }` is a syntax error: an empty set is just flushed (or created empty).
  return s.elements.length > 0
    ? [`add element ${NFT_TABLE_REF} ${s.name} { ${elementList(s.elements)} }`]
    : [];
}

/** Eight to a line, so a 1,000-entry list stays readable in the plan preview. */
function elementList(elements: readonly Cidr[]): string {
  const rows: string[] = [];
  for (let i = 0; i < elements.length; i += 8) rows.push(elements.slice(i, i + 8).join(', '));
  return rows.join(',\n      ');
}

/**
 * Roll back to a saved state: the whole table written as saved (or removed, if there was none), so the
 * text does not depend on the handles the apply created. Noop when the node already holds it.
 */
export function planNftRestore(node: string, now: NftGuardState, saved: NftGuardState): NftNodePlan {
  return planNftState(node, now, nftDesiredFromState(saved).desired, { wholeTable: true });
}

/** Remove the guard entirely: our table and everything in it, nothing else. */
export function planNftRemoveAll(node: string, now: NftGuardState): NftNodePlan {
  return planNftState(node, now, { present: false, sets: [], rules: [] });
}

/**
 * Commit-confirmed: the text the node-side timer runs unless the user confirms, rendered before the
 * apply. It puts `saved` back unconditionally (the whole table, or no table), so it is right whatever
 * the apply did: applied as planned, failed (then it writes the same table again), or half-seen by a
 * concurrent reader (never: one batch). Compare planNftRestore, which plans from a known state.
 */
export function renderNftConfirmTimer(node: string, saved: NftGuardState): string {
  const { desired } = nftDesiredFromState(saved);
  const edit: NftEdit = desired.present
    ? { kind: 'table-write', reasons: ['commit-confirmed timer'], desired }
    : { kind: 'table-remove', ifExists: true };
  return renderNftPlan({ node, stateHash: 'timer', edits: [edit] });
}

function safeComment(text: string): string {
  return text.replace(/[^A-Za-z0-9._:@-]/g, '_').slice(0, 80);
}
