// Verify: compare what a node's nat tables hold with the desired guard, and say precisely what differs.
// Per node and NodePort a list of typed findings, each with a one-line message naming node, port and
// the difference; drift is "the check failed: the node does not guard as the policy says" (rules
// differ, a listener on the blackhole port, the guard in the other iptables backend), error is
// "could not check" (the contract's exit 1 and 2).
import type { Backend, Counters, Ruleset } from '../netfilter/model';
import type { Family, Protocol } from '../vocabulary';
import { type ChainName, ENTRY_CHAIN, familyName, parsePortChainName } from '../vocabulary';
import type { GuardMode } from '../workspace/schema';
import type { DesiredGuard, FamilyDesired, GuardedPort } from './desired';
import { multisetMinus } from './plan';
import { entryJumpRule } from './rules';
import { extractGuardState, type FamilyGuardState, ruleKey } from './state';
import type { ListeningPort } from './warnings';

export type VerifyStatus = 'ok' | 'drift' | 'error';
export type Severity = 'info' | 'drift' | 'error';

/** What a finding of either guard (iptables here, nft in ./nft/verify.ts) has. */
export interface FindingBase {
  readonly node: string;
  readonly severity: Severity;
  /** One line: `node-1: tcp/30001 (IPv4): rule missing from NPG-TCP-30001: -A ...`. */
  readonly message: string;
}
type Base = FindingBase;

/** The block (or audit) rule's counters of one port and family; both guards' unions hold it as is. */
export interface CountersFinding extends FindingBase {
  readonly kind: 'counters';
  readonly port: number;
  readonly protocol: Protocol;
  readonly family: Family;
  readonly mode: GuardMode;
  /** First packets of connections redirected (enforce) or that would have been (audit). */
  readonly packets: number;
  readonly bytes: number;
}

/** A finding as summing up sees it: about the node, or about one port. */
export type VerifyFinding =
  | CountersFinding
  | (FindingBase & { readonly kind: string; readonly port?: number; readonly protocol?: Protocol });

interface At {
  readonly family: Family;
}
interface OnPort {
  readonly port?: number;
  readonly protocol?: Protocol;
}

export type Finding =
  | (Base & At & { readonly kind: 'family-unreadable'; readonly error: string })
  | (Base & { readonly kind: 'backend-mismatch'; readonly guard: Backend; readonly kubeProxy: Backend })
  | (Base & At & { readonly kind: 'entry-missing' })
  | (Base & At & { readonly kind: 'entry-duplicate'; readonly positions: readonly number[] })
  | (Base &
      At & {
        readonly kind: 'entry-after-kube-services';
        readonly position: number;
        readonly kubeServicesAt: number;
      })
  | (Base & At & { readonly kind: 'entry-not-canonical'; readonly position: number; readonly rule: string })
  | (Base & At & { readonly kind: 'entry-unexpected'; readonly positions: readonly number[] })
  | (Base & At & OnPort & { readonly kind: 'chain-missing'; readonly chain: ChainName })
  | (Base & At & OnPort & { readonly kind: 'chain-unexpected'; readonly chain: ChainName })
  | (Base & At & OnPort & { readonly kind: 'rule-missing'; readonly chain: ChainName; readonly rule: string })
  | (Base &
      At &
      OnPort & { readonly kind: 'rule-unexpected'; readonly chain: ChainName; readonly rule: string })
  | (Base & At & OnPort & { readonly kind: 'rule-order'; readonly chain: ChainName })
  | (Base &
      At & {
        readonly kind: 'foreign-reference';
        readonly chain: string;
        readonly position: number;
        readonly target: ChainName;
      })
  | (Base & {
      readonly kind: 'blackhole-listener';
      readonly port: number;
      readonly protocol: Protocol;
      readonly blackholePort: number;
    })
  | CountersFinding;

export type FindingKind = Finding['kind'];

