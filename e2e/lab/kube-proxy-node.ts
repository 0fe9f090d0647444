// kube-proxy's part on a lab node: load its rules when the node is built, re-sync them the way
// kube-proxy does (iptables-restore --noflush of its own chains, leaving everything else alone;
// in nftables mode one `nft -f` transaction on its own table), and redo what a kube-proxy restart
// does (iptables/ipvs: its PREROUTING jump back on top; nftables: its base chains re-created).
import { CLUSTER_CIDR_V4, CLUSTER_CIDR_V6, SERVICE_CIDR_V4, SERVICE_CIDR_V6 } from './addressing';
import {
  generateKubeProxyRules,
  type IpFamily,
  type KubeProxyRules,
  NFT_TABLE,
  nftablesRuleset,
  nftChainsOf,
  nftFamily,
  renderNftDeleteStale,
  renderNftSync,
  SERVICES_JUMP_ARGS,
  staleChains,
} from './kube-proxy/index';
import { readState } from './state';
import { run, runRaw } from './sys/exec';
import { type LabNode, type LabTopology, labTopology } from './topology';

export function nodeFamilies(node: LabNode): IpFamily[] {
  return node.ipv6 ? ['ipv4', 'ipv6'] : ['ipv4'];
}

function kubeProxyOptions(topo: LabTopology, node: LabNode, family: IpFamily) {
  const v6 = family === 'ipv6';
  return {
    mode: topo.options.mode,
    layout: topo.options.layout,
    family,
    services: topo.services(family),
    nodeName: node.name,
    nodeIp: v6 ? node.ipv6! : node.ipv4,
    clusterCidr: v6 ? CLUSTER_CIDR_V6 : CLUSTER_CIDR_V4,
    serviceCidr: v6 ? SERVICE_CIDR_V6 : SERVICE_CIDR_V4,
  } as const;
}

export function nodeRules(topo: LabTopology, node: LabNode, family: IpFamily): KubeProxyRules {
  return generateKubeProxyRules(kubeProxyOptions(topo, node, family));
}

/**
 * One sync of kube-proxy in nftables mode for one family: first delete the service chains an
 * earlier sync left empty, then ONE `nft -f` transaction that re-creates and refills kube-proxy's
 * table (and flushes the service chains it no longer uses). Other tables are never touched.
 * `restart`: the first sync of a freshly started kube-proxy, which re-creates its base chains.
 */
export async function syncNftables(
  topo: LabTopology,
  node: LabNode,
  family: IpFamily,
  restart: boolean,
): Promise<void> {
  const r = nftablesRuleset(kubeProxyOptions(topo, node, family));
  const listed = await runRaw(['nft', '-j', 'list', 'table', r.family, NFT_TABLE], { netns: node.netns });
  const existing = listed.code === 0 ? nftChainsOf(listed.stdout) : [];
  const stale = staleChains(existing, r.serviceChains);
  if (stale.remove.length > 0)
    await run(['nft', '-f', '-'], { netns: node.netns, input: renderNftDeleteStale(r.family, stale.remove) });
  await run(['nft', '-f', '-'], {
    netns: node.netns,
    input: renderNftSync(r, { restart, stale: stale.flush }),
  });
}

/** `nft list table ip|ip6 kube-proxy` of a node (nftables mode). */
export async function nodeNftTable(node: LabNode, family: IpFamily = 'ipv4'): Promise<string> {
  return run(['nft', 'list', 'table', nftFamily(family), NFT_TABLE], { netns: node.netns });
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
    if (topo.options.mode === 'nftables') await syncNftables(topo, node, family, true);
  }
}

/** One kube-proxy sync: `iptables-restore -w 5 -W 100000 --noflush --counters` of its chains. */
export async function resyncKubeProxy(topo: LabTopology, node: LabNode): Promise<void> {
  for (const family of nodeFamilies(node)) {
    if (topo.options.mode === 'nftables') {
      await syncNftables(topo, node, family, false);
      continue;
    }
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
 * nftables mode: the first sync of a new kube-proxy, which deletes and re-creates its base chains
 * (nothing in iptables; a table of our own at another priority is untouched).
 * `topo` defaults to the running lab's.
 */
export async function restartKubeProxy(node: LabNode, topo?: LabTopology): Promise<void> {
  const lab = topo ?? (await runningLab());
  if (lab.options.mode === 'nftables') {
    for (const family of nodeFamilies(node)) await syncNftables(lab, node, family, true);
    return;
  }
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

async function runningLab(): Promise<LabTopology> {
  const state = await readState();
  if (!state) throw new Error('the lab is not up: run `npm run lab:up` (as root)');
  return labTopology(state.options);
}
