// tracePacket: walk nat PREROUTING the way the kernel does (jump pushes a return point, goto does
// not, RETURN and the end of a user chain pop, the end of the built-in chain applies its policy),
// fork at statistic matches, and stop a branch at the first rule it cannot evaluate.
import { type ChainIndex, indexChains } from '../kube/chain-index';
import { joinHostPort } from '../kube/host-port';
import { decodeTarget, type NatTarget } from '../netfilter/decode-target';
import { assertNever, type Chain, type Rule, type Target } from '../netfilter/model';
import type { Family } from '../vocabulary';
import { cidrCache, type ParsedAddress, parseAddress, parseCidr } from './cidr';
import { setMatcher } from './ipset-match';
import { applyMarkTarget, forgetBits, initialMark } from './mark-state';
import { type EvalContext, evaluateRule } from './match-eval';
import { summarize } from './outcomes';
import { checkPacket } from './packet-check';
import type { MarkState, Packet, Trace, TraceBranch, TraceHop, TraceInput, Verdict } from './types';

const DEFAULT_MAX_DEPTH = 64;
const DEFAULT_MAX_BRANCHES = 4096;
const DEFAULT_MAX_STEPS = 2_000_000;

/** Targets that neither rewrite nor end the walk. */
const PASS_THROUGH = new Set([
  'NFLOG',
  'ULOG',
  'TRACE',
  'AUDIT',
  'SET',
  'NOTRACK',
  'CT',
  'CONNSECMARK',
  'SECMARK',
]);

interface Frame {
  readonly chain: Chain;
  index: number;
}

/** Hops as a shared-tail list: forking a branch must not copy the hops walked so far. */
interface HopNode {
  readonly hop: TraceHop;
  readonly prev?: HopNode;
}

interface State {
  stack: Frame[];
  mark: MarkState;
  hops?: HopNode;
  probability: number;
}

function fork(s: State, probability: number): State {
  return {
    stack: s.stack.map((f) => ({ chain: f.chain, index: f.index })),
    mark: s.mark,
    ...(s.hops ? { hops: s.hops } : {}),
    probability,
  };
}

function hopsOf(node: HopNode | undefined): TraceHop[] {
  const out: TraceHop[] = [];
  for (let n = node; n; n = n.prev) out.push(n.hop);
  return out.reverse();
}

function notesOf(hops: readonly TraceHop[]): string[] {
  const notes: string[] = [];
  if (hops.some((h) => h.action === 'jump' && h.rule.target?.name === 'KUBE-MARK-MASQ')) {
    notes.push('marked by KUBE-MARK-MASQ: nat POSTROUTING (KUBE-POSTROUTING) masquerades the connection');
  }
  if (hops.some((h) => h.action === 'jump' && h.rule.target?.name === 'KUBE-MARK-DROP')) {
    notes.push('marked by KUBE-MARK-DROP: filter KUBE-FIREWALL drops the packet');
  }
  if (hops.some((h) => h.rule.target?.name === 'KUBE-NODE-PORT')) {
    notes.push('ipvs mode: nat leaves the destination alone; IPVS picks the backend at LOCAL_IN');
  }
  return notes;
}

function connmarkTarget(t: Target, mark: MarkState): MarkState {
  if (!t.options.some((o) => o.name === 'restore-mark')) return mark;
  const maskText = t.options.find((o) => o.name === 'nfmask' || o.name === 'mask')?.values[0];
  const mask = maskText === undefined ? 0xffff_ffff : Number(maskText);
  return forgetBits(mark, Number.isFinite(mask) ? mask : 0xffff_ffff);
}

function unknownTrace(input: TraceInput, reason: string): Trace {
  const verdict: Verdict = { kind: 'unknown', reason };
  const branch: TraceBranch = {
    probability: 1,
    hops: [],
    verdict,
    mark: initialMark(input.packet.mark),
    notes: [],
  };
  return { packet: input.packet, branches: [branch], ...summarize([branch]), warnings: [] };
}

interface Walk {
  readonly index: ChainIndex;
  readonly ctx: EvalContext;
  readonly policy: Verdict;
  readonly maxDepth: number;
  readonly maxBranches: number;
  readonly maxSteps: number;
  readonly work: State[];
  readonly branches: TraceBranch[];
  steps: number;
}

function addHop(s: State, frame: Frame, rule: Rule, action: TraceHop['action'], probability?: number): void {
  const h: TraceHop = {
    chain: frame.chain.name,
    // The frame's index already points past this rule: that is its 1-based position.
    position: frame.index,
    rule,
    action,
    ...(probability === undefined ? {} : { probability }),
  };
  s.hops = s.hops ? { hop: h, prev: s.hops } : { hop: h };
}

