// What role a chain plays in kube-proxy's (or our guard's) walk, from its name alone: kube-proxy's
// chain names are fixed or a fixed prefix plus a hash, and ours all start with NPG-.
import { assertNever } from '../netfilter/model';
import { isGuardChainName } from '../vocabulary';

export type StepKind =
  | 'PREROUTING'
  | 'OUTPUT'
  | 'POSTROUTING'
  | 'INPUT'
  | 'KUBE-SERVICES'
  | 'KUBE-NODEPORTS'
  | 'KUBE-NODE-PORT'
  | 'KUBE-EXT'
  | 'KUBE-MARK-MASQ'
  | 'KUBE-MARK-DROP'
  | 'KUBE-SVC'
  | 'KUBE-SVL'
  | 'KUBE-XLB'
  | 'KUBE-FW'
  | 'KUBE-SEP'
  | 'KUBE-POSTROUTING'
  | 'KUBE-EXTERNAL-SERVICES'
  | 'KUBE-OTHER'
  | 'NPG'
  /** Not a chain: IPVS picks the backend at LOCAL_IN (ipvs mode). */
  | 'IPVS'
  /** A chain or rule that is neither kube-proxy's nor ours (Calico, Docker, a hand-made rule). */
  | 'foreign';

const FIXED: ReadonlyMap<string, StepKind> = new Map<string, StepKind>([
  ['PREROUTING', 'PREROUTING'],
  ['OUTPUT', 'OUTPUT'],
  ['POSTROUTING', 'POSTROUTING'],
  ['INPUT', 'INPUT'],
  ['KUBE-SERVICES', 'KUBE-SERVICES'],
  ['KUBE-NODEPORTS', 'KUBE-NODEPORTS'],
  ['KUBE-NODE-PORT', 'KUBE-NODE-PORT'],
  ['KUBE-MARK-MASQ', 'KUBE-MARK-MASQ'],
  ['KUBE-MARK-DROP', 'KUBE-MARK-DROP'],
  ['KUBE-POSTROUTING', 'KUBE-POSTROUTING'],
  ['KUBE-EXTERNAL-SERVICES', 'KUBE-EXTERNAL-SERVICES'],
]);

// After `KUBE-`; checked in place (startsWith with a position, no destructuring) because this
// runs for every rule of a 95,000-rule table and must not allocate.
const KUBE_PREFIXES: readonly (readonly [string, StepKind])[] = [
  ['SEP-', 'KUBE-SEP'],
  ['SVC-', 'KUBE-SVC'],
  ['EXT-', 'KUBE-EXT'],
  ['SVL-', 'KUBE-SVL'],
  ['XLB-', 'KUBE-XLB'],
  ['FW-', 'KUBE-FW'],
];

export function chainKind(name: string): StepKind {
  if (name.startsWith('KUBE-')) {
    for (let i = 0; i < KUBE_PREFIXES.length; i++) {
      const entry = KUBE_PREFIXES[i]!;
      if (name.startsWith(entry[0], 5)) return entry[1];
    }
    return FIXED.get(name) ?? 'KUBE-OTHER';
  }
  if (isGuardChainName(name)) return 'NPG';
  return FIXED.get(name) ?? 'foreign';
}

/** Chains kube-proxy writes; a jump to one of them from PREROUTING is not a foreign rule. */
export function isKubeKind(kind: StepKind): boolean {
  switch (kind) {
    case 'KUBE-SERVICES':
    case 'KUBE-NODEPORTS':
    case 'KUBE-NODE-PORT':
    case 'KUBE-EXT':
    case 'KUBE-MARK-MASQ':
    case 'KUBE-MARK-DROP':
    case 'KUBE-SVC':
    case 'KUBE-SVL':
    case 'KUBE-XLB':
    case 'KUBE-FW':
    case 'KUBE-SEP':
    case 'KUBE-POSTROUTING':
    case 'KUBE-EXTERNAL-SERVICES':
    case 'KUBE-OTHER':
      return true;
    case 'PREROUTING':
    case 'OUTPUT':
    case 'POSTROUTING':
    case 'INPUT':
    case 'NPG':
    case 'IPVS':
    case 'foreign':
      return false;
    default:
      return assertNever(kind, 'step kind');
  }
}

/**
 * How a NodePort's walk (service-chains.ts) goes on from a chain: how deep it goes, which jumps it
 * follows, and which chains' KUBE-MARK-MASQ jumps concern NodePort traffic (the service chains'
 * ones test the cluster IP).
 */
export const WALK_MAX_DEPTH = 8;
export const WALK_FOLLOWS: ReadonlySet<StepKind> = new Set([
  'KUBE-EXT',
  'KUBE-SVC',
  'KUBE-SVL',
  'KUBE-XLB',
  'KUBE-FW',
  'KUBE-MARK-DROP',
]);
export const MASQ_DECIDERS: ReadonlySet<StepKind> = new Set([
  'KUBE-NODEPORTS',
  'KUBE-EXT',
  'KUBE-XLB',
  'KUBE-FW',
]);
