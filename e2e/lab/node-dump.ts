// A node's netfilter state as the app would read it over SSH, read here directly in its
// namespace: the nat table dump, `ipset list`, and the node's own addresses (for addrtype LOCAL).
import { run } from './sys/exec';
import type { LabNode } from './topology';

export interface NodeDump {
  /** `iptables-save -t nat` (or ip6tables-save). */
  readonly nat: string;
  /** `ipset list` (empty in iptables mode). */
  readonly ipsets: string;
  /** Every address on the node, loopback included. */
  readonly localAddresses: readonly string[];
}

export async function dumpNode(node: LabNode, family: 'ipv4' | 'ipv6' = 'ipv4'): Promise<NodeDump> {
  const v6 = family === 'ipv6';
  const [nat, ipsets, addrs] = await Promise.all([
    run([v6 ? 'ip6tables-save' : 'iptables-save', '-t', 'nat'], { netns: node.netns }),
    run(['ipset', 'list'], { netns: node.netns }),
    run(['ip', '-o', v6 ? '-6' : '-4', 'addr', 'show'], { netns: node.netns }),
  ]);
  const localAddresses = addrs
    .split('\n')
    .map((l) => /\binet6?\s+([0-9a-f.:]+)\//i.exec(l)?.[1])
    .filter((a): a is string => a !== undefined);
  return { nat, ipsets, localAddresses };
}
