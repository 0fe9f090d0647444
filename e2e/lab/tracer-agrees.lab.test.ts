// Issue 3: the packet tracer (shared/trace) agrees with real packets. For every (client address,
// node, NodePort), the tracer's verdict on that node's real `iptables-save -t nat` (and `ipset
// list`) predicts what a real probe sees; also after the well-known one-line REDIRECT is inserted
// by hand for all sources but one. Issue 11: in kube-proxy's nftables mode the same, on the node's
// real `nft -j list ruleset`, and after our guard table is loaded by hand (at dstnat - 10, where it
// guards, and at dstnat + 10, where it must not).
//
// The tracer answers what nat PREROUTING does (nft: also the input chains after it). What happens
// after it is lab knowledge:
//   dnat     -> a pod answers (one of the DNAT destinations)
//   redirect -> refused (nothing listens on the blackhole port)
//   drop     -> timeout; a reject (nft) -> refused
//   accept   -> the packet stays addressed to the node: in ipvs mode the IPVS stand-in listens
//               on NodePorts that have endpoints (reached), otherwise refused (filter REJECT for a
//               service without endpoints, or a closed port).
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCidr } from '../../shared/guard/cidr';
import type { NftDesired, NftDesiredSet, NftRuleSpec } from '../../shared/guard/nft/model';
import { tableBlock } from '../../shared/guard/nft/render';
import { parseIpsetList } from '../../shared/kube/ipset-parse';
import { findTable, parseIptablesSave } from '../../shared/netfilter/index';
import { parseNftJson } from '../../shared/nftables/index';
import {
  type Packet,
  type TracedRule,
  type TraceOutcome,
  traceNftPacket,
  tracePacket,
} from '../../shared/trace/index';
import type { Family } from '../../shared/vocabulary';
import { currentLab, type LabNode, type LabTopology, probeLab } from './lab';
import { mapLimit, nodeNft, withPreroutingRule } from './lab-helpers';
import { dumpNode } from './node-dump';
import { podServerConfig } from './pods/pod-config';
import { readState } from './state';

// nftables mode: the node's whole nft ruleset is walked (kube-proxy's tables and ours); an
// iptables rule inserted by hand would race kube-proxy's dstnat chain there, so the guard cases
// load our nft table instead.
const NFTABLES = (await readState())?.options.mode === 'nftables';

let topo: LabTopology;
beforeAll(async () => {
  topo = await currentLab();
});

/** What predict reads of a trace: the same for the iptables and the nft walk. */
interface AnyTrace {
  readonly packet: Packet;
  readonly outcomes: readonly TraceOutcome<TracedRule>[];
}

interface Prediction {
  readonly outcome: 'reached' | 'refused' | 'timeout';
  /** For reached: the addresses that may answer. */
  readonly addresses: readonly string[];
  readonly why: string;
}

function predict(trace: AnyTrace, node: LabNode, port: number, protocol: 'tcp' | 'udp'): Prediction | string {
  const verdicts = trace.outcomes.map((o) => o.verdict);
  const kinds = new Set(verdicts.map((v) => v.kind));
  if (kinds.size !== 1) return `tracer gave mixed verdicts: ${[...kinds].join(', ')}`;
  const v = verdicts[0]!;
  switch (v.kind) {
    case 'dnat':
      return {
        outcome: 'reached',
        addresses: verdicts.map((x) => (x.kind === 'dnat' ? x.address : '')),
        why: 'dnat',
      };
    case 'redirect':
      return { outcome: 'refused', addresses: [], why: `redirect to ${v.toPort}` };
    case 'drop':
      // nft's reject answers (RST or ICMP port unreachable); a drop does not.
      return v.by === 'rule' && v.reject
        ? { outcome: 'refused', addresses: [], why: `reject (${v.reject})` }
        : { outcome: 'timeout', addresses: [], why: 'drop' };
    case 'accept': {
      const vs = podServerConfig(topo, node, '').virtualServers.find(
        (s) => s.port === port && s.protocol === protocol && s.listen === trace.packet.dst,
      );
      return vs
        ? {
            outcome: 'reached',
            addresses: vs.backends.map((b) => b.ip),
            why: 'accept, IPVS stand-in listens',
          }
        : { outcome: 'refused', addresses: [], why: 'accept, nothing listens / filter REJECT' };
    }
    case 'unknown':
      return `tracer could not decide: ${v.reason}`;
  }
}

