// Which dataplane serves this node's Services, and whether a netfilter nat PREROUTING guard can be
// trusted to see NodePort traffic there. Pure: NodeSigns in, a verdict out. Each sign's source is in
// sign-names.ts; the reasoning per case is in README.md.
import {
  CALICO_CHAIN_PREFIX,
  CALICO_FRONTEND_MAP_PREFIXES,
  CILIUM_CHAIN_PREFIX,
  CILIUM_NAT_MAPS,
  CILIUM_NODEPORT_DEFINE,
  CILIUM_SERVICE_MAPS,
  KUBE_PROXY_CHAINS,
  KUBE_PROXY_IPVS_CHAINS,
  KUBE_PROXY_NFT_TABLE,
  KUBE_ROUTER_CHAIN_PREFIX,
  KUBE_ROUTER_PROXY_CHAINS,
} from './sign-names.js';
import type { NodeSigns } from './signs.js';

export type Dataplane =
  | 'kube-proxy-iptables'
  | 'kube-proxy-ipvs'
  | 'kube-proxy-nftables'
  | 'cilium-kpr'
  | 'cilium-with-kube-proxy'
  | 'calico-ebpf'
  | 'kube-router'
  | 'unknown';

/** yes: the guard sees NodePort packets; no: it may never see them; unsure: the signs do not tell. */
export type Guardable = 'yes' | 'no' | 'unsure';

export interface DataplaneVerdict {
  readonly dataplane: Dataplane;
  readonly guardable: Guardable;
  /** One line per sign that led here (and per sign that was missing, when that mattered). */
  readonly evidence: readonly string[];
  /** One plain sentence for the operator. */
  readonly sentence: string;
  /**
   * Something other than kube-proxy's netfilter rules may serve NodePorts here (Cilium, Calico's eBPF
   * maps, kube-router's proxy): apply refuses the node unless it is overridden for it.
   */
  readonly foreign: boolean;
}

type KubeProxy =
  | { readonly state: 'present'; readonly mode: 'iptables' | 'ipvs' | 'nftables' }
  | { readonly state: 'absent' }
  | { readonly state: 'unknown' };

interface Facts {
  readonly evidence: string[];
  readonly kubeProxy: KubeProxy;
  readonly cilium: boolean;
  readonly ciliumBpfNodePort: boolean;
  readonly calico: boolean;
  readonly calicoBpfMaps: boolean;
  /** The processes were read and calico-node is not among them. */
  readonly calicoNodeNotRunning: boolean;
  readonly kubeRouterProxy: boolean;
  readonly kubeRouterRuns: boolean;
  readonly nftRead: boolean;
}

// Apply refuses such a node unless it is overridden for it (cluster.guardAnyway, --guard-anyway);
// then verify's probes are the judge.
const REFUSE =
  'apply leaves it alone unless told to guard it anyway (--guard-anyway NODE), and then only verify’s probes (npg verify --probe) can tell whether the guard works';

