// Desired state: what our chains must contain on a node, derived from the policy alone (per family).
// Pure data; plan.ts diffs it against a node's current guard state and render.ts prints the difference.
import type { Rule } from '../netfilter/model';
import { assertNever } from '../netfilter/model';
import type { Family, Protocol } from '../vocabulary';
import { type ChainName, ENTRY_CHAIN, portChainName } from '../vocabulary';
import type { GuardMode, NodePortPolicy, Policy } from '../workspace/schema';
import { type AllowList, type AllowListNote, allowRulesOf, normaliseAllowList } from './allow-list';
import { type FieldError, fieldError, showValue } from './field-error';
import { allowRule, auditRule, blockRule, dispatchRule } from './rules';

export const FAMILIES: readonly Family[] = ['ipv4', 'ipv6'];

export interface GuardedPort {
  readonly port: number;
  readonly protocol: Protocol;
  readonly mode: GuardMode;
  readonly blackholePort: number;
  readonly service?: string;
  readonly chain: ChainName;
  readonly allow: AllowList;
  /** Where the policy entry sits, e.g. `policy.nodePorts[2]`. */
  readonly path: string;
}

export interface DesiredChain {
  readonly name: ChainName;
  readonly rules: readonly Rule[];
}

export interface FamilyDesired {
  readonly family: Family;
  /** Whether the entry jump must exist (exactly once, before kube-proxy's KUBE-SERVICES jump). */
  readonly entry: boolean;
  /** NPG-PREROUTING first, then one chain per guarded port in (port, protocol) order. */
  readonly chains: readonly DesiredChain[];
}

export interface DesiredGuard {
  /** Empty when the desired state did not come from a policy (rollback to a saved state). */
  readonly ports: readonly GuardedPort[];
  readonly families: readonly FamilyDesired[];
}

export type DesiredResult =
  | { readonly ok: true; readonly desired: DesiredGuard; readonly notes: readonly AllowListNote[] }
  | { readonly ok: false; readonly errors: readonly FieldError[]; readonly notes: readonly AllowListNote[] };

export interface DesiredOptions {
  /**
   * The families the node has (default both). A dual-stack node gets a v6 chain for every port even
   * when the allow-list has no v6 entry: then it blocks all of IPv6, or the NodePort stays open there.
   */
  readonly families?: readonly Family[];
}

const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'sctp'];
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export function desiredGuard(policy: Policy, options: DesiredOptions = {}): DesiredResult {
  const families = FAMILIES.filter((f) => (options.families ?? FAMILIES).includes(f));
  const errors: FieldError[] = [];
  const notes: AllowListNote[] = [];
  const ports: GuardedPort[] = [];
  const seen = new Map<string, string>();
  policy.nodePorts.forEach((np, i) => {
    const path = `policy.nodePorts[${i}]`;
    const key = `${np.protocol}/${np.port}`;
    const earlier = seen.get(key);
    if (earlier) errors.push(fieldError(path, `${key} is already guarded by ${earlier}`));
    else seen.set(key, path);
    const bad = checkNodePort(np, path);
    if (bad.length > 0) {
      errors.push(...bad);
      return;
    }
    const allow = normaliseAllowList(np.allow, `${path}.allow`);
    notes.push(...allow.notes);
    if (!allow.ok) {
      errors.push(...allow.errors);
      return;
    }
    const base = {
      port: np.port,
      protocol: np.protocol,
      mode: np.mode,
      blackholePort: np.blackholePort,
      chain: portChainName(np.protocol, np.port),
      allow: allow.list,
      path,
    };
    ports.push(np.service === undefined ? base : { ...base, service: np.service });
  });
  if (errors.length > 0) return { ok: false, errors, notes };
  ports.sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
  return { ok: true, desired: { ports, families: families.map((f) => familyDesired(f, ports)) }, notes };
}

/** The chains for one family: nothing at all when no port is guarded (then apply removes the guard). */
export function familyDesired(family: Family, ports: readonly GuardedPort[]): FamilyDesired {
  if (ports.length === 0) return { family, entry: false, chains: [] };
  const dispatch: DesiredChain = {
    name: ENTRY_CHAIN,
    rules: ports.map((p) => dispatchRule(p.protocol, p.port, p.service, p.chain)),
  };
  return { family, entry: true, chains: [dispatch, ...ports.map((p) => portChain(family, p))] };
}

function portChain(family: Family, p: GuardedPort): DesiredChain {
  const allows = allowRulesOf(p.allow, family).map((a) => allowRule(p.chain, a.value.cidr, a.label));
  return { name: p.chain, rules: [...allows, lastRule(p)] };
}

function lastRule(p: GuardedPort): Rule {
  switch (p.mode) {
    case 'enforce':
      return blockRule(p.chain, p.protocol, p.blackholePort);
    case 'audit':
      return auditRule(p.chain, p.protocol);
    default:
      return assertNever(p.mode, 'guard mode');
  }
}

/** Re-checks what zod checks, because a Policy can also be built in code (CLI flags, imports). */
function checkNodePort(np: NodePortPolicy, path: string): FieldError[] {
  const out: FieldError[] = [];
  const isPort = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
  if (!isPort(np.port))
    out.push(fieldError(`${path}.port`, `${showValue(String(np.port))} is not a port (1-65535)`));
  if (!PROTOCOLS.includes(np.protocol)) {
    out.push(
      fieldError(`${path}.protocol`, `${showValue(String(np.protocol))} is not one of tcp, udp, sctp`),
    );
  }
  if (np.mode !== 'enforce' && np.mode !== 'audit') {
    out.push(fieldError(`${path}.mode`, `${showValue(String(np.mode))} is not one of enforce, audit`));
  }
  if (!isPort(np.blackholePort)) {
    out.push(
      fieldError(`${path}.blackholePort`, `${showValue(String(np.blackholePort))} is not a port (1-65535)`),
    );
  } else if (np.blackholePort === np.port) {
    out.push(fieldError(`${path}.blackholePort`, `${np.blackholePort} is the guarded port itself`));
  }
  if (np.service !== undefined && CONTROL.test(np.service)) {
    out.push(fieldError(`${path}.service`, `${showValue(np.service)} contains a control character`));
  }
  return out;
}

export function familyOf(desired: DesiredGuard, family: Family): FamilyDesired | undefined {
  return desired.families.find((f) => f.family === family);
}