/** Enter a user chain (jump or goto); a verdict when that is impossible. */
function enterChain(
  w: Walk,
  s: State,
  frame: Frame,
  rule: Rule,
  t: Target,
  share?: number,
): Verdict | undefined {
  const next = w.index.get(t.name);
  const where = { rule, chain: frame.chain.name };
  if (!next) return { kind: 'unknown', reason: `goto ${t.name}: no such chain in the dump`, ...where };
  if (s.stack.some((f) => f.chain === next))
    return { kind: 'unknown', reason: `chain loop at ${t.name}`, ...where };
  if (s.stack.length >= w.maxDepth)
    return { kind: 'unknown', reason: `deeper than ${w.maxDepth} chains`, ...where };
  addHop(s, frame, rule, t.kind === 'goto' ? 'goto' : 'jump', share);
  // A goto replaces the current frame: RETURN from the target skips the chain that went there.
  if (t.kind === 'goto') s.stack[s.stack.length - 1] = { chain: next, index: 0 };
  else s.stack.push({ chain: next, index: 0 });
  return undefined;
}

function dnatVerdict(t: Target, d: NatTarget, packet: Packet, rule: Rule): Verdict {
  const to = d.to[0];
  if (!to || d.to.length > 1) return { kind: 'unknown', reason: 'DNAT with several ranges', rule };
  const address = to.addresses?.from ?? packet.dst;
  const port = to.ports?.from ?? packet.dport;
  const single =
    (!to.addresses || to.addresses.from === to.addresses.to) && (!to.ports || to.ports.from === to.ports.to);
  // A range stays as written: the kernel picks one address/port per connection.
  const written = t.options.find((o) => o.name === 'to-destination')?.values[0] ?? '';
  return { kind: 'dnat', destination: single ? joinHostPort(address, port) : written, address, port, rule };
}

/** Apply a built-in target: a verdict ends the branch, undefined goes on with the next rule. */
function applyBuiltin(
  w: Walk,
  s: State,
  frame: Frame,
  rule: Rule,
  t: Target,
  share?: number,
): Verdict | undefined {
  const d = decodeTarget(t);
  const ending = (verdict: Verdict): Verdict => {
    addHop(s, frame, rule, 'verdict', share);
    return verdict;
  };
  switch (d.kind) {
    case 'accept':
      return ending({ kind: 'accept', by: 'rule', rule });
    case 'drop':
      return ending({ kind: 'drop', by: 'rule', rule });
    case 'return':
      addHop(s, frame, rule, 'return', share);
      s.stack.pop();
      return undefined;
    case 'redirect':
      return ending({
        kind: 'redirect',
        toPort: d.toPorts?.from ?? w.ctx.packet.dport,
        ...(d.toPorts ? { toPorts: d.toPorts } : {}),
        rule,
      });
    case 'dnat':
      return ending(dnatVerdict(t, d, w.ctx.packet, rule));
    case 'mark':
      s.mark = applyMarkTarget(s.mark, d);
      addHop(s, frame, rule, 'mark', share);
      return undefined;
    case 'log':
      addHop(s, frame, rule, 'continue', share);
      return undefined;
    case 'chain':
      return ending({ kind: 'unknown', reason: `-j ${t.name}: no such chain in the dump`, rule });
    case 'queue':
    case 'reject':
    case 'snat':
    case 'masquerade':
      return ending({ kind: 'unknown', reason: `${t.name} does not belong in nat PREROUTING`, rule });
    case 'unknown':
      if (t.name === 'CONNMARK') {
        s.mark = connmarkTarget(t, s.mark);
        addHop(s, frame, rule, 'mark', share);
        return undefined;
      }
      if (PASS_THROUGH.has(t.name)) {
        addHop(s, frame, rule, 'continue', share);
        return undefined;
      }
      return ending({
        kind: 'unknown',
        reason: `target ${t.name}${d.reason ? `: ${d.reason}` : ' is not modelled'}`,
        rule,
      });
    default:
      return assertNever(d, 'target');
  }
}