/** One port's verify; `F` is the guard's finding union (this file's by default, NftFinding for nft). */
export interface PortVerify<F extends VerifyFinding = Finding> {
  readonly port: number;
  readonly protocol: Protocol;
  readonly mode: GuardMode;
  readonly status: VerifyStatus;
  readonly findings: readonly F[];
  /** Per family, the block (or audit) rule's counters, when the read had counters (`iptables-save -c`). */
  readonly counters: readonly { readonly family: Family; readonly counters: Counters }[];
}

export interface NodeVerify<F extends VerifyFinding = Finding> {
  readonly node: string;
  readonly status: VerifyStatus;
  /** Every finding, node-wide ones (entry jump, unreadable table) first. */
  readonly findings: readonly F[];
  readonly ports: readonly PortVerify<F>[];
}

/** One family's nat dump as read from the node, or why it could not be read. */
export type FamilyRead =
  | { readonly family: Family; readonly ruleset: Ruleset }
  | { readonly family: Family; readonly state: FamilyGuardState }
  | { readonly family: Family; readonly error: string };

export interface VerifyNodeInput {
  readonly node: string;
  readonly desired: DesiredGuard;
  readonly reads: readonly FamilyRead[];
  /** `ss -Hltn` / `ss -Hlun` on the node; not checked when absent. */
  readonly listeningPorts?: readonly ListeningPort[];
  /** Where our chains were found vs where kube-proxy writes; not checked when absent. */
  readonly backends?: { readonly guard: Backend; readonly kubeProxy: Backend };
}

type Draft = Finding extends infer F ? (F extends Finding ? Omit<F, 'node' | 'message'> : never) : never;

export function verifyNode(input: VerifyNodeInput): NodeVerify {
  const { node, desired } = input;
  const findings: Finding[] = [];
  const portOf = new Map(desired.ports.map((p) => [p.chain as string, p]));
  const add = (d: Draft, text: string) => {
    const p = 'port' in d && d.port !== undefined ? `${d.protocol}/${d.port}` : undefined;
    const fam = 'family' in d ? familyName(d.family) : undefined;
    const where = [p, fam && (p ? `(${fam})` : fam)].filter(Boolean).join(' ');
    findings.push({ ...d, node, message: `${node}: ${where ? `${where}: ` : ''}${text}` } as Finding);
  };

  const b = input.backends;
  if (b && b.guard !== 'unknown' && b.kubeProxy !== 'unknown' && b.guard !== b.kubeProxy) {
    add(
      { kind: 'backend-mismatch', severity: 'drift', guard: b.guard, kubeProxy: b.kubeProxy },
      `the guard is in iptables-${b.guard} but kube-proxy uses iptables-${b.kubeProxy}: the two do not order against each other`,
    );
  }
  for (const want of desired.families) {
    const read = input.reads.find((r) => r.family === want.family);
    const family = want.family;
    if (!read) {
      add(
        { kind: 'family-unreadable', severity: 'error', family, error: 'not read' },
        'nat table was not read',
      );
      continue;
    }
    if ('error' in read) {
      add(
        { kind: 'family-unreadable', severity: 'error', family, error: read.error },
        `could not read the nat table: ${read.error}`,
      );
      continue;
    }
    let state: FamilyGuardState;
    if ('state' in read) state = read.state;
    else {
      const r = extractGuardState(read.ruleset, family);
      if (!r.ok) {
        add({ kind: 'family-unreadable', severity: 'error', family, error: r.error }, r.error);
        continue;
      }
      state = r.state;
    }
    compareFamily(state, want, portOf, add);
  }
  for (const b of blackholeListeners(desired.ports, input.listeningPorts)) add(b.finding, b.message);
  return summariseVerify(node, desired.ports, findings);
}

/**
 * Enforced ports whose blackhole port has a listener: blocked clients would reach it (both guards'
 * verify say it the same way).
 */
