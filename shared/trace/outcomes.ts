// Branches with the same verdict merged into outcomes: a packet to a 4-endpoint NodePort has four
// DNAT branches, a blocked packet one REDIRECT; an allowed one behind a statistic chain of ours
// would show both. The summary names the verdict kind when there is only one.
import { assertNever } from '../netfilter/model';
import type { TraceBranch, TracedRule, TraceOutcome, Verdict, VerdictKind } from './types';

function verdictKey<R extends TracedRule>(v: Verdict<R>): string {
  switch (v.kind) {
    case 'redirect':
      return `redirect ${v.toPort}`;
    case 'dnat':
      return `dnat ${v.destination}`;
    case 'accept':
      return 'accept';
    case 'drop':
      return v.by === 'rule' && v.reject !== undefined ? 'reject' : 'drop';
    case 'unknown':
      return `unknown ${v.chain ?? ''} ${v.rule?.line ?? ''} ${v.reason}`;
    default:
      return assertNever(v, 'verdict');
  }
}

export function summarize<R extends TracedRule>(
  branches: readonly TraceBranch<R>[],
): {
  readonly outcomes: readonly TraceOutcome<R>[];
  readonly summary: VerdictKind | 'mixed';
} {
  const byKey = new Map<string, { verdict: Verdict<R>; probability: number; branches: number[] }>();
  branches.forEach((b, i) => {
    const key = verdictKey(b.verdict);
    const o = byKey.get(key);
    if (o) {
      o.probability += b.probability;
      o.branches.push(i);
    } else byKey.set(key, { verdict: b.verdict, probability: b.probability, branches: [i] });
  });
  const outcomes = [...byKey.entries()]
    // kube-proxy's shares are rounded (0.33333333349), so equal shares differ in the last digits:
    // treat those as ties and keep a stable order by verdict.
    .sort(([ka, a], [kb, b]) =>
      Math.abs(b.probability - a.probability) > 1e-6
        ? b.probability - a.probability
        : ka < kb
          ? -1
          : ka > kb
            ? 1
            : 0,
    )
    .map(([, o]) => o);
  const kinds = new Set(outcomes.map((o) => o.verdict.kind));
  const [only] = kinds;
  return { outcomes, summary: kinds.size === 1 && only ? only : 'mixed' };
}