export function recognizeDataplane(signs: NodeSigns): DataplaneVerdict {
  const f = readFacts(signs);
  const ev = f.evidence;
  const kp = f.kubeProxy;
  const verdict = (dataplane: Dataplane, guardable: Guardable, sentence: string): DataplaneVerdict => ({
    dataplane,
    guardable,
    evidence: ev,
    sentence,
    // kube-router's process with no kube-proxy rules seen: its proxy chains live outside what a plan
    // read lists (filter, nat POSTROUTING), so the process stands for them.
    foreign: f.cilium || f.calicoBpfMaps || f.kubeRouterProxy || (f.kubeRouterRuns && kp.state !== 'present'),
  });

  if (f.cilium && f.ciliumBpfNodePort) {
    if (kp.state === 'present') {
      ev.push(
        "kube-proxy's rules are there too, but Cilium's BPF program answers NodePorts before netfilter",
      );
    }
    return verdict(
      'cilium-kpr',
      'no',
      `Cilium serves NodePorts in eBPF before netfilter (kube-proxy replacement): a nat PREROUTING guard may never see the packet; ${REFUSE}.`,
    );
  }
  if (f.calicoBpfMaps) {
    if (f.calicoNodeNotRunning) {
      ev.push('calico-node does not run: the maps may be left from an earlier eBPF run');
    }
    if (kp.state === 'present') {
      ev.push(
        "kube-proxy's rules are there too: either Calico's eBPF dataplane answers NodePorts in front of them, or the maps are left from an earlier eBPF run",
      );
    }
    if (kp.state === 'present' || f.calicoNodeNotRunning) {
      return verdict(
        'calico-ebpf',
        'unsure',
        `Calico's eBPF service maps are on this node${kp.state === 'present' ? ", and so are kube-proxy's rules" : ', but calico-node does not run'}: if Calico's eBPF dataplane is on, it serves NodePorts before netfilter and a nat PREROUTING guard may never see the packet; ${REFUSE}.`,
      );
    }
    return verdict(
      'calico-ebpf',
      'no',
      `Calico's eBPF dataplane serves NodePorts before netfilter: a nat PREROUTING guard may never see the packet; ${REFUSE}.`,
    );
  }
  if (f.cilium && kp.state === 'absent') {
    ev.push(
      f.nftRead
        ? 'no kube-proxy chains and no kube-proxy nft table: nothing but Cilium serves Services'
        : 'no kube-proxy chains in the nat table (nft tables not read)',
    );
    return verdict(
      'cilium-kpr',
      'no',
      `Cilium serves NodePorts in eBPF before netfilter (kube-proxy replacement, no kube-proxy rules here): a nat PREROUTING guard may never see the packet; ${REFUSE}.`,
    );
  }
  if (f.kubeRouterProxy) {
    if (kp.state === 'present') ev.push("kube-proxy's rules are there too: two Service proxies on one node");
    return verdict(
      'kube-router',
      'unsure',
      `kube-router serves Services with IPVS, not kube-proxy: a nat PREROUTING redirect should still come before IPVS (as in kube-proxy's ipvs mode), but NodePort Guard cannot read its NodePorts from netfilter; ${REFUSE}.`,
    );
  }
  if (kp.state === 'present') {
    const dataplane: Dataplane = `kube-proxy-${kp.mode}`;
    if (f.cilium) {
      ev.push(
        `Cilium's BPF NodePort (${CILIUM_NODEPORT_DEFINE}) not seen: if kube-proxy replacement were on beside kube-proxy, Cilium would answer NodePorts first`,
      );
      return verdict(
        'cilium-with-kube-proxy',
        'yes',
        `Cilium runs beside kube-proxy (${kp.mode} mode), which serves NodePorts in netfilter: a nat PREROUTING guard sees the packet first; verify's probes confirm it.`,
      );
    }
    return verdict(
      dataplane,
      'yes',
      kp.mode === 'nftables'
        ? "kube-proxy serves NodePorts in its nftables table: NodePort Guard's own nft table at priority dstnat - 10 sees the packet first."
        : `kube-proxy serves NodePorts in netfilter (${kp.mode} mode)${f.calico ? ', with Calico as the network plugin' : ''}: a nat PREROUTING guard before kube-proxy's jump sees the packet first.`,
    );
  }
  if (f.cilium) {
    return verdict(
      'unknown',
      'unsure',
      `Cilium is on this node, but whether kube-proxy or Cilium serves NodePorts is not shown (give a whole iptables-save, or read the node); ${REFUSE}.`,
    );
  }
  if (kp.state === 'absent') {
    ev.push('no kube-proxy chains in the nat table, and no known eBPF dataplane');
    return verdict(
      'unknown',
      'unsure',
      `No kube-proxy rules and no known dataplane on this node: nothing here shows who serves NodePorts; ${REFUSE}.`,
    );
  }
  return verdict(
    'unknown',
    'unsure',
    `The signs read do not show who serves NodePorts on this node; ${REFUSE}.`,
  );
}