export function blackholeListeners(
  ports: readonly GuardedPort[],
  listening: readonly ListeningPort[] | undefined,
): {
  readonly finding: {
    readonly kind: 'blackhole-listener';
    readonly severity: 'drift';
    readonly port: number;
    readonly protocol: Protocol;
    readonly blackholePort: number;
  };
  readonly message: string;
}[] {
  return ports
    .filter(
      (p) =>
        p.mode === 'enforce' &&
        listening?.some((l) => l.protocol === p.protocol && l.port === p.blackholePort),
    )
    .map((p) => ({
      finding: {
        kind: 'blackhole-listener',
        severity: 'drift',
        port: p.port,
        protocol: p.protocol,
        blackholePort: p.blackholePort,
      },
      message: `something listens on blackhole port ${p.protocol}/${p.blackholePort}: blocked clients reach it`,
    }));
}

function compareFamily(
  state: FamilyGuardState,
  want: FamilyDesired,
  portOf: ReadonlyMap<string, GuardedPort>,
  add: (d: Draft, text: string) => void,
): void {
  const family = state.family;
  const fam = familyName(family);
  // Entry jump: exactly once, our shape, before kube-proxy's KUBE-SERVICES jump.
  const positions = state.entryJumps.map((e) => e.position as number);
  if (!want.entry) {
    if (positions.length > 0) {
      add(
        { kind: 'entry-unexpected', severity: 'drift', family, positions },
        `entry jump present at PREROUTING ${positions.join(', ')} but no port is guarded`,
      );
    }
  } else if (positions.length === 0) {
    add(
      { kind: 'entry-missing', severity: 'drift', family },
      `entry jump to ${ENTRY_CHAIN} missing from PREROUTING: nothing is guarded`,
    );
  } else {
    if (positions.length > 1) {
      add(
        { kind: 'entry-duplicate', severity: 'drift', family, positions },
        `entry jump present ${positions.length} times (PREROUTING ${positions.join(', ')})`,
      );
    }
    const canonical = ruleKey(entryJumpRule());
    for (const e of state.entryJumps) {
      if (ruleKey(e.rule) !== canonical) {
        add(
          {
            kind: 'entry-not-canonical',
            severity: 'drift',
            family,
            position: e.position,
            rule: ruleKey(e.rule),
          },
          `entry jump at PREROUTING ${e.position} is not ours as written: ${ruleKey(e.rule)}`,
        );
      }
    }
    const first = state.entryJumps[0];
    const ks = state.kubeServicesAt;
    if (first && ks !== undefined && first.position > ks) {
      add(
        {
          kind: 'entry-after-kube-services',
          severity: 'drift',
          family,
          position: first.position,
          kubeServicesAt: ks,
        },
        `entry jump at PREROUTING ${first.position} is behind kube-proxy's KUBE-SERVICES jump at ${ks}: the guard is bypassed (kube-proxy restarted?)`,
      );
    }
  }
  for (const ref of state.foreignReferences) {
    add(
      {
        kind: 'foreign-reference',
        severity: 'drift',
        family,
        chain: ref.chain,
        position: ref.position,
        target: ref.target,
      },
      `${ref.chain} rule ${ref.position} jumps to our chain ${ref.target}: not written by nodeport-guard`,
    );
  }
  const have = new Map(state.chains.map((c) => [c.name as string, c]));
  const wanted = new Set(want.chains.map((c) => c.name as string));
  for (const d of want.chains) {
    const p = portOf.get(d.name);
    const at = p ? { port: p.port, protocol: p.protocol } : {};
    const c = have.get(d.name);
    if (!c) {
      add(
        { kind: 'chain-missing', severity: 'drift', family, chain: d.name, ...at },
        `chain ${d.name} missing`,
      );
      continue;
    }
    const before = c.rules.map(ruleKey);
    const after = d.rules.map(ruleKey);
    const missing = multisetMinus(d.rules, after, before);
    const extra = multisetMinus(c.rules, before, after);
    // Dispatch rules belong to the port they lead to, so the message names that port.
    const portOfRule = (target: string | undefined) => {
      const q = d.name === ENTRY_CHAIN && target ? portOf.get(target) : p;
      return q ? { port: q.port, protocol: q.protocol } : {};
    };
    for (const r of missing) {
      add(
        {
          kind: 'rule-missing',
          severity: 'drift',
          family,
          chain: d.name,
          rule: ruleKey(r),
          ...portOfRule(r.target?.name),
        },
        `rule missing from ${d.name}: ${ruleKey(r)}`,
      );
    }
    for (const r of extra) {
      add(
        {
          kind: 'rule-unexpected',
          severity: 'drift',
          family,
          chain: d.name,
          rule: ruleKey(r),
          ...portOfRule(r.target?.name),
        },
        `rule in ${d.name} not in the policy: ${ruleKey(r)}`,
      );
    }
    if (missing.length === 0 && extra.length === 0 && before.some((k, i) => k !== after[i])) {
      add(
        { kind: 'rule-order', severity: 'drift', family, chain: d.name, ...at },
        `rules of ${d.name} are out of order`,
      );
    }
    const last = c.rules[c.rules.length - 1];
    const wantLast = d.rules[d.rules.length - 1];
    if (p && last?.counters && wantLast && ruleKey(last) === ruleKey(wantLast)) {
      const { packets, bytes } = last.counters;
      add(
        {
          kind: 'counters',
          severity: 'info',
          family,
          port: p.port,
          protocol: p.protocol,
          mode: p.mode,
          packets,
          bytes,
        },
        `${packets} connection${packets === 1 ? '' : 's'} ${p.mode === 'audit' ? 'would have been blocked' : 'blocked'} over ${fam}`,
      );
    }
  }
  for (const c of state.chains) {
    if (wanted.has(c.name)) continue;
    const at = parsePortChainName(c.name) ?? {};
    add(
      { kind: 'chain-unexpected', severity: 'drift', family, chain: c.name, ...at },
      `chain ${c.name} exists but is not in the policy`,
    );
  }
}

