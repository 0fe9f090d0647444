// A NodePort's counters from a fresh nat read, laid over the path of the last full read (pure).
// The diagram's refresh must be cheap on a 5,000-service node: a topology walk of the whole table
// every few seconds would cost the engine far more than the answer is worth, and the structure
// (chains, endpoints) hardly ever changes between two refreshes. So the read's own parse is reused
// (it decodes only the few rules looked at here) and each counted rule of the old view is looked
// up by its text in its chain; a rule that is no longer there loses its counters and says so,
// which tells the engineer to read the nodes again.
import type { EndpointView, NodePortView, PathStepView } from '../../shared/api.js';
import type { Chain, Counters, Table } from '../../shared/netfilter/index.js';
import { findChain, ruleTargetName, serializeRule } from '../../shared/netfilter/index.js';

export interface Overlaid {
  readonly view: NodePortView;
  /** Counted rules of the old view not found in the fresh read. */
  readonly missing: number;
}

/** `-A CHAIN ...` -> CHAIN. */
const chainOfLine = (line: string): string | undefined => /^-A (\S+)/.exec(line)?.[1];

function withCounters<T extends { readonly packets?: number; readonly bytes?: number }>(
  item: T,
  c: Counters | undefined,
): T {
  const { packets: _p, bytes: _b, ...rest } = item;
  return (c ? { ...rest, packets: c.packets, bytes: c.bytes } : rest) as T;
}

/** `base` (a full read's view) with the counters of the same rules in `nat` (a fresh read). */
export function overlayCounters(base: NodePortView, nat: Table): Overlaid {
  // Each chain's rules serialised once, and only for the chains the path names.
  const texts = new Map<string, Map<string, Counters | undefined>>();
  const rulesOf = (name: string): Map<string, Counters | undefined> | undefined => {
    let m = texts.get(name);
    if (m) return m;
    const chain: Chain | undefined = findChain(nat, name);
    if (!chain) return undefined;
    m = new Map();
    for (const r of chain.rules) {
      const key = serializeRule(r);
      // A rule written twice counts in both places; the first is the one a packet meets.
      if (!m.has(key)) m.set(key, r.counters);
    }
    texts.set(name, m);
    return m;
  };
  let missing = 0;
  const step = (s: PathStepView): PathStepView => {
    if (!s.via || (s.packets === undefined && s.bytes === undefined)) return s;
    const chain = chainOfLine(s.via);
    const rules = chain ? rulesOf(chain) : undefined;
    if (!rules?.has(s.via)) {
      missing++;
      return withCounters(s, undefined);
    }
    return withCounters(s, rules.get(s.via));
  };
  const path = base.path.map(step);
  // An endpoint's counters are those of the jump to its KUBE-SEP chain, in one of the path's chains.
  const endpoint = (e: EndpointView): EndpointView => {
    if (!e.chain || (e.packets === undefined && e.bytes === undefined)) return e;
    for (const s of base.path) {
      const chain = findChain(nat, s.chain);
      const jump = chain?.rules.find((r) => ruleTargetName(r) === e.chain);
      if (jump) return withCounters(e, jump.counters);
    }
    missing++;
    return withCounters(e, undefined);
  };
  const endpoints = base.endpoints.map(endpoint);
  const clusterIp = base.clusterIp ? { ...base.clusterIp, path: base.clusterIp.path.map(step) } : undefined;
  return {
    missing,
    view: {
      ...base,
      path,
      endpoints,
      ...(clusterIp ? { clusterIp } : {}),
      notes: missing
        ? [
            `${missing} counted rule${missing === 1 ? ' is' : 's are'} gone since the nodes were last read: read them again (R)`,
            ...base.notes,
          ]
        : base.notes,
    },
  };
}
