// recognizeDataplane on hand-written NodeSigns (not real nodes: each case is the smallest set of
// signs that decides it). Real samples are in corpus.test.ts.
import { describe, expect, it } from 'vitest';
import { recognizeDataplane } from './recognize';
import { mergeNodeSigns, type NodeSigns } from './signs';

const nat = (...chains: string[]): NodeSigns => ({ iptables: { tables: { nat: chains }, unplaced: [] } });
const KUBE_IPT = nat('PREROUTING', 'KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-SVC-ABCDEFGHIJKLMNOP');
const KUBE_IPVS = nat('PREROUTING', 'KUBE-SERVICES', 'KUBE-NODE-PORT', 'KUBE-LOAD-BALANCER');
const CILIUM_NAT = nat('PREROUTING', 'CILIUM_PRE_nat', 'CILIUM_POST_nat', 'CILIUM_OUTPUT_nat');
const NOTHING_IN_NAT = nat('PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING');

function v(...parts: NodeSigns[]) {
  return recognizeDataplane(mergeNodeSigns(...parts));
}

describe('recognizeDataplane', () => {
  it('kube-proxy iptables / ipvs / nftables: guardable', () => {
    expect(v(KUBE_IPT)).toMatchObject({ dataplane: 'kube-proxy-iptables', guardable: 'yes', foreign: false });
    expect(v(KUBE_IPVS)).toMatchObject({ dataplane: 'kube-proxy-ipvs', guardable: 'yes' });
    expect(v(NOTHING_IN_NAT, { nftTables: ['ip kube-proxy', 'ip6 kube-proxy'] })).toMatchObject({
      dataplane: 'kube-proxy-nftables',
      guardable: 'yes',
    });
  });

  it('Cilium chains and no kube-proxy chains in a whole nat table: kube-proxy replacement, not guardable', () => {
    const r = v(CILIUM_NAT, { nftTables: [] });
    expect(r).toMatchObject({ dataplane: 'cilium-kpr', guardable: 'no' });
    expect(r.sentence).toMatch(/^Cilium serves NodePorts in eBPF before netfilter/);
    expect(r.sentence).toMatch(
      /apply leaves it alone unless told to guard it anyway \(--guard-anyway NODE\), and then only verify’s probes \(npg verify --probe\) can tell whether the guard works\.$/,
    );
    expect(r.foreign).toBe(true);
    expect(r.evidence).toContain(
      'no kube-proxy chains and no kube-proxy nft table: nothing but Cilium serves Services',
    );
  });

  it('Cilium and kube-proxy chains: Cilium without kube-proxy replacement, guardable', () => {
    const r = v(mergeNodeSigns(KUBE_IPT, CILIUM_NAT));
    expect(r).toMatchObject({ dataplane: 'cilium-with-kube-proxy', guardable: 'yes', foreign: true });
    expect(r.evidence.some((e) => e.includes('ENABLE_NODEPORT') && e.includes('not seen'))).toBe(true);
  });

  it('Cilium serving NodePorts in BPF beside kube-proxy: the BPF define wins over the chains', () => {
    const r = v(KUBE_IPT, CILIUM_NAT, { ciliumDefines: ['ENABLE_NODEPORT'], processes: ['cilium-agent'] });
    expect(r).toMatchObject({ dataplane: 'cilium-kpr', guardable: 'no' });
    expect(r.evidence).toContain(
      "kube-proxy's rules are there too, but Cilium's BPF program answers NodePorts before netfilter",
    );
  });

  it('only Cilium’s pinned maps (Cilium always has them): Cilium is there, the rest decides', () => {
    const maps: NodeSigns = { bpfGlobals: ['cilium_lb4_services_v2'], bpffs: ['tc', 'cilium'] };
    expect(v(maps, KUBE_IPT)).toMatchObject({ dataplane: 'cilium-with-kube-proxy', guardable: 'yes' });
    expect(v(maps, NOTHING_IN_NAT)).toMatchObject({ dataplane: 'cilium-kpr', guardable: 'no' });
    expect(v(maps)).toMatchObject({ dataplane: 'unknown', guardable: 'unsure' });
  });

  it('a grep of Cilium’s chains (no *table header): kube-proxy not shown, so unsure', () => {
    const r = v({ iptables: { tables: {}, unplaced: ['CILIUM_PRE_nat', 'CILIUM_INPUT'] } });
    expect(r).toMatchObject({ dataplane: 'unknown', guardable: 'unsure' });
    expect(r.sentence).toMatch(
      /^Cilium is on this node, but whether kube-proxy or Cilium serves NodePorts is not shown/,
    );
  });

  it('Calico: iptables dataplane is guardable; eBPF NAT maps without kube-proxy are not; both is unsure', () => {
    const caliChains = nat('cali-PREROUTING', 'cali-fip-dnat');
    expect(v(KUBE_IPT, caliChains, { processes: ['calico-node'] })).toMatchObject({
      dataplane: 'kube-proxy-iptables',
      guardable: 'yes',
    });
    expect(v(KUBE_IPT, caliChains).sentence).toContain('with Calico as the network plugin');
    const bpfMaps: NodeSigns = {
      bpfGlobals: ['cali_v4_nat_fe3', 'cali_v4_nat_be'],
      processes: ['calico-node'],
    };
    expect(v(bpfMaps, nat('PREROUTING', 'cali-PREROUTING'))).toMatchObject({
      dataplane: 'calico-ebpf',
      guardable: 'no',
    });
    expect(v(bpfMaps)).toMatchObject({ dataplane: 'calico-ebpf', guardable: 'no' });
    expect(v(bpfMaps, KUBE_IPT)).toMatchObject({ dataplane: 'calico-ebpf', guardable: 'unsure' });
    // maps without calico-node, processes read: maybe left from an earlier run
    const stale = v({ bpfGlobals: ['cali_v4_nat_fe3'], processes: ['kube-proxy'] }, NOTHING_IN_NAT);
    expect(stale).toMatchObject({ dataplane: 'calico-ebpf', guardable: 'unsure' });
    expect(stale.evidence).toContain(
      'calico-node does not run: the maps may be left from an earlier eBPF run',
    );
    // the backend map alone is not the service table
    expect(v({ bpfGlobals: ['cali_v4_nat_be'] }, KUBE_IPT).dataplane).toBe('kube-proxy-iptables');
  });

  it('kube-router: its service proxy chains say so; its netpol chains do not', () => {
    const proxy: NodeSigns = {
      iptables: {
        tables: { filter: ['INPUT', 'KUBE-ROUTER-SERVICES'], nat: ['KUBE-ROUTER-HAIRPIN'] },
        unplaced: [],
      },
    };
    expect(v(proxy)).toMatchObject({ dataplane: 'kube-router', guardable: 'unsure' });
    const netpol: NodeSigns = {
      iptables: { tables: { filter: ['KUBE-ROUTER-INPUT', 'KUBE-ROUTER-FORWARD'] }, unplaced: [] },
    };
    const r = v(netpol, KUBE_IPT);
    expect(r).toMatchObject({ dataplane: 'kube-proxy-iptables', guardable: 'yes' });
    expect(
      r.evidence.some((e) => e.includes('network policy chains') && e.includes('not its service proxy')),
    ).toBe(true);
  });

  it('no kube-proxy chains and nothing known: unsure, never yes', () => {
    expect(v(NOTHING_IN_NAT)).toMatchObject({ dataplane: 'unknown', guardable: 'unsure' });
    expect(v({})).toMatchObject({ dataplane: 'unknown', guardable: 'unsure' });
    expect(v({ processes: [], bpfGlobals: [], bpffs: [] })).toMatchObject({
      dataplane: 'unknown',
      guardable: 'unsure',
    });
  });

  it('kube-proxy running without iptables chains is not "absent" (nftables mode, nft not read)', () => {
    const r = v(CILIUM_NAT, { processes: ['kube-proxy', 'cilium-agent'] });
    expect(r).toMatchObject({ dataplane: 'unknown', guardable: 'unsure' });
    expect(r.evidence).toContain(
      'kube-proxy runs but has no iptables chains: nftables mode? (nft tables not read)',
    );
  });

  it('the kubelet’s chains alone do not make kube-proxy', () => {
    expect(
      v(nat('KUBE-KUBELET-CANARY', 'KUBE-MARK-MASQ', 'KUBE-POSTROUTING', 'CILIUM_PRE_nat')),
    ).toMatchObject({
      dataplane: 'cilium-kpr',
      guardable: 'no',
    });
  });

  it('every verdict has evidence lines and one sentence', () => {
    for (const s of [KUBE_IPT, CILIUM_NAT, mergeNodeSigns(KUBE_IPT, CILIUM_NAT), NOTHING_IN_NAT]) {
      const r = recognizeDataplane(s);
      expect(r.evidence.length).toBeGreaterThan(0);
      for (const e of r.evidence) expect(e).not.toMatch(/\n/);
      expect(r.sentence).toMatch(/^[A-Za-z][^\n]*\.$/);
    }
  });
});
