// Verify the nft guard: the node's table vs the desired one, per node and NodePort, as typed findings
// with one-line messages (the same ok / drift / error meaning as ../verify.ts), plus the priority check:
// every other nat prerouting chain on the node that runs before the guard, or at the same priority
// (then the order between the two is not defined), is drift: it may DNAT a NodePort first.
import { type Family, familyName, type Protocol } from '../../vocabulary';
import type { DesiredGuard, GuardedPort } from '../desired';
import {
  blackholeListeners,
  type CountersFinding,
  type FindingBase,
  type NodeVerify,
  type PortVerify,
  summariseVerify,
  type VerifyStatus,
} from '../verify';
import type { ListeningPort } from '../warnings';
import { nftDesired } from './desired';
import {
  chainSpecText,
  GUARD_CHAIN,
  type NftDesired,
  type NftGuardState,
  type NftRuleSpec,
  ruleText,
  stateRuleText,
} from './model';
import { NFT_TABLE, NFT_TABLE_FAMILY, parseNftSetName, setType } from './names';
import type { NftBaseChain, NftReadResult } from './parse';

export type NftVerifyStatus = VerifyStatus;

/** `message`, one line: `node-1: tcp/30001 (IPv4): set allow-tcp-30001-v4 lacks 198.18.0.0/24`. */
type Base = FindingBase;
interface OnPort {
  readonly port?: number;
  readonly protocol?: Protocol;
  readonly family?: Family;
}

export type NftFinding =
  | (Base & { readonly kind: 'table-unreadable'; readonly error: string })
  | (Base & { readonly kind: 'chains-unreadable'; readonly error: string })
  | (Base & { readonly kind: 'table-absent' })
  | (Base & { readonly kind: 'table-unexpected' })
  | (Base & { readonly kind: 'chain-missing' })
  | (Base & { readonly kind: 'chain-wrong'; readonly found: string })
  | (Base & { readonly kind: 'priority-wrong'; readonly prio: number; readonly expected: number })
  | (Base & {
      readonly kind: 'priority-shadowed';
      /** The families the other chain sees (an `ip` table: IPv4 only; `inet`: both). */
      readonly families: readonly Family[];
      readonly table: string;
      readonly chain: string;
      readonly prio: number;
      readonly ours: number;
    })
  | (Base & { readonly kind: 'object-unexpected'; readonly object: string })
  | (Base & OnPort & { readonly kind: 'set-missing'; readonly set: string })
  | (Base & OnPort & { readonly kind: 'set-wrong-type'; readonly set: string; readonly found: string })
  | (Base &
      OnPort & {
        readonly kind: 'set-contents';
        readonly set: string;
        /** Allowed by the policy but not in the set: those sources are blocked. */
        readonly missing: readonly string[];
        /** In the set but not in the policy: those sources get through. */
        readonly extra: readonly string[];
      })
  | (Base & OnPort & { readonly kind: 'set-unexpected'; readonly set: string })
  | (Base & OnPort & { readonly kind: 'rule-missing'; readonly rule: string })
  | (Base & OnPort & { readonly kind: 'rule-unexpected'; readonly rule: string })
  | (Base & {
      readonly kind: 'blackhole-listener';
      readonly port: number;
      readonly protocol: Protocol;
      readonly blackholePort: number;
    })
  | CountersFinding;

export type NftFindingKind = NftFinding['kind'];

export type NftPortVerify = PortVerify<NftFinding>;

/** Node-wide findings (table, chain, priority) first. */
export type NftNodeVerify = NodeVerify<NftFinding>;

export interface NftVerifyInput {
  readonly node: string;
  readonly desired: DesiredGuard;
  /** parseNftGuardTable of `nft -j list table inet nodeport-guard` (absent when nft said no such table). */
  readonly table: NftReadResult<NftGuardState>;
  /** parseNftBaseChains of `nft -j list chains`; the priority check is skipped when absent. */
  readonly chains?: NftReadResult<readonly NftBaseChain[]>;
  readonly listeningPorts?: readonly ListeningPort[];
}

type Draft = NftFinding extends infer F
  ? F extends NftFinding
    ? Omit<F, 'node' | 'message'>
    : never
  : never;

