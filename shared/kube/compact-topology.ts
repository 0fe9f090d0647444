// `npg inspect`'s topology on the compact scan of a plain dump (netfilter/nat-scan.ts): the same
// InspectJson that toInspectJson(analyzeTopology(...)) gives, walked over chain ids and rule
// rows, with objects made only for what is printed. It handles kube-proxy's iptables mode in the
// >= 1.24 layout with nothing in front of it (no guard chains, no foreign PREROUTING rules, no
// set matches); for anything else, or any rule fact the scan left to the full decoder, it returns
// undefined and the caller takes the general path (analyze.ts), which knows every case.
// compact-topology.test.ts checks that both give the same output wherever this one answers.
//
// Of the other tables only filter changes the output: without it, a warning that NodePorts
// without endpoints are not listed; with it, the ports its KUBE-EXTERNAL-SERVICES turns away
// (mergeTurnedAway in analyze.ts). Those rules are few (one per service without endpoints), so
// they are read by the general code (readTurnedAway on the parsed lines), not again on rows.

import { findTable, parseIptablesSave } from '../netfilter/index';
import { type NatScan, R_START, RULE_COLUMNS, ruleDport, type TableScan } from '../netfilter/nat-scan';
import { ASK_DPORT, MOD_SET, PROTO_SCTP, PROTO_TCP, PROTO_UDP } from '../netfilter/rule-check';
import { indexChains } from './chain-index';
import type { StepKind } from './chain-kind';
import { JsonBytes } from './compact-json';
import { NotSure, Walker } from './compact-rows';
import { NONE, namedStep, Walk } from './compact-walk';
import { EXTERNAL_SERVICES_CHAIN, readTurnedAway, type TurnedAway } from './external-services';
import type { InspectJson, InspectJsonNodePort } from './inspect-json';

const NO_FILTER_WARNING =
  'no filter table: NodePorts of services without endpoints (kube-proxy rejects them in filter KUBE-EXTERNAL-SERVICES) are not listed';

/** By RuleScan.protocol: the protocol's place in name order (sctp, tcp, udp), -1 for others. */
const PROTOCOL_RANK: Readonly<Record<number, number>> = { [PROTO_SCTP]: 0, [PROTO_TCP]: 1, [PROTO_UDP]: 2 };
const PROTOCOL_BY_RANK = ['sctp', 'tcp', 'udp'] as const;

function rowsOf(scan: TableScan, id: number): number[] {
  const out: number[] = [];
  if (id < 0) return out;
  for (let row = scan.firstRule[id]!, n = scan.ruleCount[id]!; n > 0; row++, n--) out.push(row);
  return out;
}

/** See the module comment; undefined: ask analyzeTopology. */
export function compactInspect(scan: NatScan): InspectJson | undefined {
  const sink = new ObjectSink(scan);
  if (!walkOrUndefined(scan, sink)) return undefined;
  return {
    mode: 'iptables',
    nodePorts: sink.found,
    layout: 'ext',
    backend: scan.backend,
    warnings: warningsOf(scan),
  };
}

/**
 * `JSON.stringify(compactInspect(scan))` as UTF-8 bytes, written as the walk goes
 * (compact-json.ts): what `npg inspect --json` prints. compact-topology.test.ts checks that the
 * two are the same.
 */
export function compactInspectBytes(scan: NatScan): Uint8Array<ArrayBuffer> | undefined {
  // The JSON is ~0.45 bytes per byte of a kube-proxy dump.
  const out = new JsonBytes(scan.text.length >> 1);
  out.raw('{"mode":"iptables","nodePorts":[');
  if (!walkOrUndefined(scan, new ByteSink(scan, out))) return undefined;
  out.raw('],"layout":"ext","backend":');
  out.string(scan.backend);
  out.raw(',"warnings":');
  out.strings(warningsOf(scan));
  out.byte(125);
  return out.result();
}

/** analyzeTopology's warnings in the case handled here: none once the dump has a filter table. */
function warningsOf(scan: NatScan): readonly string[] {
  return scan.filter === undefined ? [NO_FILTER_WARNING] : NONE;
}