async function compareAll(label: string, onlyNode?: LabNode, families = labFamilies()): Promise<string[]> {
  const problems: string[] = [];
  for (const family of families) {
    for (const node of onlyNode ? [onlyNode] : topo.nodes)
      problems.push(...(await compareNode(label, node, family)));
  }
  return problems;
}

function labFamilies(): ('ipv4' | 'ipv6')[] {
  return topo.options.ipv6 ? ['ipv4', 'ipv6'] : ['ipv4'];
}

/** The tracer for one node and family, over what the node holds right now. */
async function tracerOf(node: LabNode, family: Family): Promise<(packet: Packet) => AnyTrace> {
  const dump = await dumpNode(node, family);
  if (NFTABLES) {
    const parsed = parseNftJson(await nodeNft(node, ['-j', 'list', 'ruleset']));
    if (!parsed.ok)
      throw new Error(`${node.name}: nft reader: ${parsed.error.message} (line ${parsed.error.line})`);
    const ruleset = parsed.ruleset;
    return (packet) => traceNftPacket({ ruleset, packet, localAddresses: dump.localAddresses });
  }
  const parsed = parseIptablesSave(dump.nat);
  if (!parsed.ok)
    throw new Error(`${node.name}: parser: ${parsed.error.message} (line ${parsed.error.line})`);
  const nat = findTable(parsed.ruleset, 'nat');
  if (!nat) throw new Error(`${node.name}: no nat table in the dump`);
  const ipsetsParsed = parseIpsetList(dump.ipsets);
  const ipsets = ipsetsParsed.ok ? ipsetsParsed.ipsets : undefined;
  return (packet) =>
    tracePacket({ nat, packet, localAddresses: dump.localAddresses, ...(ipsets ? { ipsets } : {}), family });
}

/**
 * Our nft guard table, as the app writes it (shared/guard/nft/render.ts), for tcp/30001 allowing
 * one source per family, in place for the duration of `fn`. `priority` moves the chain (the guard
 * writes dstnat - 10, -110).
 */
async function withNftGuard<T>(
  node: LabNode,
  allowed: Partial<Record<Family, string>>,
  fn: () => Promise<T>,
  priority = -110,
): Promise<T> {
  const sets: NftDesiredSet[] = [];
  const rules: NftRuleSpec[] = [];
  for (const family of ['ipv4', 'ipv6'] as const) {
    const a = allowed[family];
    if (a === undefined) continue;
    const cidr = parseCidr(a);
    if (!cidr.ok) throw new Error(`${a}: ${cidr.error.message}`);
    const set = `allow-tcp-30001-${family === 'ipv4' ? 'v4' : 'v6'}`;
    sets.push({ name: set, family, elements: [cidr.value.cidr] });
    rules.push({
      protocol: 'tcp',
      port: 30001,
      family,
      set,
      action: { kind: 'redirect', port: 65535 },
      comment: 'nodeport-guard: tracer-agrees',
    });
  }
  const desired: NftDesired = { present: true, sets, rules };
  const text = tableBlock(desired)
    .join('\n')
    .replace(/priority -110;/, `priority ${priority};`);
  // `add` first: the delete then works whether or not a table was there.
  await nodeNft(
    node,
    ['-f', '-'],
    `add table inet nodeport-guard\ndelete table inet nodeport-guard\n${text}\n`,
  );
  try {
    return await fn();
  } finally {
    await nodeNft(node, ['delete', 'table', 'inet', 'nodeport-guard']);
  }
}