function readFacts(s: NodeSigns): Facts {
  const evidence: string[] = [];
  const ipt = s.iptables;
  const tables = ipt?.tables ?? {};
  const allChains = new Set<string>([...Object.values(tables).flat(), ...(ipt?.unplaced ?? [])]);
  const nat = tables.nat;
  const procs = new Set(s.processes ?? []);
  const globals = s.bpfGlobals ?? [];

  // Cilium
  let cilium = false;
  if (procs.has('cilium-agent')) {
    cilium = true;
    evidence.push('process cilium-agent runs');
  }
  const ciliumChains = [...allChains].filter((c) => c.startsWith(CILIUM_CHAIN_PREFIX));
  if (ciliumChains.length > 0) {
    cilium = true;
    evidence.push(`Cilium's iptables chains: ${sample(ciliumChains)}`);
  }
  const ciliumMaps = globals.filter((g) => CILIUM_SERVICE_MAPS.includes(g) || CILIUM_NAT_MAPS.includes(g));
  if (ciliumMaps.length > 0) {
    cilium = true;
    evidence.push(`Cilium's pinned BPF maps in /sys/fs/bpf/tc/globals: ${sample(ciliumMaps)}`);
  }
  if ((s.bpffs ?? []).includes('cilium')) evidence.push("Cilium's bpffs tree /sys/fs/bpf/cilium exists");
  if ((s.ciliumLinks ?? []).length > 0) {
    evidence.push(`Cilium's BPF programs are linked on devices: ${sample(s.ciliumLinks ?? [])}`);
  }
  const ciliumBpfNodePort = (s.ciliumDefines ?? []).includes(CILIUM_NODEPORT_DEFINE);
  if (ciliumBpfNodePort) {
    cilium = true;
    evidence.push(`Cilium's node_config.h defines ${CILIUM_NODEPORT_DEFINE}: NodePorts are served in BPF`);
  }

  // Calico
  let calico = false;
  if (procs.has('calico-node')) {
    calico = true;
    evidence.push('process calico-node runs');
  }
  const calicoChains = [...allChains].filter((c) => c.startsWith(CALICO_CHAIN_PREFIX));
  if (calicoChains.length > 0) {
    calico = true;
    evidence.push(`Calico's iptables chains: ${sample(calicoChains)}`);
  }
  const calicoFe = globals.filter((g) => CALICO_FRONTEND_MAP_PREFIXES.some((p) => g.startsWith(p)));
  if (calicoFe.length > 0) {
    calico = true;
    evidence.push(`Calico's eBPF NAT frontend map in /sys/fs/bpf/tc/globals: ${sample(calicoFe)}`);
  }

  // kube-router
  const routerChains = [...allChains].filter((c) => c.startsWith(KUBE_ROUTER_CHAIN_PREFIX));
  const routerProxyChains = routerChains.filter((c) => KUBE_ROUTER_PROXY_CHAINS.includes(c));
  if (routerProxyChains.length > 0) {
    evidence.push(`kube-router's service proxy chains: ${sample(routerProxyChains)}`);
  } else if (routerChains.length > 0) {
    evidence.push(`kube-router's network policy chains (${sample(routerChains)}), not its service proxy`);
  }
  if (procs.has('kube-router')) evidence.push('process kube-router runs');

  // kube-proxy
  const nftRead = s.nftTables !== undefined;
  const kubeNft = (s.nftTables ?? []).filter((t) => t.split(' ')[1] === KUBE_PROXY_NFT_TABLE);
  const kubeChains = [...allChains].filter((c) => KUBE_PROXY_CHAINS.includes(c));
  let kubeProxy: KubeProxy = { state: 'unknown' };
  if (kubeChains.length > 0) {
    const ipvs = [...allChains].some((c) => KUBE_PROXY_IPVS_CHAINS.includes(c));
    kubeProxy = { state: 'present', mode: ipvs ? 'ipvs' : 'iptables' };
    evidence.push(`kube-proxy's chains: ${sample(kubeChains)}${ipvs ? ' (ipvs mode)' : ''}`);
  } else if (kubeNft.length > 0) {
    kubeProxy = { state: 'present', mode: 'nftables' };
    evidence.push(`kube-proxy's nft table: ${kubeNft.join(', ')}`);
  } else if (nat !== undefined) {
    kubeProxy = { state: 'absent' };
  } else if (ipt && ipt.unplaced.length > 0 && Object.keys(tables).length === 0) {
    evidence.push('the dump is an excerpt (no *table header): which other chains exist is not shown');
  }
  if (procs.has('kube-proxy')) {
    evidence.push('process kube-proxy runs');
    if (kubeProxy.state === 'absent') {
      kubeProxy = { state: 'unknown' };
      evidence.push(
        nftRead
          ? 'kube-proxy runs but has neither iptables chains nor an nft table'
          : 'kube-proxy runs but has no iptables chains: nftables mode? (nft tables not read)',
      );
    }
  }
  if (kubeNft.length > 0 && kubeChains.length > 0) {
    evidence.push(`kube-proxy's nft table is there too: ${kubeNft.join(', ')}`);
  }

  return {
    evidence,
    kubeProxy,
    cilium,
    ciliumBpfNodePort,
    calico,
    calicoBpfMaps: calicoFe.length > 0,
    calicoNodeNotRunning: s.processes !== undefined && !procs.has('calico-node'),
    kubeRouterProxy: routerProxyChains.length > 0,
    kubeRouterRuns: procs.has('kube-router'),
    nftRead,
  };
}

/** A few names, sorted, for one evidence line. */
function sample(names: readonly string[]): string {
  const sorted = [...new Set(names)].sort();
  return sorted.length <= 4
    ? sorted.join(', ')
    : `${sorted.slice(0, 4).join(', ')} and ${sorted.length - 4} more`;
}
