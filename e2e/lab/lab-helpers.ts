// Helpers for *.lab.test.ts: bounded-concurrency probing and by-hand netfilter changes on a node
// that always get undone.
import { run } from './sys/exec';
import type { LabNode } from './topology';

/** Run `fn` over `items` with at most `limit` at a time (the machine is shared: keep it modest). */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** `iptables` (or ip6tables) inside a node, argv after the binary. */
export async function nodeIptables(node: LabNode, args: readonly string[], v6 = false): Promise<string> {
  return run([v6 ? 'ip6tables' : 'iptables', '-w', '5', ...args], { netns: node.netns });
}

/**
 * Insert a PREROUTING rule at the top for the duration of `fn`, then delete it. nat by default
 * (REDIRECT); DROP is not allowed in nat, use `raw` or `mangle` for it.
 */
export async function withPreroutingRule<T>(
  node: LabNode,
  rule: readonly string[],
  fn: () => Promise<T>,
  opts: { v6?: boolean; table?: 'nat' | 'raw' | 'mangle' } = {},
): Promise<T> {
  const table = opts.table ?? 'nat';
  await nodeIptables(node, ['-t', table, '-I', 'PREROUTING', '1', ...rule], opts.v6);
  try {
    return await fn();
  } finally {
    await nodeIptables(node, ['-t', table, '-D', 'PREROUTING', ...rule], opts.v6);
  }
}

/** `nft` inside a node, argv after the binary (`['-f', '-']` with `input` for a transaction). */
export async function nodeNft(node: LabNode, args: readonly string[], input?: string): Promise<string> {
  return run(['nft', ...args], { netns: node.netns, ...(input === undefined ? {} : { input }) });
}

/** `conntrack` inside a node (list with `['-L', ...]`; it prints its summary on stderr). */
export async function nodeConntrack(node: LabNode, args: readonly string[]): Promise<string> {
  return run(['conntrack', ...args], { netns: node.netns });
}
