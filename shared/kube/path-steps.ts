// Building blocks of a NodePort's walk: one step per chain entered, and the common front of every
// walk (PREROUTING, our guard, foreign rules that may apply, kube-proxy's KUBE-SERVICES jump).
import type { Rule } from '../netfilter/model';
import { ENTRY_CHAIN, type Protocol } from '../vocabulary';
import type { ChainIndex } from './chain-index';
import { chainKind, type StepKind } from './chain-kind';
import { guardKey } from './guard-chains';
import { foreignMayApply, type PreroutingView } from './prerouting';
import type { ForeignRule, PathStep, PortGuard } from './topology';

export function stepVia(
  chain: string,
  via: Rule,
  table: PathStep['table'] = 'nat',
  kind?: StepKind,
): PathStep {
  // One literal per shape, no spreads and no field added afterwards (that costs a property store
  // per object): this runs several times per NodePort of a 5,000-service table.
  const stepKind = kind ?? chainKind(chain);
  const counters = via.counters;
  return counters ? { kind: stepKind, table, chain, via, counters } : { kind: stepKind, table, chain, via };
}

/** The first step of a walk: a built-in chain, with its policy counters. */
export function hookStep(chain: string, index: ChainIndex, table: PathStep['table'] = 'nat'): PathStep {
  const counters = index.get(chain)?.counters;
  return { kind: chainKind(chain), table, chain, ...(counters ? { counters } : {}) };
}

export interface WalkFront {
  readonly steps: readonly PathStep[];
  readonly guard?: PortGuard;
  readonly foreign: readonly ForeignRule[];
}

/**
 * PREROUTING up to and including KUBE-SERVICES, per NodePort. The steps every NodePort shares are
 * built once; a port gets its own list only when our guard or a foreign rule stands in its way.
 */
export function walkFronts(
  view: PreroutingView,
  guards: ReadonlyMap<string, PortGuard>,
  index: ChainIndex,
): (port: number, protocol: Protocol) => WalkFront {
  const hook = hookStep('PREROUTING', index);
  const kubeJump = view.kubeJumpIndex === undefined ? undefined : view.rules[view.kubeJumpIndex];
  const kubeStep = kubeJump ? [stepVia('KUBE-SERVICES', kubeJump)] : [];
  const shared: WalkFront = { steps: [hook, ...kubeStep], foreign: [] };
  const entry = view.guard?.beforeKubeServices ? view.guard.jumps[0] : undefined;

  return (port, protocol) => {
    // No key string per NodePort when there is no guard at all (the common case).
    const guard = guards.size === 0 ? undefined : guards.get(guardKey(port, protocol));
    const foreign =
      view.foreign.length === 0
        ? shared.foreign
        : view.foreign.filter((f) => foreignMayApply(f, port, protocol));
    if (!guard && foreign.length === 0) return shared;
    const steps: PathStep[] = [hook];
    let f = 0;
    const pushForeignUpTo = (position: number) => {
      for (; f < foreign.length && (foreign[f]?.position ?? 0) < position; f++) {
        const fr = foreign[f];
        if (!fr) continue;
        const target = fr.rule.target?.name ?? '';
        steps.push(stepVia(index.has(target) ? target : 'PREROUTING', fr.rule, 'nat', 'foreign'));
      }
    };
    if (guard && entry) {
      pushForeignUpTo(entry.position);
      steps.push(stepVia(ENTRY_CHAIN, entry.rule));
      steps.push(stepVia(guard.chain, guard.dispatch));
    }
    pushForeignUpTo(Number.POSITIVE_INFINITY);
    steps.push(...kubeStep);
    return { steps, ...(guard ? { guard } : {}), foreign };
  };
}
