// The compact scan's rows and chains as the quick topology reads them (compact-topology.ts): a
// chain's kind, a rule's target and facts, a KUBE-SEP chain's endpoint, whether a KUBE-EXT chain
// tests for LOCAL sources. Whatever is not in the simple shape the scan recorded throws NotSure:
// the general path decides then.
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
  R_START,
  R_TARGET,
  RULE_COLUMNS,
  ruleFlags,
  ruleProtocol,
  T_DNAT,
} from '../netfilter/nat-scan';
import { ASK_COMMENT, ASK_DNAT, MOD_ADDRTYPE } from '../netfilter/rule-check';
import { chainKind, type StepKind } from './chain-kind';
import { joinHostPort } from './host-port';
import { findMatch } from './rule-facts';

/** Thrown inside the walk when the general path must decide; never leaves the quick path. */
export class NotSure extends Error {}

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

export class Walker {
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
