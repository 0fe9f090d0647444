// The dataplane samples of the corpus (e2e/lab/fixtures/corpus, answers read by hand in its README,
// section "Dataplanes other than kube-proxy"), through the recognizer. Each test states the README's
// answer; a sample the node script cannot collect (cilium status, an `ls` listing) is turned into
// the signs it shows by a few lines here, said so in the test.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { signsFromIptablesSave } from './from-dumps';
import { recognizeDataplane } from './recognize';
import type { NodeSigns } from './signs';

const CORPUS = new URL('../../e2e/lab/fixtures/corpus/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, CORPUS), 'utf8');

describe('dataplane corpus', () => {
  it('Cilium beside kube-proxy ipvs mode, `iptables-save -t nat`: cilium-with-kube-proxy, guardable', () => {
    const r = recognizeDataplane(
      signsFromIptablesSave(
        read('dataplane-cilium-with-kube-proxy-ipvs.index19657031834.iptables-save-t-nat.txt'),
      ),
    );
    expect(r).toMatchObject({ dataplane: 'cilium-with-kube-proxy', guardable: 'yes' });
    expect(r.sentence).toContain('(ipvs mode)');
    expect(r.evidence).toContain(
      "Cilium's iptables chains: CILIUM_OUTPUT_nat, CILIUM_POST_nat, CILIUM_PRE_nat",
    );
  });

  it('`iptables-save | grep -i cilium` of a node that also runs kube-proxy: not shown who serves NodePorts', () => {
    const signs = signsFromIptablesSave(
      read('dataplane-cilium-grep-only.index35283897024.iptables-save-grep-cilium.txt'),
    );
    expect(signs.iptables?.tables).toEqual({});
    const r = recognizeDataplane(signs);
    // Wrong: "no KUBE-SERVICES, so Cilium replaces kube-proxy". The grep dropped every other chain.
    expect(r).toMatchObject({ dataplane: 'unknown', guardable: 'unsure' });
    expect(r.sentence).toMatch(/^Cilium is on this node/);
  });

  it('Calico iptables dataplane with kube-proxy ipvs mode, `iptables-save -t nat`: kube-proxy-ipvs, guardable', () => {
    const r = recognizeDataplane(
      signsFromIptablesSave(
        read('dataplane-calico-iptables-kube-proxy-ipvs.index43707430763.iptables-save-t-nat.txt'),
      ),
    );
    expect(r).toMatchObject({ dataplane: 'kube-proxy-ipvs', guardable: 'yes' });
    expect(r.sentence).toContain('with Calico as the network plugin');
  });

  it('k3s with kube-router network policy and kube-proxy, mangle + filter: kube-proxy-iptables, guardable', () => {
    const signs = signsFromIptablesSave(
      read('dataplane-k3s-kube-router-netpol.index61825580380.iptables-save-head.txt'),
    );
    expect(Object.keys(signs.iptables?.tables ?? {}).sort()).toEqual(['filter', 'mangle']);
    const r = recognizeDataplane(signs);
    expect(r).toMatchObject({ dataplane: 'kube-proxy-iptables', guardable: 'yes' });
    expect(r.evidence).toContain(
      "kube-router's network policy chains (KUBE-ROUTER-FORWARD, KUBE-ROUTER-INPUT, KUBE-ROUTER-OUTPUT), not its service proxy",
    );
  });

  it('Calico eBPF, `ls /sys/fs/bpf/tc/globals`: calico-ebpf, not guardable', () => {
    // The listing is what the node script's bpf-global signs would show: the names, one per word.
    const names = read('dataplane-calico-ebpf.index20036751057.ls-sys-fs-bpf-tc-globals.txt')
      .split('\n')
      .slice(1)
      .flatMap((l) => l.split(/\s+/))
      .filter((w) => w.startsWith('cali_'));
    expect(names).toHaveLength(11);
    const signs: NodeSigns = { bpffs: ['tc'], bpfGlobals: names };
    expect(recognizeDataplane(signs)).toMatchObject({ dataplane: 'calico-ebpf', guardable: 'no' });
  });

  it('Cilium 1.18.4 `cilium status` with KubeProxyReplacement True: cilium-kpr, not guardable', () => {
    const text = read('trap-cilium-kpr.naufaruuu-tf-test.cilium-status.txt');
    // Not a sign the node script collects. What it shows, as signs: the agent runs, and kube-proxy
    // replacement is on, which makes the agent write ENABLE_NODEPORT into node_config.h.
    expect(text).toMatch(/^KubeProxyReplacement:\s+True/m);
    const signs: NodeSigns = { processes: ['cilium-agent'], ciliumDefines: ['ENABLE_NODEPORT'] };
    expect(recognizeDataplane(signs)).toMatchObject({ dataplane: 'cilium-kpr', guardable: 'no' });
  });
});
