// The lab's wiring: a bridge in the root namespace, one veth per node/client namespace, pod
// addresses as local addresses of each node, routes between pod subnets via node addresses.
// No namespace gets a default route, so nothing can leave the lab's address ranges.
import { BRIDGE_V4, BRIDGE_V6, LAB_V4_PREFIX, LAB_V6_PREFIX } from './addressing';
import { run, runRaw } from './sys/exec';
import { addNetns } from './sys/netns';
import { BRIDGE, type LabClient, type LabNode, type LabTopology } from './topology';

/** `ip -batch -` inside a namespace: one process for many link/address/route changes. */
async function ipBatch(netns: string | undefined, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  await run(netns ? ['ip', '-n', netns, '-batch', '-'] : ['ip', '-batch', '-'], {
    input: `${lines.join('\n')}\n`,
  });
}

async function sysctls(netns: string | undefined, settings: Readonly<Record<string, string>>): Promise<void> {
  await run(
    ['sysctl', '-q', '-w', ...Object.entries(settings).map(([k, v]) => `${k}=${v}`)],
    netns ? { netns } : {},
  );
}

export async function createBridge(ipv6: boolean): Promise<void> {
  await ipBatch(undefined, [
    `link add ${BRIDGE} type bridge forward_delay 0 stp_state 0`,
    `addr add ${BRIDGE_V4}/${LAB_V4_PREFIX} dev ${BRIDGE}`,
  ]);
  if (ipv6) await run(['ip', '-6', 'addr', 'add', `${BRIDGE_V6}/${LAB_V6_PREFIX}`, 'dev', BRIDGE, 'nodad']);
  else await sysctls(undefined, { [`net.ipv6.conf.${BRIDGE}.disable_ipv6`]: '1' });
  await run(['ip', 'link', 'set', BRIDGE, 'up']);
}

/** Settings every lab namespace gets before its links come up. */
async function baseSysctls(netns: string, ipv6: boolean, router: boolean): Promise<void> {
  const s: Record<string, string> = {
    'net.ipv4.conf.all.rp_filter': '0',
    'net.ipv4.conf.default.rp_filter': '0',
    'net.ipv6.conf.all.disable_ipv6': ipv6 ? '0' : '1',
    'net.ipv6.conf.default.disable_ipv6': ipv6 ? '0' : '1',
  };
  if (ipv6) {
    s['net.ipv6.conf.all.accept_dad'] = '0';
    s['net.ipv6.conf.default.accept_dad'] = '0';
    s['net.ipv6.conf.all.accept_ra'] = '0';
    s['net.ipv6.conf.default.accept_ra'] = '0';
  }
  if (router) {
    // No ICMP rate limit: REJECT and closed UDP ports must answer every probe, or a quick series
    // of probes reads "timeout" where a single one reads "refused".
    s['net.ipv4.icmp_ratelimit'] = '0';
    s['net.ipv4.icmp_msgs_per_sec'] = '100000';
    s['net.ipv4.icmp_msgs_burst'] = '100000';
    if (ipv6) s['net.ipv6.icmp.ratelimit'] = '0';
    s['net.ipv4.ip_forward'] = '1';
    // kube-proxy sets this for NodePorts on 127.0.0.1 (localhostNodePorts).
    s['net.ipv4.conf.all.route_localnet'] = '1';
    if (ipv6) s['net.ipv6.conf.all.forwarding'] = '1';
  }
  await sysctls(netns, s);
}

async function vethInto(netns: string, hostLink: string): Promise<void> {
  await ipBatch(undefined, [
    `link add ${hostLink} type veth peer name eth0 netns ${netns}`,
    `link set ${hostLink} master ${BRIDGE} up`,
  ]);
}

export async function createNode(topo: LabTopology, node: LabNode): Promise<void> {
  const ipv6 = topo.options.ipv6;
  await addNetns(node.netns);
  await baseSysctls(node.netns, ipv6, true);
  await vethInto(node.netns, node.hostLink);
  // Pod addresses are local addresses of the node (this kernel has no dummy links, so on lo):
  // after kube-proxy's DNAT a packet for a local pod is delivered to the pod server.
  const lines = [`addr add ${node.ipv4}/${LAB_V4_PREFIX} dev eth0`, 'link set eth0 up'];
  if (node.ipv6) lines.push(`addr add ${node.ipv6}/${LAB_V6_PREFIX} dev eth0 nodad`);
  for (const pod of node.pods) {
    lines.push(`addr add ${pod.ipv4}/32 dev lo`);
    if (ipv6) lines.push(`addr add ${pod.ipv6}/128 dev lo nodad`);
  }
  for (const other of topo.nodes) {
    if (other.index === node.index) continue;
    lines.push(`route add ${other.podSubnetV4} via ${other.ipv4}`);
    if (node.ipv6 && other.ipv6 && other.podSubnetV6)
      lines.push(`route add ${other.podSubnetV6} via ${other.ipv6}`);
  }
  await ipBatch(node.netns, lines);
}

export async function createClient(topo: LabTopology, client: LabClient): Promise<void> {
  await addNetns(client.netns);
  await baseSysctls(client.netns, topo.options.ipv6, false);
  await vethInto(client.netns, client.hostLink);
  const lines = ['link set eth0 up'];
  for (const ip of client.ipv4) lines.push(`addr add ${ip}/${LAB_V4_PREFIX} dev eth0`);
  for (const ip of client.ipv6) lines.push(`addr add ${ip}/${LAB_V6_PREFIX} dev eth0 nodad`);
  await ipBatch(client.netns, lines);
}

export async function linkExists(name: string): Promise<boolean> {
  return (await runRaw(['ip', 'link', 'show', 'dev', name])).code === 0;
}

/** Root-namespace links whose names say they are the lab's (bridge, veth host ends). */
export async function labLinks(): Promise<string[]> {
  const out = await run(['ip', '-o', 'link', 'show']);
  const names: string[] = [];
  for (const line of out.split('\n')) {
    const m = /^\d+:\s+([^:@\s]+)/.exec(line);
    if (m?.[1]?.startsWith('npg-')) names.push(m[1]);
  }
  return names;
}

export async function deleteLink(name: string): Promise<void> {
  await runRaw(['ip', 'link', 'delete', 'dev', name]);
}

export async function setLinkUp(name: string, up: boolean): Promise<void> {
  await run(['ip', 'link', 'set', 'dev', name, up ? 'up' : 'down']);
}
