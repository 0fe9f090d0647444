// One NodePort's walk on the compact scan: walkServiceChains (service-chains.ts) over rule rows
// and chain ids, from the KUBE-NODEPORTS rules of a port to its endpoints.
import { R_PROBABILITY_END, R_PROBABILITY_START } from '../netfilter/nat-scan';
import { ASK_PROBABILITY, HAS_CONDITIONS, MOD_RECENT, MOD_STATISTIC } from '../netfilter/rule-check';
import { MASQ_DECIDERS, type StepKind, WALK_FOLLOWS, WALK_MAX_DEPTH } from './chain-kind';
import { NotSure, type Walker } from './compact-rows';
import { sortEndpoints } from './endpoint-order';
import { EXTERNAL_SERVICES_CHAIN, STALE_REJECT_NOTE } from './external-services';
import type { InspectJsonEndpoint } from './inspect-json';
import { probabilityAt, serviceFromComment } from './rule-facts';

/** No notes, no foreign rules: one shared empty list (the output is readonly). */
export const NONE: readonly never[] = [];

/**
 * One NodePort's walk (service-chains.ts walkServiceChains, on rows). One Walk serves every
 * NodePort (`reset`): only what is printed is allocated per NodePort.
 */
export class Walk {
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
      if (!WALK_FOLLOWS.has(tk)) continue;
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

  /**
   * mergeTurnedAway (analyze.ts) after `run`: filter KUBE-EXTERNAL-SERVICES also turns this port
   * away; `service` and `local` are its rule's (readTurnedAway).
   */
  turnAway(service: string | undefined, local: boolean): void {
    this.steps.push(FILTER_INPUT_STEP, EXTERNAL_SERVICES_STEP);
    if (this.endpoints.length > 0 && !local) this.note(STALE_REJECT_NOTE);
    if (this.service === undefined) this.service = service;
    this.local ||= local;
    this.noEndpoints = true;
  }

  /**
   * turnedAwayWalk (analyze.ts) instead of `reset` and `run`: a port only filter
   * KUBE-EXTERNAL-SERVICES knows; through KUBE-NODEPORTS when KUBE-SERVICES jumps there.
   */
  onlyTurnedAway(
    nodeports: number,
    viaNodeports: boolean,
    service: string | undefined,
    local: boolean,
  ): void {
    this.reset(nodeports);
    if (!viaNodeports) this.steps.length = 0;
    this.steps.push(FILTER_INPUT_STEP, EXTERNAL_SERVICES_STEP);
    this.service = service;
    this.local = local;
    this.noEndpoints = true;
  }

  run(entry: readonly number[]): void {
    let next = this.nextOf(this.steps[0]!, 0, 0, 'KUBE-NODEPORTS', entry);
    if (next < 0) this.note('KUBE-NODEPORTS sends this port nowhere but KUBE-MARK-MASQ');
    for (let depth = 0; next >= 0 && depth < WALK_MAX_DEPTH; depth++) next = this.enter(next);
    if (next >= 0) this.note(`walk stopped after ${WALK_MAX_DEPTH} chains`);
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
export const MARK_MASQ_STEP = -2;
/** In `Walk.steps`, filterSteps (external-services.ts): filter INPUT, then KUBE-EXTERNAL-SERVICES. */
export const FILTER_INPUT_STEP = -3;
export const EXTERNAL_SERVICES_STEP = -4;
const STEP_NAMES = ['KUBE-MARK-MASQ', 'INPUT', EXTERNAL_SERVICES_CHAIN];

/** The chain name of a step that is no nat chain id (MARK_MASQ_STEP and the filter steps). */
export function namedStep(step: number): string {
  return STEP_NAMES[-step - 2]!;
}
