// kube-proxy's part on a lab node: load its rules when the node is built, re-sync them the way
// kube-proxy does (iptables-restore --noflush of its own chains, leaving everything else alone),
// and redo what a kube-proxy restart does to the PREROUTING jump.
import { CLUSTER_CIDR_V4, CLUSTER_CIDR_V6 } from './addressing';
import {
  generateKubeProxyRules,
  type IpFamily,
  type KubeProxyRules,
  SERVICES_JUMP_ARGS,
} from './kube-proxy/index';
import { run, runRaw } from './sys/exec';
import type { LabNode, LabTopology } from './topology';

export function nodeFamilies(node: LabNode): IpFamily[] {
  return node.ipv6 ? ['ipv4', 'ipv6'] : ['ipv4'];
}

export function nodeRules(topo: LabTopology, node: LabNode, family: IpFamily): KubeProxyRules {
  const v6 = family === 'ipv6';
  return generateKubeProxyRules({
    mode: topo.options.mode,
    layout: topo.options.layout,
    family,
    services: topo.services(family),
    nodeName: node.name,
    nodeIp: v6 ? node.ipv6! : node.ipv4,
    clusterCidr: v6 ? CLUSTER_CIDR_V6 : CLUSTER_CIDR_V4,
  });
}

const tool = (family: IpFamily, name: 'restore' | 'iptables') =>
  family === 'ipv6'
    ? name === 'restore'
      ? 'ip6tables-restore'
      : 'ip6tables'
    : name === 'restore'
      ? 'iptables-restore'
      : 'iptables';

/** A fresh node: ipsets (ipvs), then the complete mangle/filter/nat state kube-proxy and kubelet leave. */
export async function loadKubeProxy(topo: LabTopology, node: LabNode): Promise<void> {
  for (const family of nodeFamilies(node)) {
    const rules = nodeRules(topo, node, family);
    if (rules.ipsets) await run(['ipset', 'restore', '-exist'], { netns: node.netns, input: rules.ipsets });
    await run([tool(family, 'restore'), '-w', '5'], {
      netns: node.netns,
      input: rules.mangle + rules.filter + rules.nat,
    });
  }
}

/** One kube-proxy sync: `iptables-restore -w 5 -W 100000 --noflush --counters` of its chains. */
export async function resyncKubeProxy(topo: LabTopology, node: LabNode): Promise<void> {
  for (const family of nodeFamilies(node)) {
    const rules = nodeRules(topo, node, family);
    if (rules.ipsets) await run(['ipset', 'restore', '-exist'], { netns: node.netns, input: rules.ipsets });
    await run([tool(family, 'restore'), '-w', '5', '-W', '100000', '--noflush', '--counters'], {
      netns: node.netns,
      input: rules.sync,
    });
  }
}

const MAX_JUMP_COPIES = 16;

/**
 * What a kube-proxy restart does to nat PREROUTING: its jump to KUBE-SERVICES ends up first again,
 * above anything inserted since (e.g. a guard's entry jump). Deletes every copy, inserts one at 1.
 */
export async function restartKubeProxy(node: LabNode): Promise<void> {
  for (const family of nodeFamilies(node)) {
    const iptables = tool(family, 'iptables');
    for (let i = 0; i < MAX_JUMP_COPIES; i++) {
      const del = await runRaw(
        [iptables, '-w', '5', '-t', 'nat', '-D', 'PREROUTING', ...SERVICES_JUMP_ARGS],
        { netns: node.netns },
      );
      if (del.code !== 0) break;
    }
    await run([iptables, '-w', '5', '-t', 'nat', '-I', 'PREROUTING', '1', ...SERVICES_JUMP_ARGS], {
      netns: node.netns,
    });
  }
}
