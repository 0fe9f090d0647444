// `npg inspect`'s topology on the compact scan of a plain nat dump (netfilter/nat-scan.ts): the
// same InspectJson that toInspectJson(analyzeTopology(...)) gives, walked over chain ids and rule
// rows, with objects made only for what is printed. It handles kube-proxy's iptables mode in the
// >= 1.24 layout with nothing in front of it (no guard chains, no foreign PREROUTING rules, no
// set matches); for anything else, or any rule fact the scan left to the full decoder, it returns
// undefined and the caller takes the general path (analyze.ts), which knows every case.
// compact-topology.test.ts checks that both give the same output wherever this one answers.

import type { ChainTable } from '../netfilter/chain-table';
import { decodeMatch } from '../netfilter/decode';
import { findTable, parseIptablesSave } from '../netfilter/index';
import { dnatIpv4PortAt, dnatIpv4PortColon } from '../netfilter/lazy-rule';
import {
  type NatScan,
  R_COMMENT_END,
  R_COMMENT_START,
  R_DNAT_END,
  R_DNAT_START,
  R_PROBABILITY_END,
  R_PROBABILITY_START,
  R_START,
  R_TARGET,
  RULE_COLUMNS,
  ruleDport,
  ruleFlags,
  ruleProtocol,
  T_DNAT,
} from '../netfilter/nat-scan';
import {
  ASK_COMMENT,
  ASK_DNAT,
  ASK_DPORT,
  ASK_PROBABILITY,
  HAS_CONDITIONS,
  MOD_ADDRTYPE,
  MOD_RECENT,
  MOD_SET,
  MOD_STATISTIC,
  PROTO_SCTP,
  PROTO_TCP,
  PROTO_UDP,
} from '../netfilter/rule-check';
import { chainKind, type StepKind } from './chain-kind';
import { joinHostPort } from './host-port';
import type { InspectJson, InspectJsonEndpoint, InspectJsonNodePort } from './inspect-json';
import { findMatch, probabilityValue, serviceFromComment } from './rule-facts';

/** Every StepKind a chain can have, for the per-chain kind codes. */
const KIND_LIST: readonly StepKind[] = [
  'PREROUTING',
  'OUTPUT',
  'POSTROUTING',
  'INPUT',
  'KUBE-SERVICES',
  'KUBE-NODEPORTS',
  'KUBE-NODE-PORT',
  'KUBE-EXT',
  'KUBE-MARK-MASQ',
  'KUBE-MARK-DROP',
  'KUBE-SVC',
  'KUBE-SVL',
  'KUBE-XLB',
  'KUBE-FW',
  'KUBE-SEP',
  'KUBE-POSTROUTING',
  'KUBE-EXTERNAL-SERVICES',
  'KUBE-OTHER',
  'NPG',
  'IPVS',
  'foreign',
];

/**
 * chainKind, with kube-proxy's hashed chains (KUBE-SEP-, -SVC-, -EXT-, -SVL-, -XLB-) told by
 * three characters: this runs once for each of the table's 25,000 chains.
 */
function quickKind(chains: ChainTable, id: number): StepKind {
  if (chains.length(id) > 9 && chains.charCodeAt(id, 8) === DASH && chains.startsWith(id, 'KUBE-')) {
    const a = chains.charCodeAt(id, 5);
    const b = chains.charCodeAt(id, 6);
    const c = chains.charCodeAt(id, 7);
    if (a === 83 /* S */ && b === 69 /* E */ && c === 80 /* P */) return 'KUBE-SEP';
    if (a === 83 /* S */ && b === 86 /* V */ && c === 67 /* C */) return 'KUBE-SVC';
    if (a === 69 /* E */ && b === 88 /* X */ && c === 84 /* T */) return 'KUBE-EXT';
  }
  return chainKind(chains.name(id));
}

