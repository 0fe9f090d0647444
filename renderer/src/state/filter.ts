// Pure filtering of the NodePort list by what the engineer types: a port, a protocol, a service.
import type { NodePortView } from '../../../shared/api';

export function filterNodePorts(list: readonly NodePortView[], query: string): readonly NodePortView[] {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (terms.length === 0) return list;
  return list.filter((np) => {
    const hay =
      `${np.port} ${np.protocol} ${np.service ?? ''} ${np.endpoints.map((e) => e.address).join(' ')}`.toLowerCase();
    return terms.every((t) => hay.includes(t));
  });
}