/** Walk one branch to its verdict, pushing the other side of every statistic fork onto the work list. */
function runBranch(w: Walk, s: State): Verdict {
  for (;;) {
    const frame = s.stack[s.stack.length - 1];
    if (!frame) return w.policy;
    const rule = frame.chain.rules[frame.index];
    if (!rule) {
      // End of a user chain returns to the caller; of the built-in chain, the policy.
      s.stack.pop();
      continue;
    }
    frame.index++;
    if (++w.steps > w.maxSteps) return { kind: 'unknown', reason: `stopped after ${w.maxSteps} rules`, rule };
    const ev = evaluateRule(rule, w.ctx, s.mark);
    if (ev.kind === 'no') continue;
    if (ev.kind === 'unknown') return { kind: 'unknown', reason: ev.reason, rule, chain: frame.chain.name };
    let share: number | undefined;
    if (ev.probability < 1) {
      if (w.branches.length + w.work.length + 1 >= w.maxBranches) {
        return {
          kind: 'unknown',
          reason: `more than ${w.maxBranches} statistic branches`,
          rule,
          chain: frame.chain.name,
        };
      }
      // The branch that does not match goes on after this rule.
      w.work.push(fork(s, s.probability * (1 - ev.probability)));
      s.probability *= ev.probability;
      share = ev.probability;
    }
    const t = rule.target;
    if (!t) {
      addHop(s, frame, rule, 'continue', share);
      continue;
    }
    const verdict =
      t.kind === 'goto' || w.index.has(t.name)
        ? enterChain(w, s, frame, rule, t, share)
        : applyBuiltin(w, s, frame, rule, t, share);
    if (verdict) return verdict;
  }
}

/**
 * The table's IP family, from its first address (iptables and ip6tables tables look alike
 * otherwise). An IPv4 packet must not be walked through ip6tables rules: its addrtype and port
 * matches would still hit and DNAT it to IPv6 pods.
 */
function tableFamily(input: TraceInput): Family | undefined {
  if (input.family) return input.family;
  for (const chain of input.nat.chains) {
    for (const rule of chain.rules) {
      const text = rule.source?.value ?? rule.destination?.value;
      const parsed = text === undefined ? undefined : parseCidr(text);
      if (parsed) return parsed.family;
    }
  }
  return undefined;
}

function localAddresses(input: TraceInput, warnings: string[]): ParsedAddress[] {
  const local: ParsedAddress[] = [];
  for (const a of input.localAddresses) {
    const parsed = parseAddress(a);
    if (parsed) local.push(parsed);
    else warnings.push(`local address ${a} is not an IP address; ignored`);
  }
  return local;
}

export function tracePacket(input: TraceInput): Trace {
  const { packet } = input;
  const checked = checkPacket(packet);
  if (!checked.ok) return unknownTrace(input, checked.reason);
  const { src, dst } = checked;
  const family = tableFamily(input);
  if (family && family !== src.family) {
    return unknownTrace(input, `the packet is ${src.family} but the table holds ${family} rules`);
  }
  const warnings: string[] = [];
  const index = indexChains(input.nat);
  // kube-proxy's own restore input has no PREROUTING rules (its jump is inserted separately):
  // start where that jump leads, and say so.
  let prerouting = index.get('PREROUTING');
  if (!prerouting) {
    prerouting = index.get('KUBE-SERVICES');
    if (!prerouting) return unknownTrace(input, 'the nat table has no PREROUTING chain');
    warnings.push(
      'PREROUTING is not in the dump: the walk starts at KUBE-SERVICES, where kube-proxy jumps from it',
    );
  }
  const sport = packet.sport === undefined ? {} : { sport: packet.sport };
  const w: Walk = {
    index,
    ctx: {
      packet,
      src,
      dst,
      local: localAddresses(input, warnings),
      cidr: cidrCache(),
      sets: setMatcher(input.ipsets, { src, dst, protocol: packet.protocol, dport: packet.dport, ...sport }),
    },
    // A dump without `:PREROUTING ACCEPT` (kube-proxy restore input, an excerpt) does not say the
    // policy; nat chains are ACCEPT in practice, and the verdict says it was not read from the dump.
    policy:
      prerouting.name === 'PREROUTING' && prerouting.policy === 'DROP'
        ? { kind: 'drop', by: 'policy' }
        : {
            kind: 'accept',
            by: 'policy',
            policyKnown: prerouting.name === 'PREROUTING' && prerouting.policy === 'ACCEPT',
          },
    maxDepth: input.limits?.maxDepth ?? DEFAULT_MAX_DEPTH,
    maxBranches: input.limits?.maxBranches ?? DEFAULT_MAX_BRANCHES,
    maxSteps: input.limits?.maxSteps ?? DEFAULT_MAX_STEPS,
    work: [{ stack: [{ chain: prerouting, index: 0 }], mark: initialMark(packet.mark), probability: 1 }],
    branches: [],
    steps: 0,
  };
  for (let s = w.work.pop(); s; s = w.work.pop()) {
    const verdict = runBranch(w, s);
    const hops = hopsOf(s.hops);
    w.branches.push({ probability: s.probability, hops, verdict, mark: s.mark, notes: notesOf(hops) });
  }
  return { packet, branches: w.branches, ...summarize(w.branches), warnings };
}
