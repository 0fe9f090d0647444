// traceNftPacket: one new connection's first packet through a node's nft ruleset, the way the
// kernel runs it: the prerouting base chains of every table of its family in hook order (ours at
// dstnat - 10 before kube-proxy's at dstnat), then, when nothing rewrote it, the input chains if it
// is for the node or the forward chains if not (kube-proxy's no-endpoint and ClusterIP checks). In
// a chain: jump pushes a return point, goto does not, return and the chain's end pop; an empty
// stack is the base chain's policy. `accept` ends one base chain, the next still runs; drop,
// reject and NAT end the walk. numgen forks.
import { joinHostPort } from '../../kube/host-port';
import type { NftChain, NftTable } from '../../nftables/model';
import { cidrCache, type ParsedAddress, parseAddress, sameAddress } from '../cidr';
import { initialMark } from '../mark-state';
import { summarize } from '../outcomes';
import { checkPacket } from '../packet-check';
import { addHop, chainLabel, clone, hopsOf, notesOf, ruleAt, type State } from './branch';
import { type HookedChain, hookedChains } from './hooks';
import { evaluateNftRule, type RuleAlt, type RuleContext } from './rule-eval';
import type { NftRuleAt, NftTrace, NftTraceBranch, NftTraceInput, NftTraceVerdict } from './types';

const DEFAULT_MAX_DEPTH = 16;
const DEFAULT_MAX_BRANCHES = 4096;
const DEFAULT_MAX_STEPS = 2_000_000;
/** nft refuses a ruleset with a loop; a pasted one may still hold one. Real paths enter a handful. */
const MAX_ENTERED = 1024;

interface Pending {
  readonly state: State;
  readonly at?: { readonly ruleAt: NftRuleAt; readonly alt: RuleAlt };
}

interface Walk {
  readonly stages: readonly HookedChain[];
  readonly contexts: Map<NftTable, RuleContext>;
  readonly chains: Map<NftTable, ReadonlyMap<string, NftChain>>;
  readonly makeContext: (t: NftTable) => RuleContext;
  readonly maxDepth: number;
  readonly maxBranches: number;
  readonly maxSteps: number;
  readonly work: Pending[];
  readonly branches: NftTraceBranch[];
  steps: number;
}

/** A table's chains by name, built on the first jump into it (kube-proxy has one chain per endpoint). */
function chainsOf(w: Walk, table: NftTable): ReadonlyMap<string, NftChain> {
  let m = w.chains.get(table);
  if (!m) {
    m = new Map(table.chains.map((c) => [c.name, c]));
    w.chains.set(table, m);
  }
  return m;
}

/** Enter a chain of the same table (jump or goto); a verdict when that is impossible. */
function enter(
  w: Walk,
  s: State,
  at: NftRuleAt,
  kind: 'jump' | 'goto',
  target: string,
): NftTraceVerdict | undefined {
  const table = s.base!.table;
  const next = chainsOf(w, table).get(target);
  if (!next)
    return {
      kind: 'unknown',
      reason: `${kind} ${target}: no such chain in table ${table.family} ${table.name}`,
      rule: at,
    };
  if (next.base) return { kind: 'unknown', reason: `${kind} ${target}: a base chain`, rule: at };
  if (s.stack.some((f) => f.chain === next))
    return { kind: 'unknown', reason: `chain loop at ${target}`, rule: at };
  if (s.stack.length >= w.maxDepth)
    return { kind: 'unknown', reason: `deeper than ${w.maxDepth} chains`, rule: at };
  if (++s.entered > MAX_ENTERED)
    return { kind: 'unknown', reason: `chain loop: more than ${MAX_ENTERED} chains entered`, rule: at };
  // A goto replaces the current frame: the end of the target returns past the chain that went there.
  if (kind === 'goto') s.stack[s.stack.length - 1] = { chain: next, index: 0 };
  else s.stack.push({ chain: next, index: 0 });
  return undefined;
}

/** Apply one alternative of a rule to the branch: a verdict ends it, undefined goes on. */
function apply(w: Walk, s: State, at: NftRuleAt, alt: RuleAlt): NftTraceVerdict | undefined {
  s.mark = alt.mark;
  s.notes.push(...alt.notes);
  const share = alt.probability;
  const e = alt.end;
  const isNat = s.base!.base.type === 'nat';
  switch (e.kind) {
    case 'no-match':
      if (alt.marked) addHop(s, at, 'mark', share);
      return undefined;
    case 'fallthrough':
      addHop(s, at, alt.marked ? 'mark' : 'continue', share);
      return undefined;
    case 'unknown':
      return { kind: 'unknown', reason: e.reason, rule: at, chain: chainLabel(s.base!.table, at.chain) };
    case 'reject':
      addHop(s, at, 'verdict', share);
      return { kind: 'drop', by: 'rule', rule: at, reject: e.text };
    case 'redirect':
    case 'dnat':
      if (!isNat) return { kind: 'unknown', reason: `${e.kind} in a ${s.base!.base.type} chain`, rule: at };
      addHop(s, at, 'verdict', share);
      return e.kind === 'redirect'
        ? { kind: 'redirect', toPort: e.port, ...(e.ports ? { toPorts: e.ports } : {}), rule: at }
        : {
            kind: 'dnat',
            destination: joinHostPort(e.address, e.port),
            address: e.address,
            port: e.port,
            rule: at,
          };
    case 'verdict': {
      const v = e.verdict;
      switch (v.kind) {
        case 'accept':
          addHop(s, at, 'verdict', share);
          // Ends this base chain only: the next one at the hook still sees the packet.
          s.stack = [];
          s.base = undefined;
          return undefined;
        case 'drop':
          addHop(s, at, 'verdict', share);
          return { kind: 'drop', by: 'rule', rule: at };
        case 'return':
          addHop(s, at, 'return', share);
          s.stack.pop();
          return undefined;
        case 'continue':
          addHop(s, at, 'continue', share);
          return undefined;
        case 'queue':
          return { kind: 'unknown', reason: 'queue: a user-space program decides', rule: at };
        case 'jump':
        case 'goto': {
          addHop(s, at, v.kind, share);
          return enter(w, s, at, v.kind, v.target);
        }
        default: {
          const never: never = v;
          return never;
        }
      }
    }
    default: {
      const never: never = e;
      return never;
    }
  }
}