const DASH = 45;
const ZERO = 48;
const DOT = 46;
/** Below 2^53: every integer of up to 15 digits is exact, and so is its quotient by 10^k (k <= 15). */
const EXACT_DIGITS = 15;
const POWERS_OF_TEN = Array.from({ length: EXACT_DIGITS + 1 }, (_, k) => 10 ** k);

/**
 * probabilityValue of `text[start, end)` without making its string. kube-proxy writes
 * `0.33333333349`: digits N with k decimals are N / 10^k, which for N < 2^53 is exactly what
 * Number() gives (both are the correctly rounded double). Any other form goes the string way.
 */
export function probabilityAt(text: string, start: number, end: number): number | undefined {
  let n = 0;
  let digits = 0;
  let decimals = -1;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === DOT && decimals < 0 && digits > 0) decimals = 0;
    else if (c >= ZERO && c <= ZERO + 9) {
      n = n * 10 + (c - ZERO);
      digits++;
      if (decimals >= 0) decimals++;
    } else return probabilityValue(text.slice(start, end));
  }
  if (digits === 0 || digits > EXACT_DIGITS || decimals === 0)
    return probabilityValue(text.slice(start, end));
  const value = decimals < 0 ? n : n / POWERS_OF_TEN[decimals]!;
  return value <= 1 ? value : undefined;
}

/** Thrown inside the walk when the general path must decide; never leaves this module. */
class NotSure extends Error {}

const MAX_DEPTH = 8;
const NO_FILTER_WARNING =
  'no filter table: NodePorts of services without endpoints (kube-proxy rejects them in filter KUBE-EXTERNAL-SERVICES) are not listed';

class Walker {
  /** Per chain id: 1 + index in KIND_LIST, 0 until asked (dense typed arrays, not sparse ones). */
  private readonly kinds: Uint8Array;
  private readonly rules: Int32Array;
  private readonly text: string;
  /** Per KUBE-SEP chain id: its endpoint, or null when it has no DNAT; undefined: not read yet. */
  private readonly seps: string[];

  constructor(readonly scan: NatScan) {
    this.rules = scan.rules;
    this.text = scan.text;
    this.kinds = new Uint8Array(scan.chains.size);
    this.seps = new Array<string>(scan.chains.size).fill('');
  }

  kind(id: number): StepKind {
    if (id < 0) return 'foreign';
    const known = this.kinds[id]!;
    if (known !== 0) return KIND_LIST[known - 1]!;
    const k = quickKind(this.scan.chains, id);
    this.kinds[id] = KIND_LIST.indexOf(k) + 1;
    return k;
  }

  protocol(row: number): number {
    return ruleProtocol(this.rules, row);
  }

  fact(row: number, column: number): number {
    return this.rules[row * RULE_COLUMNS + column]!;
  }

  target(row: number): number {
    return this.rules[row * RULE_COLUMNS + R_TARGET]!;
  }

  flags(row: number): number {
    return ruleFlags(this.rules, row);
  }

  comment(row: number): string | undefined {
    if (this.flags(row) & ASK_COMMENT) throw new NotSure();
    const s = this.fact(row, R_COMMENT_START);
    return s < 0 ? undefined : this.text.slice(s, this.fact(row, R_COMMENT_END));
  }

  /** The endpoint (`address:port`) of the first DNAT of SEP chain `id`; NotSure for other forms. */
  endpointOf(id: number): string {
    const known = this.seps[id]!;
    if (known !== '') return known;
    const first = this.scan.firstRule[id]!;
    for (let row = first, n = this.scan.ruleCount[id]!; n > 0; row++, n--) {
      const target = this.target(row);
      // `-g DNAT` names a chain, which the general path would take for the DNAT rule.
      if (target >= 0 && this.scan.chains.is(target, 'DNAT')) throw new NotSure();
      if (target !== T_DNAT) continue;
      if (this.flags(row) & ASK_DNAT) throw new NotSure();
      const s = this.fact(row, R_DNAT_START);
      const e = this.fact(row, R_DNAT_END);
      const colon = s < 0 ? -1 : dnatIpv4PortColon(this.text, s, e);
      if (colon < 0) throw new NotSure();
      // joinHostPort(address, port) is the text as written unless the port has leading zeros.
      let endpoint: string;
      if (e - colon === 2 || this.text.charCodeAt(colon + 1) !== ZERO) endpoint = this.text.slice(s, e);
      else {
        const d = dnatIpv4PortAt(this.text, s, e)!;
        endpoint = joinHostPort(d.address, d.port);
      }
      this.seps[id] = endpoint;
      return endpoint;
    }
    // A SEP chain without DNAT: the general path reads the endpoint from the service's comment.
    throw new NotSure();
  }

