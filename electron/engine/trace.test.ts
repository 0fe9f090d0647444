import { describe, expect, it } from 'vitest';
import { analyzeTopology, parseIpsetList } from '../../shared/kube/index.js';
import { findTable } from '../../shared/netfilter/index.js';
import { fixture, fixtureNames, parseOk } from '../../shared/test-support/dumps.js';
import { tracePacket } from '../../shared/trace/index.js';
import { traceDump, traceView } from './trace.js';

const read = fixture;
function natOf(text: string) {
  return findTable(parseOk(text).ruleset, 'nat')!;
}

const DUMPS = fixtureNames(/\.ip6?tables-save(-t-nat)?\.txt$/);

const SOURCES = {
  v4: ['198.18.100.13', '198.18.100.9', '198.18.5.5', '198.19.1.10', '127.0.0.1'],
  v6: ['2001:2:0:100::1', '2001:2:0:101::a', '2001:2:0:200::7'],
};

/** Packets for a dump: every NodePort on the node's address, and ClusterIPs named in the dump. */
function packets(text: string, v6: boolean) {
  const nat = natOf(text);
  const ports = analyzeTopology({ nat }).nodePorts.map((n) => ({ dport: n.port, protocol: n.protocol }));
  const node = v6 ? '2001:2::b' : '198.18.0.11';
  const clusterIps = [...text.matchAll(v6 ? /-d (2001:2:[0-9a-f:]+)\/128/g : /-d (198\.1[89]\.[\d.]+)\/32/g)]
    .map((m) => m[1]!)
    .slice(0, 3);
  const out: { src: string; dst: string; dport: number; protocol: 'tcp' | 'udp' | 'sctp' }[] = [];
  for (const src of v6 ? SOURCES.v6 : SOURCES.v4) {
    for (const p of ports) out.push({ src, dst: node, ...p });
    for (const dst of clusterIps) out.push({ src, dst, dport: 80, protocol: 'tcp' });
    out.push({ src, dst: node, dport: 1, protocol: 'udp' });
  }
  return out;
}

describe('traceDump (lazy parse, no topology)', () => {
  /** Verdicts met over all fixtures: the packets must reach DNATs and guard REDIRECTs, not only fall through. */
  const seen = new Set<string>();

  it('has fixtures to compare', () => {
    expect(DUMPS.length).toBeGreaterThanOrEqual(8);
  });

  for (const name of DUMPS) {
    it(`answers what a full parse answers: ${name}`, () => {
      const text = read(name);
      const v6 = name.includes('ip6tables');
      const ipsetName = name.replace(/\.ip6?tables-save(-t-nat)?\.txt$/, '.ipset-list.txt');
      const ipsetText = fixtureNames(/\.ipset-list\.txt$/).includes(ipsetName) ? read(ipsetName) : undefined;
      const full = natOf(text);
      const list = packets(text, v6);
      expect(list.length).toBeGreaterThan(0);
      for (const p of list) {
        const got = traceDump({
          dump: {
            text,
            source: name,
            ...(ipsetText ? { ipsets: { text: ipsetText, source: ipsetName } } : {}),
          },
          ...p,
          localAddresses: [p.dst],
        });
        if (!got.ok) throw new Error(got.message);
        const parsedSets = ipsetText ? parseIpsetList(ipsetText) : undefined;
        const ipsets = parsedSets?.ok ? parsedSets.ipsets : undefined;
        const want = tracePacket({
          nat: full,
          packet: p,
          localAddresses: [p.dst],
          ...(ipsets ? { ipsets } : {}),
        });
        expect(got.value.view, `${p.src} -> ${p.dst}:${p.dport}/${p.protocol}`).toEqual(traceView(want));
        expect(got.value.trace.summary).toBe(want.summary);
        expect(got.value.trace.warnings).toEqual(want.warnings);
        for (const o of got.value.view.outcomes) seen.add(o.verdict);
      }
    });
  }

  it('met DNAT, REDIRECT and unchanged verdicts over the fixtures', () => {
    expect([...seen]).toEqual(expect.arrayContaining(['dnat', 'redirect', 'unchanged']));
  });
});