async function compareNode(label: string, node: LabNode, family: 'ipv4' | 'ipv6'): Promise<string[]> {
  const v6 = family === 'ipv6';
  const pods = topo.nodes.flatMap((n) => n.pods);
  const podOf = (name: string | undefined) => pods.find((p) => p.name === name);
  const problems: string[] = [];
  {
    const walk = await tracerOf(node, family);
    const cases = topo.clients.flatMap((c) =>
      (v6 ? c.ipv6 : c.ipv4).flatMap((from) =>
        topo.nodePorts
          .filter((np) => np.protocol !== 'sctp')
          .map((np) => ({ from, np, protocol: np.protocol as 'tcp' | 'udp' })),
      ),
    );
    const results = await mapLimit(cases, 4, async ({ from, np, protocol }) => {
      const trace = walk({
        src: from,
        dst: v6 ? node.ipv6! : node.ipv4,
        protocol,
        dport: np.port,
        sport: 40000,
        inInterface: 'eth0',
        mark: 0,
      });
      const want = predict(trace, node, np.port, protocol);
      const where = `${label}: ${from} -> ${node.name}:${np.port}/${protocol}`;
      if (typeof want === 'string') return `${where}: ${want}`;
      const got = await probeLab({ from, node: node.name, port: np.port, udp: protocol === 'udp' });
      if (got.outcome !== want.outcome)
        return `${where}: tracer says ${want.outcome} (${want.why}), probe ${got.outcome} (${got.detail})`;
      if (got.outcome === 'reached') {
        const pod = podOf(got.pod);
        if (!pod || !want.addresses.includes(v6 ? pod.ipv6 : pod.ipv4)) {
          return `${where}: answered by ${got.pod}, tracer allows ${want.addresses.join(', ')}`;
        }
      }
      return '';
    });
    problems.push(...results.filter((r) => r !== ''));
  }
  return problems;
}

describe('tracer vs real packets', () => {
  it('agree on every (client address, node, NodePort) of the unguarded lab', async () => {
    expect(await compareAll('unguarded')).toEqual([]);
  });

  it('agree after our nft guard table is loaded by hand for all but one source (nftables mode)', async (ctx) => {
    if (!NFTABLES) ctx.skip();
    const node = topo.nodes[0]!;
    const allowed = {
      ipv4: `${topo.clients[0]!.ipv4[0]!}/32`,
      ...(topo.options.ipv6 ? { ipv6: `${topo.clients[0]!.ipv6[0]!}/128` } : {}),
    };
    const problems = await withNftGuard(node, allowed, () => compareAll('nft guard', node));
    expect(problems).toEqual([]);
  });

  it('agree that our nft guard at dstnat + 10 guards nothing (nftables mode)', async (ctx) => {
    if (!NFTABLES) ctx.skip();
    const node = topo.nodes[0]!;
    const allowed = { ipv4: `${topo.clients[0]!.ipv4[0]!}/32` };
    const problems = await withNftGuard(
      node,
      allowed,
      () => compareAll('late nft guard', node, ['ipv4']),
      -90,
    );
    expect(problems).toEqual([]);
  });

  it('agree after the one-line REDIRECT guard is inserted by hand for all but one source', async (ctx) => {
    if (NFTABLES) ctx.skip();
    const node = topo.nodes[0]!;
    const allowed = topo.clients[0]!.ipv4[0]!;
    const rule = [
      '-p',
      'tcp',
      '--dport',
      '30001',
      '!',
      '-s',
      `${allowed}/32`,
      '-j',
      'REDIRECT',
      '--to-ports',
      '65535',
    ];
    const problems = await withPreroutingRule(node, rule, () => compareAll('one-line guard', node, ['ipv4']));
    expect(problems).toEqual([]);
  });

  it('agree after the one-line guard over IPv6 (ip6tables) on a dual-stack lab', async (ctx) => {
    if (NFTABLES || !topo.options.ipv6) ctx.skip();
    const node = topo.nodes[1]!;
    const allowed = topo.clients[0]!.ipv6[0]!;
    const rule = [
      '-p',
      'tcp',
      '--dport',
      '30001',
      '!',
      '-s',
      `${allowed}/128`,
      '-j',
      'REDIRECT',
      '--to-ports',
      '65535',
    ];
    const problems = await withPreroutingRule(
      node,
      rule,
      () => compareAll('one-line guard v6', node, ['ipv6']),
      {
        v6: true,
      },
    );
    expect(problems).toEqual([]);
  });
});
