// Apply's dataplane refusal on recorded node output: a read whose node shows Cilium serving
// NodePorts in BPF (or Calico's eBPF maps, or kube-router's proxy) is left alone with the reason,
// unless the user guards that node anyway; a plain kube-proxy node is planned as before.
import { describe, expect, it } from 'vitest';
import { FIXTURE_POLICY } from '../../shared/guard/nft/test-support/fixtures';
import { applyChange, dataplaneRefusal } from './node-change';
import { parseScriptOutput } from './sections';
import { nodeSummary } from './service/nodes';
import { snapshotFromOutput } from './snapshot';
import { KUBE_NAT, snapshotOf } from './test-support/dumps';

/** DATAPLANE_SIGNS_SCRIPT's lines on a node where Cilium answers NodePorts in BPF. */
const CILIUM_KPR = [
  '%%npg sign looked bpf',
  '%%npg sign bpf tc',
  '%%npg sign bpf-global cilium_lb4_services_v2',
  '%%npg sign looked proc',
  '%%npg sign proc cilium-agent',
  '%%npg sign looked cilium-config',
  '%%npg sign cilium-define ENABLE_NODEPORT',
  '',
].join('\n');

/** A plan read (PREROUTING and kube-proxy's NodePort chain only) with the given sign lines. */
function planRead(signs: string, node = 'n1') {
  const text = [
    '%%npg kube-backend nft',
    '%%npg begin v4',
    '-P PREROUTING ACCEPT -c 0 0',
    '-A PREROUTING -m comment --comment "kubernetes service portals" -c 10 600 -j KUBE-SERVICES',
    '%%npg end v4 0',
    '%%npg chains.v4 PREROUTING NPG-PREROUTING',
    '%%npg nodeport-chain.v4 KUBE-NODEPORTS',
    signs,
  ].join('\n');
  const r = snapshotFromOutput(node, parseScriptOutput(text), 'plan');
  if (!r.ok) throw new Error(r.message);
  return r.snapshot;
}

describe("apply's dataplane refusal", () => {
  it('leaves a node alone where Cilium serves NodePorts before netfilter, saying why', () => {
    const s = planRead(CILIUM_KPR);
    expect(s.dataplane).toMatchObject({ dataplane: 'cilium-kpr', guardable: 'no', foreign: true });
    const r = applyChange(s, FIXTURE_POLICY);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(
      /^n1: Cilium serves NodePorts in eBPF before netfilter \(kube-proxy replacement\): a nat PREROUTING guard may never see the packet; apply leaves it alone unless told to guard it anyway \(--guard-anyway NODE\)/,
    );
  });

  it('guards it when the user says so for that node, and only that node', () => {
    const s = planRead(CILIUM_KPR);
    expect(dataplaneRefusal(s, { guardAnyway: ['n1'] })).toBeUndefined();
    const r = applyChange(s, FIXTURE_POLICY, { guardAnyway: ['n1'] });
    expect(r.ok && r.change.restores.length).toBe(1);
    expect(dataplaneRefusal(planRead(CILIUM_KPR, 'n2'), { guardAnyway: ['n1'] })).toMatch(/^n2: Cilium/);
  });

  it("plans a kube-proxy node as before: its plan read's jump to KUBE-SERVICES shows kube-proxy", () => {
    const s = planRead('%%npg sign looked bpf\n%%npg sign looked proc\n');
    expect(s.dataplane).toMatchObject({ dataplane: 'kube-proxy-iptables', guardable: 'yes', foreign: false });
    expect(applyChange(s, FIXTURE_POLICY).ok).toBe(true);
    // A full read takes every table's chains.
    expect(snapshotOf('n1', KUBE_NAT).dataplane).toMatchObject({ dataplane: 'kube-proxy-iptables' });
  });

  it("an unsure verdict with no other dataplane's sign is not refused (kube-proxy's own warnings cover it)", () => {
    const s = planRead('');
    const bare = snapshotFromOutput(
      'n1',
      parseScriptOutput(
        '%%npg kube-backend nft\n%%npg begin v4\n-P PREROUTING ACCEPT -c 0 0\n%%npg end v4 0\n%%npg chains.v4 PREROUTING\n',
      ),
      'plan',
    );
    if (!bare.ok) throw new Error(bare.message);
    expect(bare.snapshot.dataplane?.guardable).toBe('unsure');
    expect(dataplaneRefusal(bare.snapshot, {})).toBeUndefined();
    expect(s.dataplane?.guardable).toBe('yes');
  });

  it("is shown in the desktop's node row only where the guard may not see the NodePorts", () => {
    const cilium = snapshotOf('n1', KUBE_NAT, CILIUM_KPR);
    expect(nodeSummary(cilium).dataplane).toEqual({
      guardable: 'no',
      sentence: cilium.dataplane?.sentence,
    });
    expect(nodeSummary(snapshotOf('n2', KUBE_NAT)).dataplane).toBeUndefined();
  });
});

describe('other dataplanes in a plan read', () => {
  it("Calico's eBPF maps beside kube-proxy: unsure, another dataplane's sign, refused", () => {
    const s = planRead(
      '%%npg sign looked bpf\n%%npg sign bpf-global cali_v4_nat_fe3\n%%npg sign looked proc\n%%npg sign proc calico-node\n',
    );
    expect(s.dataplane).toMatchObject({ dataplane: 'calico-ebpf', guardable: 'unsure', foreign: true });
    expect(dataplaneRefusal(s, {})).toMatch(/^n1: Calico's eBPF service maps are on this node/);
  });

  it('kube-router running where the plan read shows no kube-proxy: refused (its chains are not in a plan read)', () => {
    const bare = snapshotFromOutput(
      'n1',
      parseScriptOutput(
        '%%npg kube-backend nft\n%%npg begin v4\n-P PREROUTING ACCEPT -c 0 0\n%%npg end v4 0\n%%npg chains.v4 PREROUTING\n%%npg sign looked proc\n%%npg sign proc kube-router\n',
      ),
      'plan',
    );
    if (!bare.ok) throw new Error(bare.message);
    expect(bare.snapshot.dataplane).toMatchObject({ guardable: 'unsure', foreign: true });
    expect(dataplaneRefusal(bare.snapshot, {})).toMatch(/^n1: /);
    // Beside kube-proxy (a network-policy-only kube-router): kube-proxy serves, nothing refused.
    expect(planRead('%%npg sign looked proc\n%%npg sign proc kube-router\n').dataplane?.guardable).toBe(
      'yes',
    );
  });

  it('prepare marks the refusal as the dataplane one (the window offers "Guard anyway" for it)', () => {
    const s = planRead(CILIUM_KPR);
    const r = applyChange(s, FIXTURE_POLICY);
    expect(!r.ok && r.message === dataplaneRefusal(s, {})).toBe(true);
  });
});