/** What the walk hands over for each NodePort, in output order. */
interface Sink {
  nodePort(port: number, protocol: string, front: readonly string[], walk: Walk): void;
}

class ObjectSink implements Sink {
  readonly found: InspectJsonNodePort[] = [];

  constructor(private readonly scan: NatScan) {}

  nodePort(port: number, protocol: string, front: readonly string[], walk: Walk): void {
    const chains = this.scan.chains;
    const path = front.slice();
    for (const id of walk.steps) path.push(id < 0 ? namedStep(id) : chains.name(id));
    const endpointDetails = walk.endpoints;
    const endpoints: string[] = new Array(endpointDetails.length);
    for (let i = 0; i < endpointDetails.length; i++) endpoints[i] = endpointDetails[i]!.endpoint;
    this.found.push({
      port,
      protocol,
      service: walk.service ?? null,
      endpoints,
      externalTrafficPolicy: walk.local ? 'Local' : 'Cluster',
      noEndpoints: walk.noEndpoints,
      endpointsKnown: true,
      endpointDetails,
      guarded: false,
      foreignRules: NONE,
      path,
      notes: walk.notes,
    });
  }
}

/** ObjectSink's objects as JSON bytes, key for key in their order. */
class ByteSink implements Sink {
  private first = true;

  constructor(
    private readonly scan: NatScan,
    private readonly out: JsonBytes,
  ) {}

  nodePort(port: number, protocol: string, front: readonly string[], walk: Walk): void {
    const out = this.out;
    const chains = this.scan.chains;
    out.raw(this.first ? '{"port":' : ',{"port":');
    this.first = false;
    out.number(port);
    out.raw(',"protocol":');
    out.string(protocol);
    out.raw(',"service":');
    if (walk.service === undefined) out.raw('null');
    else out.string(walk.service);
    out.raw(',"endpoints":');
    out.endpoints(walk.endpoints);
    out.raw(walk.local ? '"Local","noEndpoints":' : '"Cluster","noEndpoints":');
    out.raw(walk.noEndpoints ? 'true' : 'false');
    out.raw(',"endpointsKnown":true,"endpointDetails":');
    out.endpointDetails(walk.endpoints);
    out.raw(',"guarded":false,"foreignRules":[],"path":[');
    for (let i = 0; i < front.length; i++) {
      if (i > 0) out.byte(44);
      out.string(front[i]!);
    }
    for (const id of walk.steps) {
      out.byte(44);
      if (id < 0) out.string(namedStep(id));
      else out.chainName(chains, id);
    }
    out.raw('],"notes":');
    out.strings(walk.notes);
    out.byte(125);
  }
}

function walkOrUndefined(scan: NatScan, sink: Sink): boolean {
  try {
    return inspect(scan, sink);
  } catch (e) {
    if (e instanceof NotSure) return false;
    throw e;
  }
}