const RANK: Readonly<Record<VerifyStatus, number>> = { ok: 0, drift: 1, error: 2 };

function statusOf(findings: readonly VerifyFinding[]): VerifyStatus {
  let s: VerifyStatus = 'ok';
  for (const f of findings) {
    const t: VerifyStatus = f.severity === 'info' ? 'ok' : f.severity;
    if (RANK[t] > RANK[s]) s = t;
  }
  return s;
}

/** The worst status: what `npg verify` turns into its exit code (0 ok, 1 drift, 2 error). */
export function overallStatus(nodes: readonly NodeVerify<VerifyFinding>[]): VerifyStatus {
  return nodes.reduce<VerifyStatus>((s, n) => (RANK[n.status] > RANK[s] ? n.status : s), 'ok');
}

const isCounters = (f: VerifyFinding): f is CountersFinding => f.kind === 'counters';

/** A node's findings, of either guard, summed up per port and for the node. */
export function summariseVerify<F extends VerifyFinding>(
  node: string,
  ports: readonly GuardedPort[],
  findings: readonly F[],
): NodeVerify<F> {
  const onPort = (f: F, p: GuardedPort) => f.port === p.port && f.protocol === p.protocol;
  const nodeWide = findings.filter((f) => f.port === undefined);
  const portFindings = findings.filter((f) => f.port !== undefined);
  const portViews: PortVerify<F>[] = ports.map((p) => {
    const mine = portFindings.filter((f) => onPort(f, p));
    return {
      port: p.port,
      protocol: p.protocol,
      mode: p.mode,
      // Node-wide drift (a missing entry jump, a missing nft table) leaves every port unguarded, so it
      // counts for each port.
      status: statusOf([...nodeWide, ...mine]),
      findings: mine,
      counters: mine.flatMap((f) =>
        isCounters(f) ? [{ family: f.family, counters: { packets: f.packets, bytes: f.bytes } }] : [],
      ),
    };
  });
  const ordered = [...nodeWide, ...portFindings];
  return { node, status: statusOf(ordered), findings: ordered, ports: portViews };
}