const ACCEPTED: NftTraceVerdict = { kind: 'accept', by: 'policy', policyKnown: true };

function runBranch(w: Walk, s: State): NftTraceVerdict {
  for (;;) {
    const frame = s.stack[s.stack.length - 1];
    if (!s.base) {
      const stage = w.stages[s.next];
      if (!stage) return ACCEPTED;
      s.next++;
      s.base = stage;
      s.stack = [{ chain: stage.chain, index: 0 }];
      continue;
    }
    if (!frame) {
      // Every frame popped: the base chain's policy.
      if (s.base.base.policy === 'drop')
        return { kind: 'drop', by: 'policy', chain: chainLabel(s.base.table, s.base.chain.name) };
      s.base = undefined;
      continue;
    }
    const rule = frame.chain.rules[frame.index];
    if (!rule) {
      s.stack.pop();
      continue;
    }
    frame.index++;
    const at = ruleAt(s.base.table, frame.chain, frame.index, rule);
    if (++w.steps > w.maxSteps)
      return { kind: 'unknown', reason: `stopped after ${w.maxSteps} rules`, rule: at };
    const table = s.base.table;
    let ctx = w.contexts.get(table);
    if (!ctx) {
      ctx = w.makeContext(table);
      w.contexts.set(table, ctx);
    }
    const alts = evaluateNftRule(rule, ctx, s.mark);
    const [first, ...rest] = alts;
    if (!first) continue;
    for (const alt of rest) {
      if (w.branches.length + w.work.length + 1 >= w.maxBranches)
        return { kind: 'unknown', reason: `more than ${w.maxBranches} numgen branches`, rule: at };
      w.work.push({ state: clone(s, s.probability * alt.probability), at: { ruleAt: at, alt } });
    }
    s.probability *= first.probability;
    const verdict = apply(w, s, at, first);
    if (verdict) return verdict;
  }
}

function unknownTrace(input: NftTraceInput, reason: string): NftTrace {
  const branch: NftTraceBranch = {
    probability: 1,
    hops: [],
    verdict: { kind: 'unknown', reason },
    mark: initialMark(input.packet.mark),
    notes: [],
  };
  return { packet: input.packet, branches: [branch], ...summarize([branch]), warnings: [] };
}

export function traceNftPacket(input: NftTraceInput): NftTrace {
  const { packet } = input;
  const checked = checkPacket(packet);
  if (!checked.ok) return unknownTrace(input, checked.reason);
  const { src, dst } = checked;
  const warnings: string[] = [];
  const local: ParsedAddress[] = [];
  for (const a of input.localAddresses) {
    const parsed = parseAddress(a);
    if (parsed) local.push(parsed);
    else warnings.push(`local address ${a} is not an IP address; ignored`);
  }
  const isLocal = (a: ParsedAddress): boolean =>
    local.some((l) => sameAddress(l, a)) ||
    (a.family === 'ipv4' ? a.bytes[0] === 127 : a.bytes.every((b, i) => b === (i === 15 ? 1 : 0)));
  // Nothing after prerouting rewrites the destination (a NAT ends the walk), so where the packet
  // goes next is known now: up to the node (input) or routed on (forward).
  const dstLocal = isLocal(dst);
  const pre = hookedChains(input.ruleset, 'prerouting', src.family);
  const after = hookedChains(input.ruleset, dstLocal ? 'input' : 'forward', src.family);
  warnings.push(...pre.warnings, ...after.warnings);
  if (pre.chains.length === 0)
    return {
      ...unknownTrace(input, `no ${src.family} base chain hooks prerouting in this ruleset`),
      warnings,
    };
  if (
    input.ruleset.tables.some(
      (t) => t.family === 'netdev' && t.chains.some((c) => c.base?.hook === 'ingress'),
    )
  )
    warnings.push('netdev ingress chains run before prerouting and are not walked');
  const fields = { packet, src, dst, isLocal };
  const cidr = cidrCache();
  const w: Walk = {
    stages: [...pre.chains, ...after.chains],
    contexts: new Map(),
    chains: new Map(),
    makeContext: (table) => ({ table, fields, cidr }),
    maxDepth: input.limits?.maxDepth ?? DEFAULT_MAX_DEPTH,
    maxBranches: input.limits?.maxBranches ?? DEFAULT_MAX_BRANCHES,
    maxSteps: input.limits?.maxSteps ?? DEFAULT_MAX_STEPS,
    work: [
      {
        state: { next: 0, stack: [], mark: initialMark(packet.mark), notes: [], probability: 1, entered: 0 },
      },
    ],
    branches: [],
    steps: 0,
  };
  for (let p = w.work.pop(); p; p = w.work.pop()) {
    const s = p.state;
    const verdict = (p.at && apply(w, s, p.at.ruleAt, p.at.alt)) || runBranch(w, s);
    const hops = hopsOf(s.hops);
    w.branches.push({
      probability: s.probability,
      hops,
      verdict,
      mark: s.mark,
      notes: notesOf(hops, s.notes),
    });
  }
  return { packet, branches: w.branches, ...summarize(w.branches), warnings };
}