function inspect(scan: NatScan, sink: Sink): boolean {
  const chains = scan.chains;
  const w = new Walker(scan);
  const nodeports = chains.findName('KUBE-NODEPORTS');
  const services = chains.findName('KUBE-SERVICES');
  const prerouting = chains.findName('PREROUTING');
  // detectMode / detectLayout / readPortGuards, for the one case handled here.
  if (nodeports < 0 || chains.findName('KUBE-NODE-PORT') >= 0) return false;
  if (chains.findName('NPG-PREROUTING') >= 0) return false;
  for (const row of rowsOf(scan, services)) if (w.flags(row) & MOD_SET) return false;
  let ext = false;
  for (let id = 0; id < chains.size && !ext; id++) {
    if (chains.startsWith(id, 'KUBE-EXT-')) ext = true;
    else if (chains.startsWith(id, 'KUBE-XLB-')) return false;
  }
  if (!ext) return false;
  // analyzePrerouting: every rule before kube-proxy's jump must be kube-proxy's own (no foreign
  // rules, no guard entry).
  let kubeJump = false;
  for (const row of rowsOf(scan, prerouting)) {
    const t = w.target(row);
    if (t >= 0 && chains.is(t, 'KUBE-SERVICES')) {
      kubeJump = true;
      continue;
    }
    if (t === -1) continue;
    if (t < 0 || (!kubeJump && !isKube(w.kind(t)))) return false;
  }
  // iptablesWalks: KUBE-NODEPORTS rules grouped by port and protocol. A key orders them as the
  // output is sorted (port, then protocol name), so they are walked in output order and no
  // NodePort object is sorted; a port has one rule but for rare duplicates, kept aside.
  const firstOf = new Map<number, number>();
  let more: Map<number, number[]> | undefined;
  for (const row of rowsOf(scan, nodeports)) {
    const rank = PROTOCOL_RANK[w.protocol(row)] ?? -1;
    const port = ruleDport(scan.rules, row);
    if (w.flags(row) & ASK_DPORT || rank < 0 || port < 0) return false;
    const key = port * 4 + rank;
    if (!firstOf.has(key)) firstOf.set(key, row);
    else {
      more ??= new Map();
      const rows = more.get(key);
      if (rows) rows.push(row);
      else more.set(key, [firstOf.get(key)!, row]);
    }
  }
  // readTurnedAway / mergeTurnedAway: ports filter turns away join the walked ones in key order.
  const away = scan.filter === undefined ? undefined : turnedAway(scan.filter);
  let keys = Int32Array.from(firstOf.keys());
  if (away !== undefined) {
    const extra: number[] = [];
    for (const key of away.keys()) if (!firstOf.has(key)) extra.push(key);
    if (extra.length > 0) {
      const all = new Int32Array(keys.length + extra.length);
      all.set(keys);
      all.set(extra, keys.length);
      keys = all;
    }
  }
  keys.sort();
  const front = kubeJump ? ['PREROUTING', 'KUBE-SERVICES'] : ['PREROUTING'];
  const walk = new Walk(w);
  const one = [0];
  let via: boolean | undefined;
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    const t = away?.get(key);
    const first = firstOf.get(key);
    if (first === undefined) {
      // turnedAwayWalk: through KUBE-NODEPORTS when KUBE-SERVICES jumps there.
      via ??= rowsOf(scan, services).some((row) => w.target(row) === nodeports);
      walk.onlyTurnedAway(nodeports, via, t!.service, t!.local);
    } else {
      let rows = more?.get(key);
      if (rows === undefined) {
        one[0] = first;
        rows = one;
      }
      walk.reset(nodeports);
      walk.run(rows);
      if (t !== undefined) walk.turnAway(t.service, t.local);
    }
    sink.nodePort(key >> 2, PROTOCOL_BY_RANK[key & 3]!, front, walk);
  }
  return true;
}

/**
 * readTurnedAway (external-services.ts) on the rules of filter KUBE-EXTERNAL-SERVICES, keyed as
 * the walk's ports are. Usually there are none; otherwise their lines are parsed the full way
 * (each was checked when the dump was scanned), so what they say is read by the general code.
 */
function turnedAway(filter: TableScan): Map<number, TurnedAway> | undefined {
  const id = filter.chains.findName(EXTERNAL_SERVICES_CHAIN);
  const rows = rowsOf(filter, id);
  if (rows.length === 0) return undefined;
  const text = filter.chains.text;
  const lines = ['*filter'];
  for (const row of rows) {
    const start = filter.rules[row * RULE_COLUMNS + R_START]!;
    const end = text.indexOf('\n', start);
    lines.push(text.slice(start, end < 0 ? text.length : end));
  }
  lines.push('COMMIT', '');
  const parsed = parseIptablesSave(lines.join('\n'));
  const table = parsed.ok ? findTable(parsed.ruleset, 'filter') : undefined;
  if (table === undefined) throw new NotSure();
  const out = new Map<number, TurnedAway>();
  for (const t of readTurnedAway(indexChains(table)).values()) {
    out.set(t.port * 4 + PROTOCOL_BY_RANK.indexOf(t.protocol), t);
  }
  return out;
}

function isKube(kind: StepKind): boolean {
  return kind.startsWith('KUBE-');
}