  /** hasLocalSourceRule of service-chains.ts: decodes the (rare) addrtype rules of a KUBE-EXT chain. */
  hasLocalSourceRule(id: number): boolean {
    const first = this.scan.firstRule[id]!;
    for (let row = first, n = this.scan.ruleCount[id]!; n > 0; row++, n--) {
      if ((this.flags(row) & MOD_ADDRTYPE) === 0) continue;
      const at = row * RULE_COLUMNS;
      const start = this.rules[at + R_START]!;
      const end = this.text.indexOf('\n', start);
      const line = this.text.slice(start, end < 0 ? this.text.length : end);
      const parsed = parseIptablesSave(`*nat\n${line}\nCOMMIT\n`);
      const rule = parsed.ok
        ? findTable(parsed.ruleset, 'nat')?.chains.find((c) => c.rules.length)?.rules[0]
        : undefined;
      if (!rule) throw new NotSure();
      const m = findMatch(rule, 'addrtype');
      const d = m && decodeMatch(m);
      if (
        d?.kind === 'addrtype' &&
        d.srcType !== undefined &&
        !d.srcType.negated &&
        d.srcType.value.includes('LOCAL')
      )
        return true;
    }
    return false;
  }
}

const FOLLOWED: ReadonlySet<StepKind> = new Set([
  'KUBE-EXT',
  'KUBE-SVC',
  'KUBE-SVL',
  'KUBE-XLB',
  'KUBE-FW',
  'KUBE-MARK-DROP',
]);
const MASQ_DECIDERS: ReadonlySet<StepKind> = new Set(['KUBE-NODEPORTS', 'KUBE-EXT', 'KUBE-XLB', 'KUBE-FW']);

/** No notes, no foreign rules: one shared empty list (the output is readonly). */
const NONE: readonly never[] = [];

/**
 * One NodePort's walk (service-chains.ts walkServiceChains, on rows). One Walk serves every
 * NodePort (`reset`): only what is printed is allocated per NodePort.
 */
class Walk {
  readonly steps: number[] = [];
  private noteList: string[] | undefined;
  /** The chain of the first KUBE-MARK-MASQ jump (of a deciding chain) every packet takes, or -1. */
  private always = -1;
  service: string | undefined;
  local = false;
  endpoints: InspectJsonEndpoint[] = NONE as never[];
  noEndpoints = false;

  constructor(private readonly w: Walker) {}

  reset(nodeports: number): void {
    this.steps.length = 0;
    this.steps.push(nodeports);
    this.noteList = undefined;
    this.always = -1;
    this.service = undefined;
    this.local = false;
    this.endpoints = NONE as never[];
    this.noEndpoints = false;
  }

  get notes(): readonly string[] {
    return this.noteList ?? NONE;
  }

  private note(text: string): void {
    this.noteList ??= [];
    this.noteList.push(text);
  }

  private noteService(row: number): void {
    if (this.service === undefined) this.service = serviceFromComment(this.w.comment(row));
  }

