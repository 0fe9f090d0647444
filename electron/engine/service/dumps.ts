// Dumps loaded for offline analysis. The engine keeps each one (a few at most) under an id, so the
// UI sends 10 MB once and then asks for traces and chain listings by id.
import { randomUUID } from 'node:crypto';
import type {
  ApiResult,
  ChainRulesView,
  InspectResponse,
  NodePortView,
  ParsedRequestOf,
  TraceResponse,
} from '../../../shared/api.js';
import type { Topology } from '../../../shared/kube/index.js';
import { findTable, type Ruleset, serializeRule } from '../../../shared/netfilter/index.js';
import { findNftTable, type NftRuleset } from '../../../shared/nftables/index.js';
import type { Family } from '../../../shared/vocabulary.js';
import { type DumpInput, inspectAnyDump } from '../inspect.js';
import { traceDump, traceNftRuleset } from '../trace.js';
import { nodePortView, topologyView } from '../views.js';
import { badInput, ok } from './results.js';

/** A node read in nftables mode without kube-proxy's listing of that family (not a full read). */
export const NFT_TRACE_REFUSAL =
  "trace: kube-proxy's nft table of this family was not read on this node; read the node again (Refresh)";

/** Enough for a comparison of a few nodes; older dumps are dropped first. */
const MAX_DUMPS = 4;

type HeldDump =
  | {
      readonly format: 'iptables';
      readonly input: DumpInput;
      readonly ruleset: Ruleset;
      readonly topology: Topology;
    }
  | {
      readonly format: 'nft';
      readonly ruleset: NftRuleset;
      readonly family: Family;
      readonly topology: Topology;
    };

export class DumpStore {
  private readonly dumps = new Map<string, HeldDump>();

  inspect(req: ParsedRequestOf<'inspect'>): ApiResult<InspectResponse> {
    const input: DumpInput = {
      text: req.text,
      source: 'rules',
      ...(req.table ? { table: req.table } : {}),
      ...(req.ipsets ? { ipsets: { text: req.ipsets, source: 'ipset list' } } : {}),
      ...(req.ipvs ? { ipvs: { text: req.ipvs, source: 'ipvsadm output' } } : {}),
    };
    // Lazy: every rule is checked, but only the rules a NodePort's path shows are decoded, on demand.
    // An nft ruleset (kube-proxy's nftables mode) takes the nftables reader.
    const r = inspectAnyDump(input);
    if (!r.ok) return badInput(r.message);
    const dumpId = randomUUID();
    const v = r.value;
    this.dumps.set(
      dumpId,
      v.format === 'iptables'
        ? { format: 'iptables', input, ruleset: v.ruleset, topology: v.topology }
        : { format: 'nft', ruleset: v.nft.ruleset, family: v.nft.family, topology: v.topology },
    );
    while (this.dumps.size > MAX_DUMPS) {
      const oldest = this.dumps.keys().next().value;
      if (oldest === undefined) break;
      this.dumps.delete(oldest);
    }
    return ok({ dumpId, ...topologyView(r.value.topology), warnings: r.value.warnings });
  }

  /** One NodePort's full path, from a dump held by id. */
  nodePort(req: ParsedRequestOf<'dumpNodePort'>): ApiResult<NodePortView> {
    const held = this.dumps.get(req.dumpId);
    if (!held) return badInput(`dump ${req.dumpId} is no longer loaded; load it again`);
    const np = held.topology.nodePorts.find((p) => p.port === req.port && p.protocol === req.protocol);
    return np ? ok(nodePortView(np)) : badInput(`${req.protocol}/${req.port}: not a NodePort of this dump`);
  }

  trace(
    dumpId: string,
    req: Omit<ParsedRequestOf<'trace'>, 'source'> & { readonly dst: string },
  ): ApiResult<TraceResponse> {
    const held = this.dumps.get(dumpId);
    if (!held) return badInput(`trace: dump ${dumpId} is no longer loaded; load it again`);
    if (held.format === 'nft') {
      const { src, dst, dport, protocol, inInterface } = req;
      const packet = { src, dst, dport, protocol, ...(inInterface ? { inInterface } : {}) };
      const r = traceNftRuleset({ ruleset: held.ruleset, ...packet, localAddresses: [dst] });
      return r.ok ? ok(r.value.view) : badInput(r.message);
    }
    return traceOn(held.input, req, [req.dst]);
  }

  chainRules(dumpId: string, chain: string): ApiResult<ChainRulesView> {
    const held = this.dumps.get(dumpId);
    if (!held) return badInput(`chain ${chain}: dump ${dumpId} is no longer loaded; load it again`);
    if (held.format === 'nft') return nftChainRules(held.ruleset, held.family, chain);
    // The dump's own family (an ip6tables-save dump lists IPv6 rules), not a fixed ipv4.
    return chainRulesOf(held.ruleset, chain, held.ruleset.family === 'ipv6' ? 'ipv6' : 'ipv4');
  }
}

export function traceOn(
  input: DumpInput,
  req: Omit<ParsedRequestOf<'trace'>, 'source'> & { readonly dst: string },
  localAddresses: readonly string[],
): ApiResult<TraceResponse> {
  const r = traceDump({
    dump: input,
    src: req.src,
    dst: req.dst,
    dport: req.dport,
    protocol: req.protocol,
    ...(req.inInterface ? { inInterface: req.inInterface } : {}),
    localAddresses: localAddresses.includes(req.dst) ? localAddresses : [req.dst, ...localAddresses],
  });
  return r.ok ? ok(r.value.view) : badInput(r.message);
}

/** A nat chain's rules numbered as `iptables -t nat -L CHAIN --line-numbers` numbers them. */
export function chainRulesOf(ruleset: Ruleset, chain: string, family: Family): ApiResult<ChainRulesView> {
  const found = findTable(ruleset, 'nat')?.chains.find((c) => c.name === chain);
  if (!found) return badInput(`chain ${chain}: not in the nat table`);
  return ok({
    chain,
    family,
    rules: found.rules.map((r, i) => ({
      number: i + 1,
      text: serializeRule(r),
      ...(r.counters ? { packets: r.counters.packets, bytes: r.counters.bytes } : {}),
    })),
  });
}

/** A chain of kube-proxy's nft table, its rules numbered in order, as nft prints them. */
export function nftChainRules(ruleset: NftRuleset, family: Family, chain: string): ApiResult<ChainRulesView> {
  const table = findNftTable(ruleset, family === 'ipv6' ? 'ip6' : 'ip', 'kube-proxy');
  const found = table?.chains.find((c) => c.name === chain);
  if (!found)
    return badInput(`chain ${chain}: not in kube-proxy's ${family === 'ipv6' ? 'ip6' : 'ip'} table`);
  return ok({
    chain,
    family,
    rules: found.rules.map((r, i) => ({
      number: i + 1,
      text: r.text,
      ...(r.counters ? { packets: r.counters.packets, bytes: r.counters.bytes } : {}),
    })),
  });
}
