// The saved nft guard state, as text: saved before every change (on the node and in the app) so that
// rollback is one restore. It is `nft -j list table` output as libnftables-json(5) shapes it (one
// object a line), under two comment lines, so reading it back goes through the same strict parser as a
// live read. Only what the guard restores is saved: our sets and our rules (no handles, zero counters).
//
// It is NOT `nft -f` input: roll back with planNftRestore(node, now, parseNftSavedState(text)).

import { GUARD_CHAIN, type NftDesired, type NftGuardState } from './model';
import { addressKeyword, NFT_CHAIN, NFT_TABLE, NFT_TABLE_FAMILY, setType } from './names';
import { type NftReadResult, parseNftGuardTable } from './parse';
import { nftDesiredFromState } from './state';

const HEADER = '# nodeport-guard nft saved state v1';

export function serializeNftSavedState(state: NftGuardState): string {
  const { desired } = nftDesiredFromState(state);
  const objects = desired.present ? tableObjects(desired) : [];
  const body = objects.map((o) => `  ${JSON.stringify(o)}`).join(',\n');
  return `${HEADER}\n# not nft input: restore with \`npg rollback\`\n{"nftables": [\n${body}\n]}\n`;
}

export function parseNftSavedState(text: string): NftReadResult<NftGuardState> {
  const lines = text.split('\n');
  if (lines[0] !== HEADER) {
    return {
      ok: false,
      error: { kind: 'bad-shape', message: `not a saved nft guard state (first line must be "${HEADER}")` },
    };
  }
  return parseNftGuardTable(lines.filter((l) => !l.startsWith('#')).join('\n'));
}

/** The table as libnftables-json list objects. */
export function tableObjects(desired: NftDesired): object[] {
  const at = { family: NFT_TABLE_FAMILY, table: NFT_TABLE };
  return [
    { table: { family: NFT_TABLE_FAMILY, name: NFT_TABLE } },
    ...desired.sets.map((s) => ({
      set: {
        ...at,
        name: s.name,
        type: setType(s.family),
        flags: ['interval'],
        ...(s.elements.length > 0
          ? {
              elem: s.elements.map((c) => {
                const [addr, len] = c.split('/');
                return { prefix: { addr, len: Number(len) } };
              }),
            }
          : {}),
      },
    })),
    {
      chain: {
        ...at,
        name: NFT_CHAIN,
        type: GUARD_CHAIN.type,
        hook: GUARD_CHAIN.hook,
        prio: GUARD_CHAIN.prio,
        policy: GUARD_CHAIN.policy,
      },
    },
    ...desired.rules.map((r) => ({
      rule: {
        ...at,
        chain: NFT_CHAIN,
        comment: r.comment,
        expr: [
          { match: { op: '==', left: { payload: { protocol: r.protocol, field: 'dport' } }, right: r.port } },
          { match: { op: '==', left: { fib: { result: 'type', flags: ['daddr'] } }, right: 'local' } },
          {
            match: {
              op: '!=',
              left: { payload: { protocol: addressKeyword(r.family), field: 'saddr' } },
              right: `@${r.set}`,
            },
          },
          { counter: { packets: 0, bytes: 0 } },
          ...(r.action.kind === 'redirect' ? [{ redirect: { port: r.action.port } }] : []),
        ],
      },
    })),
  ];
}