  /** The rows `first..first+count` (or `rows`) of chain `chain`. */
  private nextOf(
    chain: number,
    first: number,
    count: number,
    kind: StepKind,
    rows?: readonly number[],
  ): number {
    const w = this.w;
    let fallback = -1;
    const n = rows ? rows.length : count;
    const decides = MASQ_DECIDERS.has(kind);
    for (let i = 0; i < n; i++) {
      const row = rows ? rows[i]! : first + i;
      this.noteService(row);
      const target = w.target(row);
      if (target < 0) continue;
      const tk = w.kind(target);
      if (tk === 'KUBE-MARK-MASQ') {
        if (decides && this.always < 0 && (w.flags(row) & HAS_CONDITIONS) === 0) this.always = chain;
        continue;
      }
      if (!FOLLOWED.has(tk)) continue;
      if ((w.flags(row) & HAS_CONDITIONS) === 0) return row;
      if (fallback < 0) fallback = row;
    }
    return kind === 'KUBE-NODEPORTS' ? fallback : -1;
  }

  private enter(via: number): number {
    const w = this.w;
    const scan = w.scan;
    const id = w.target(via);
    const kind = w.kind(id);
    if (this.steps.includes(id)) {
      this.note(`chain loop at ${scan.chains.name(id)}`);
      return -1;
    }
    this.steps.push(id);
    if (kind === 'KUBE-SVL' || kind === 'KUBE-XLB') this.local = true;
    if (kind === 'KUBE-MARK-DROP') {
      this.noEndpoints = true;
      return -1;
    }
    const first = scan.firstRule[id]!;
    const count = scan.ruleCount[id]!;
    if (kind === 'KUBE-EXT' && w.hasLocalSourceRule(id)) this.local = true;
    // pickEndpoints: rule i is taken with p_i of what reached it.
    let endpoints: InspectJsonEndpoint[] | undefined;
    let reach = 1;
    for (let i = 0; i < count; i++) {
      const row = first + i;
      const target = w.target(row);
      if (target < 0 || w.kind(target) !== 'KUBE-SEP') continue;
      const flags = w.flags(row);
      if (flags & MOD_RECENT) continue;
      let p = 1;
      if (flags & MOD_STATISTIC) {
        if (flags & ASK_PROBABILITY) throw new NotSure();
        const s = w.fact(row, R_PROBABILITY_START);
        p = s < 0 ? 0 : (probabilityAt(scan.text, s, w.fact(row, R_PROBABILITY_END)) ?? 0);
      }
      const share = reach * p;
      reach *= 1 - p;
      endpoints ??= [];
      endpoints.push({ endpoint: w.endpointOf(target), probability: share, chain: scan.chains.name(target) });
    }
    if (endpoints !== undefined) {
      for (let i = 0; i < count; i++) this.noteService(first + i);
      this.endpoints = endpoints;
      if (reach > 1e-6) {
        this.note(`${(reach * 100).toFixed(2)}% of connections run off the end of ${scan.chains.name(id)}`);
      }
      return -1;
    }
    const following = this.nextOf(id, first, count, kind);
    if (following < 0) this.noEndpoints = true;
    return following;
  }

  run(entry: readonly number[]): void {
    let next = this.nextOf(this.steps[0]!, 0, 0, 'KUBE-NODEPORTS', entry);
    if (next < 0) this.note('KUBE-NODEPORTS sends this port nowhere but KUBE-MARK-MASQ');
    for (let depth = 0; next >= 0 && depth < MAX_DEPTH; depth++) next = this.enter(next);
    if (next >= 0) this.note(`walk stopped after ${MAX_DEPTH} chains`);
    // endpointsKnown is always true here: every chain a rule names is in the scan.
    if (this.endpoints.length === 0) this.noEndpoints = true;
    if (this.always >= 0) {
      const at = this.steps.indexOf(this.always);
      this.steps.splice(at + 1, 0, MARK_MASQ_STEP);
    }
    sortEndpoints(this.endpoints);
  }
}

/** In `Walk.steps`, the KUBE-MARK-MASQ step (by name: the chain need not exist). */
const MARK_MASQ_STEP = -2;