export function verifyNftNode(input: NftVerifyInput): NftNodeVerify {
  const { node, desired } = input;
  const findings: NftFinding[] = [];
  const add = (d: Draft, text: string) => {
    const p = 'port' in d && d.port !== undefined ? `${d.protocol}/${d.port}` : undefined;
    const f = 'family' in d && d.family !== undefined ? familyName(d.family) : undefined;
    const where = [p, f && (p ? `(${f})` : f)].filter(Boolean).join(' ');
    findings.push({ ...d, node, message: `${node}: ${where ? `${where}: ` : ''}${text}` } as NftFinding);
  };
  const want = nftDesired(desired);
  const families = desired.families.map((f) => f.family);
  if (!input.table.ok) {
    add(
      { kind: 'table-unreadable', severity: 'error', error: input.table.error.message },
      `could not read table ${NFT_TABLE_FAMILY} ${NFT_TABLE}: ${input.table.error.message}`,
    );
  } else compareTable(input.table.value, want, desired.ports, add);
  if (input.chains && want.present) {
    if (!input.chains.ok) {
      add(
        { kind: 'chains-unreadable', severity: 'error', error: input.chains.error.message },
        `could not read the node's chains: ${input.chains.error.message}`,
      );
    } else {
      const state = input.table.ok ? input.table.value : undefined;
      const ours =
        state?.table === 'present' ? state.chains.find((c) => c.name === GUARD_CHAIN.name)?.prio : undefined;
      for (const s of shadowingChains(input.chains.value, ours ?? GUARD_CHAIN.prio, families)) {
        add(
          { kind: 'priority-shadowed', severity: 'drift', ...s },
          `nat prerouting chain ${s.table} ${s.chain} (priority ${s.prio}) runs ${s.prio === s.ours ? 'at the same priority as' : 'before'} the guard (${s.ours}) for ${s.families.map(familyName).join(' and ')}: it may DNAT a NodePort before the guard sees it`,
        );
      }
    }
  }
  for (const b of blackholeListeners(desired.ports, input.listeningPorts)) add(b.finding, b.message);
  return summariseVerify(node, desired.ports, findings);
}

/**
 * The other nat prerouting chains that run before the guard or with it (priority <= ours), for the
 * families planned. `ip` tables see IPv4 only, `ip6` IPv6 only, `inet` both; other families have no
 * nat prerouting that meets our packets.
 */
export function shadowingChains(
  chains: readonly NftBaseChain[],
  ours: number,
  families: readonly Family[],
): { table: string; chain: string; prio: number; ours: number; families: Family[] }[] {
  const seen: Record<string, readonly Family[]> = { ip: ['ipv4'], ip6: ['ipv6'], inet: ['ipv4', 'ipv6'] };
  return chains.flatMap((c) => {
    if (c.type !== 'nat' || c.hook !== 'prerouting' || c.prio > ours) return [];
    if (c.family === NFT_TABLE_FAMILY && c.table === NFT_TABLE && c.name === GUARD_CHAIN.name) return [];
    const fams = (seen[c.family] ?? []).filter((f) => families.includes(f));
    if (fams.length === 0) return [];
    return [{ table: `${c.family} ${c.table}`, chain: c.name, prio: c.prio, ours, families: fams }];
  });
}

