// The base chains one packet meets at one hook, in the order the kernel runs them. Every table of
// the packet's family takes part (ip or ip6, and inet). Filter-type chains run at their own
// priority; nat-type chains all run inside netfilter's one NAT hook (priority dstnat, -100, at
// prerouting; srcnat, 100, at input), in their own priority order among themselves: so a nat
// chain at -120 runs before kube-proxy's at -100, but after a filter chain at -110.
import type { NftBaseChain, NftChain, NftFamily, NftRuleset, NftTable } from '../../nftables/model';
import type { Family } from '../../vocabulary';

export type TracedHook = 'prerouting' | 'input' | 'forward';

export interface HookedChain {
  readonly table: NftTable;
  readonly chain: NftChain;
  readonly base: NftBaseChain;
  readonly hook: TracedHook;
}

// nft refuses nat chains at forward: its entry is never used.
const NAT_HOOK_PRIORITY: Readonly<Record<TracedHook, number>> = { prerouting: -100, input: 100, forward: 0 };

/** Table families whose chains see a packet of this family. */
export function familiesFor(family: Family): readonly NftFamily[] {
  return family === 'ipv4' ? ['ip', 'inet'] : ['ip6', 'inet'];
}

function order(c: HookedChain): [number, number] {
  return c.base.type === 'nat' ? [NAT_HOOK_PRIORITY[c.hook], c.base.priority] : [c.base.priority, 0];
}

const where = (c: HookedChain): string => `table ${c.table.family} ${c.table.name} chain ${c.chain.name}`;

export function hookedChains(
  ruleset: NftRuleset,
  hook: TracedHook,
  family: Family,
): { readonly chains: readonly HookedChain[]; readonly warnings: readonly string[] } {
  const families = familiesFor(family);
  const chains: HookedChain[] = [];
  const warnings: string[] = [];
  for (const table of ruleset.tables) {
    if (!families.includes(table.family)) continue;
    for (const chain of table.chains) {
      const base = chain.base;
      if (!base || base.hook !== hook) continue;
      if (base.type !== 'filter' && base.type !== 'nat') {
        warnings.push(`${where({ table, chain, base, hook })}: type ${base.type} at ${hook} is not walked`);
        continue;
      }
      chains.push({ table, chain, base, hook });
    }
  }
  // Stable: chains of equal priority keep the dump's order, which is one guess at registration order.
  chains.sort((a, b) => {
    const [a1, a2] = order(a);
    const [b1, b2] = order(b);
    return a1 - b1 || a2 - b2 || (a.base.type === b.base.type ? 0 : a.base.type === 'nat' ? 1 : -1);
  });
  for (let i = 1; i < chains.length; i++) {
    const [a, b] = [chains[i - 1]!, chains[i]!];
    if (order(a).join() === order(b).join() && a.base.type === b.base.type)
      warnings.push(
        `${where(a)} and ${where(b)} hook ${hook} at the same priority (${a.base.priority}): which runs first is not defined; walked in the dump's order`,
      );
    else if (a.base.type !== b.base.type && order(a)[0] === order(b)[0])
      warnings.push(
        `${where(a)} and ${where(b)} run at the same place of hook ${hook}: which runs first is not defined; walked filter first`,
      );
  }
  return { chains, warnings };
}