function sortEndpoints(endpoints: InspectJsonEndpoint[]): void {
  for (let i = 1; i < endpoints.length; i++) {
    const e = endpoints[i]!;
    let j = i - 1;
    while (j >= 0 && endpoints[j]!.endpoint > e.endpoint) {
      endpoints[j + 1] = endpoints[j]!;
      j--;
    }
    endpoints[j + 1] = e;
  }
}

function protocolName(p: number): 'tcp' | 'udp' | 'sctp' | undefined {
  return p === PROTO_TCP ? 'tcp' : p === PROTO_UDP ? 'udp' : p === PROTO_SCTP ? 'sctp' : undefined;
}

function rowsOf(scan: NatScan, id: number): number[] {
  const out: number[] = [];
  if (id < 0) return out;
  for (let row = scan.firstRule[id]!, n = scan.ruleCount[id]!; n > 0; row++, n--) out.push(row);
  return out;
}

/** See the module comment; undefined: ask analyzeTopology. */
export function compactInspect(scan: NatScan): InspectJson | undefined {
  try {
    return inspect(scan);
  } catch (e) {
    if (e instanceof NotSure) return undefined;
    throw e;
  }
}

function inspect(scan: NatScan): InspectJson | undefined {
  const chains = scan.chains;
  const w = new Walker(scan);
  const nodeports = chains.findName('KUBE-NODEPORTS');
  const services = chains.findName('KUBE-SERVICES');
  const prerouting = chains.findName('PREROUTING');
  // detectMode / detectLayout / readPortGuards, for the one case handled here.
  if (nodeports < 0 || chains.findName('KUBE-NODE-PORT') >= 0) return undefined;
  if (chains.findName('NPG-PREROUTING') >= 0) return undefined;
  for (const row of rowsOf(scan, services)) if (w.flags(row) & MOD_SET) return undefined;
  let ext = false;
  for (let id = 0; id < chains.size && !ext; id++) {
    if (chains.startsWith(id, 'KUBE-EXT-')) ext = true;
    else if (chains.startsWith(id, 'KUBE-XLB-')) return undefined;
  }
  if (!ext) return undefined;
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
    if (t < 0 || (!kubeJump && !isKube(w.kind(t)))) return undefined;
  }
  // iptablesWalks: KUBE-NODEPORTS rules grouped by port and protocol, in order of appearance.
  const groups = new Map<number, number[]>();
  for (const row of rowsOf(scan, nodeports)) {
    const flags = w.flags(row);
    const protocol = protocolName(w.protocol(row));
    const port = ruleDport(scan.rules, row);
    if (flags & ASK_DPORT || protocol === undefined || port < 0) return undefined;
    const key = port * 4 + w.protocol(row);
    const g = groups.get(key);
    if (g) g.push(row);
    else groups.set(key, [row]);
  }
  const front = kubeJump ? ['PREROUTING', 'KUBE-SERVICES'] : ['PREROUTING'];
  const found: InspectJsonNodePort[] = [];
  const walk = new Walk(w);
  for (const rows of groups.values()) {
    const first = rows[0]!;
    const port = ruleDport(scan.rules, first);
    const protocol = protocolName(w.protocol(first))!;
    walk.reset(nodeports);
    walk.run(rows);
    const path = front.slice();
    for (const id of walk.steps) path.push(id === MARK_MASQ_STEP ? 'KUBE-MARK-MASQ' : chains.name(id));
    const endpointDetails = walk.endpoints;
    const endpoints: string[] = new Array(endpointDetails.length);
    for (let i = 0; i < endpointDetails.length; i++) endpoints[i] = endpointDetails[i]!.endpoint;
    found.push({
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
  found.sort((a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0));
  return {
    mode: 'iptables',
    nodePorts: found,
    layout: 'ext',
    backend: scan.backend,
    warnings: [NO_FILTER_WARNING],
  };
}

function isKube(kind: StepKind): boolean {
  return kind.startsWith('KUBE-');
}
