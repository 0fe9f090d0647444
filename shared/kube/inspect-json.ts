// The machine contract of `npg inspect --json` (DESIGN.md "Contracts other tools rely on"):
// {"mode", "nodePorts": [{"port", "protocol", "service", "endpoints": ["ip:port", ...], ...}]}.
// The four contract fields come first in every object and keep their meaning; fields after them
// are extras a script may ignore.
import type { Topology } from './topology';

export interface InspectJsonEndpoint {
  readonly endpoint: string;
  readonly probability: number;
  readonly chain?: string;
}

export interface InspectJsonNodePort {
  readonly port: number;
  readonly protocol: string;
  /** `namespace/name:port`, or null when the dump has no kube-proxy comments. */
  readonly service: string | null;
  /** Sorted as strings, so `sorted(endpoints)` in any language gives the same list. */
  readonly endpoints: readonly string[];
  readonly externalTrafficPolicy: 'Local' | 'Cluster';
  readonly noEndpoints: boolean;
  readonly endpointsKnown: boolean;
  readonly endpointDetails: readonly InspectJsonEndpoint[];
  readonly guarded: boolean;
  readonly foreignRules: readonly {
    readonly position: number;
    readonly effect: string;
    readonly line?: number;
  }[];
  readonly path: readonly string[];
  readonly notes: readonly string[];
}

export interface InspectJson {
  readonly mode: string;
  readonly nodePorts: readonly InspectJsonNodePort[];
  readonly layout: string;
  readonly backend: string;
  readonly warnings: readonly string[];
}

function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortedByEndpoint(endpoints: readonly { readonly endpoint: string }[]): boolean {
  for (let i = 1; i < endpoints.length; i++)
    if (endpoints[i - 1]!.endpoint > endpoints[i]!.endpoint) return false;
  return true;
}

export function toInspectJson(topology: Topology): InspectJson {
  const nodePorts = topology.nodePorts.map((np): InspectJsonNodePort => {
    // The walks sort them already (sortEndpoints): no copy then.
    const details = sortedByEndpoint(np.endpoints)
      ? np.endpoints
      : [...np.endpoints].sort((a, b) => byString(a.endpoint, b.endpoint));
    return {
      port: np.port,
      protocol: np.protocol,
      service: np.service ?? null,
      endpoints: details.map((e) => e.endpoint),
      externalTrafficPolicy: np.externalTrafficPolicyLocal ? 'Local' : 'Cluster',
      noEndpoints: np.noEndpoints,
      endpointsKnown: np.endpointsKnown,
      // One literal per shape, not conditional spreads: this runs for every endpoint of the node.
      endpointDetails: details.map((e) =>
        e.sepChain === undefined
          ? { endpoint: e.endpoint, probability: e.probability }
          : { endpoint: e.endpoint, probability: e.probability, chain: e.sepChain },
      ),
      guarded: np.guard?.effective ?? false,
      foreignRules: np.foreign.map((f) =>
        f.rule.line === undefined
          ? { position: f.position, effect: f.effect }
          : { position: f.position, effect: f.effect, line: f.rule.line },
      ),
      path: np.path.map((s) => s.chain),
      notes: np.notes,
    };
  });
  return {
    mode: topology.mode,
    nodePorts,
    layout: topology.layout,
    backend: topology.backend.backend,
    warnings: topology.warnings,
  };
}