function compareTable(
  state: NftGuardState,
  want: NftDesired,
  ports: readonly GuardedPort[],
  add: (d: Draft, text: string) => void,
): void {
  if (!want.present) {
    if (state.table === 'present')
      add(
        { kind: 'table-unexpected', severity: 'drift' },
        `table ${NFT_TABLE_FAMILY} ${NFT_TABLE} exists but no port is guarded`,
      );
    return;
  }
  if (state.table === 'absent') {
    add(
      { kind: 'table-absent', severity: 'drift' },
      `table ${NFT_TABLE_FAMILY} ${NFT_TABLE} missing: nothing is guarded`,
    );
    return;
  }
  const chain = state.chains.find((c) => c.name === GUARD_CHAIN.name);
  if (!chain) {
    add(
      { kind: 'chain-missing', severity: 'drift' },
      `chain ${GUARD_CHAIN.name} missing: nothing is guarded`,
    );
  } else {
    const { prio, ...rest } = chain;
    if (chainSpecText({ ...rest, prio: GUARD_CHAIN.prio }) !== chainSpecText(GUARD_CHAIN)) {
      add(
        { kind: 'chain-wrong', severity: 'drift', found: chainSpecText(chain) },
        `chain ${chain.name} is "${chainSpecText(chain)}", not "${chainSpecText(GUARD_CHAIN)}"`,
      );
    } else if (prio !== GUARD_CHAIN.prio) {
      add(
        { kind: 'priority-wrong', severity: 'drift', prio: prio ?? Number.NaN, expected: GUARD_CHAIN.prio },
        `chain ${chain.name} has priority ${prio}, not ${GUARD_CHAIN.prio} (dstnat - 10)${(prio ?? 0) > -100 ? ': kube-proxy DNATs first, the guard does nothing' : ''}`,
      );
    }
  }
  for (const c of state.chains) {
    if (c.name !== GUARD_CHAIN.name)
      add(
        { kind: 'object-unexpected', severity: 'drift', object: `chain ${c.name}` },
        `chain ${c.name} in our table is not ours`,
      );
  }
  for (const o of state.others)
    add({ kind: 'object-unexpected', severity: 'drift', object: o }, `${o} in our table is not ours`);

  const modeOf = new Map(ports.map((p) => [`${p.protocol}/${p.port}`, p.mode]));
  // Sets: missing, wrong type, contents.
  const sets = new Map(state.sets.map((s) => [s.name, s]));
  for (const d of want.sets) {
    const at = { ...(parseNftSetName(d.name) ?? {}) };
    const s = sets.get(d.name);
    if (!s) {
      add({ kind: 'set-missing', severity: 'drift', set: d.name, ...at }, `set ${d.name} missing`);
      continue;
    }
    const found = `${s.type} [${s.flags.join(',')}]`;
    if (found !== `${setType(d.family)} [interval]`) {
      add(
        { kind: 'set-wrong-type', severity: 'drift', set: d.name, found, ...at },
        `set ${d.name} is ${found}, not ${setType(d.family)} [interval]`,
      );
    }
    const have = new Set(s.elements);
    const wanted = new Set<string>(d.elements);
    const missing = d.elements.filter((e) => !have.has(e));
    const extra = s.elements.filter((e) => !wanted.has(e));
    if (missing.length > 0 || extra.length > 0) {
      const parts = [
        missing.length > 0 ? `lacks ${shown(missing)} (blocked)` : '',
        extra.length > 0 ? `holds ${shown(extra)}, not in the policy (let through)` : '',
      ].filter(Boolean);
      add(
        { kind: 'set-contents', severity: 'drift', set: d.name, missing, extra, ...at },
        `set ${d.name} ${parts.join('; ')}`,
      );
    }
  }
  const wantedSets = new Set(want.sets.map((s) => s.name));
  for (const s of state.sets) {
    if (wantedSets.has(s.name)) continue;
    const at = parseNftSetName(s.name) ?? {};
    add(
      { kind: 'set-unexpected', severity: 'drift', set: s.name, ...at },
      `set ${s.name} is not in the policy`,
    );
  }
  // Rules: a multiset difference by text.
  const rules = chain?.rules ?? [];
  const have = new Map<string, number>();
  for (const r of rules) have.set(stateRuleText(r), (have.get(stateRuleText(r)) ?? 0) + 1);
  const atRule = (r: NftRuleSpec) => ({ port: r.port, protocol: r.protocol, family: r.family });
  for (const r of want.rules) {
    const key = ruleText(r);
    const n = have.get(key) ?? 0;
    if (n > 0) have.set(key, n - 1);
    else add({ kind: 'rule-missing', severity: 'drift', rule: key, ...atRule(r) }, `rule missing: ${key}`);
  }
  const wantCount = new Map<string, number>();
  for (const r of want.rules) wantCount.set(ruleText(r), (wantCount.get(ruleText(r)) ?? 0) + 1);
  for (const r of rules) {
    const key = stateRuleText(r);
    const n = wantCount.get(key) ?? 0;
    if (n > 0) {
      wantCount.set(key, n - 1);
      if (r.kind === 'guard' && r.counters) {
        const mode = modeOf.get(`${r.protocol}/${r.port}`) ?? 'enforce';
        const { packets, bytes } = r.counters;
        add(
          {
            kind: 'counters',
            severity: 'info',
            port: r.port,
            protocol: r.protocol,
            family: r.family,
            mode,
            packets,
            bytes,
          },
          `${packets} connection${packets === 1 ? '' : 's'} ${mode === 'audit' ? 'would have been blocked' : 'blocked'}`,
        );
      }
      continue;
    }
    const at = r.kind === 'guard' ? atRule(r) : {};
    add(
      { kind: 'rule-unexpected', severity: 'drift', rule: key, ...at },
      `rule in our chain not in the policy: ${key}`,
    );
  }
}

function shown(values: readonly string[]): string {
  const head = values.slice(0, 5).join(', ');
  return values.length > 5 ? `${head} and ${values.length - 5} more` : head;
}
