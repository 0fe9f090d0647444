// Endpoint categorisation shared by the iptables layouts (proxy.CategorizeEndpoints, reduced to
// what the lab models: every endpoint is ready and serving, no topology hints).
import { joinHostPort } from './chain-names';
import type { ServiceEndpoint, ServicePortSpec } from './types';

export interface EndpointSets {
  readonly cluster: readonly ServiceEndpoint[];
  readonly local: readonly ServiceEndpoint[];
  /** Endpoints that get a KUBE-SEP chain on this node. */
  readonly reachable: readonly ServiceEndpoint[];
  readonly hasEndpoints: boolean;
}

/** kube-proxy's endpoint lists come out of its EndpointSlice cache sorted by "ip:port". */
export function categorize(svc: ServicePortSpec, nodeName: string): EndpointSets {
  const cluster = sortEndpoints(svc.endpoints);
  const local = cluster.filter((ep) => ep.node === nodeName);
  return { cluster, local, reachable: cluster, hasEndpoints: cluster.length > 0 };
}

export function isLocalPolicy(svc: ServicePortSpec): boolean {
  return svc.externalTrafficPolicy === 'Local';
}

/** kube-proxy drops per-endpoint comments above 1000 endpoints ("large cluster mode"). */
export const LARGE_CLUSTER_ENDPOINTS = 1000;

export function totalEndpoints(services: readonly ServicePortSpec[]): number {
  let n = 0;
  for (const svc of services) n += svc.endpoints.length;
  return n;
}

function sortEndpoints(eps: readonly ServiceEndpoint[]): readonly ServiceEndpoint[] {
  if (eps.length < 2) return eps;
  const keyed = eps.map((ep) => ({ ep, key: joinHostPort(ep.ip, ep.port) }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.ep);
}
