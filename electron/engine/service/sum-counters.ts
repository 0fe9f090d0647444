// One NodePort's path with its counters summed over nodes (pure): the diagram's "all nodes" view.
// kube-proxy writes the same chains on every node for a Cluster service, so steps are matched by
// position and chain name, endpoints by address; whatever differs is left out of the sum and said.
import type { EndpointView, NodePortView, PathStepView } from '../../../shared/api.js';

const add = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0);

function counters<T extends { readonly packets?: number; readonly bytes?: number }>(
  base: T,
  packets?: number,
  bytes?: number,
): T {
  const { packets: _p, bytes: _b, ...rest } = base;
  return {
    ...rest,
    ...(packets !== undefined ? { packets } : {}),
    ...(bytes !== undefined ? { bytes } : {}),
  } as T;
}

export function sumOverNodes(
  views: readonly { readonly node: string; readonly view: NodePortView }[],
): NodePortView | undefined {
  const first = views[0];
  if (!first) return undefined;
  const base = first.view;
  const same = views.filter(
    (v) =>
      v.view.path.length === base.path.length && v.view.path.every((s, i) => s.chain === base.path[i]?.chain),
  );
  const path: PathStepView[] = base.path.map((step, i) => {
    let packets: number | undefined;
    let bytes: number | undefined;
    for (const v of same) {
      packets = add(packets, v.view.path[i]?.packets);
      bytes = add(bytes, v.view.path[i]?.bytes);
    }
    return counters(step, packets, bytes);
  });
  const endpoints: EndpointView[] = base.endpoints.map((ep) => {
    let packets: number | undefined;
    let bytes: number | undefined;
    for (const v of same) {
      const mine = v.view.endpoints.find((e) => e.address === ep.address);
      packets = add(packets, mine?.packets);
      bytes = add(bytes, mine?.bytes);
    }
    return counters(ep, packets, bytes);
  });
  const left = views.filter((v) => !same.includes(v)).map((v) => v.node);
  return {
    ...base,
    path,
    endpoints,
    notes: [
      `counters summed over ${same.length} node${same.length === 1 ? '' : 's'} (${same.map((v) => v.node).join(', ')}); the path and endpoints drawn are ${first.node}'s`,
      ...(left.length ? [`not summed: ${left.join(', ')} (their chain path differs)`] : []),
      ...base.notes,
    ],
  };
}
