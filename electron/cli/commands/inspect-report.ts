// How `npg inspect` shows one node's NodePorts to people: a summary line, a table, the warnings.
// Shared by the dump (--file) and the live-node forms.
import type { InspectJson } from '../../../shared/kube/index.js';
import { formatTable } from '../format-table.js';

export function humanReport(t: InspectJson, warnings: readonly string[]): string {
  const rows = t.nodePorts.map((np) => [
    String(np.port),
    np.protocol,
    np.service ?? '-',
    np.noEndpoints ? 'none' : np.endpointsKnown ? np.endpoints.join(' ') : 'unknown (no ipvsadm output)',
    [
      np.guarded ? 'guarded' : '',
      np.externalTrafficPolicy === 'Local' ? 'ETP=Local' : '',
      np.foreignRules.length ? 'foreign-rule' : '',
    ]
      .filter(Boolean)
      .join(','),
  ]);
  const head = `kube-proxy mode: ${t.mode}, layout: ${t.layout}, iptables backend: ${t.backend}, ${t.nodePorts.length} NodePorts`;
  const body = rows.length
    ? formatTable(['PORT', 'PROTO', 'SERVICE', 'ENDPOINTS', 'NOTES'], rows)
    : 'no NodePorts found';
  return [head, body, ...warnings.map((w) => `warning: ${w}`)].join('\n');
}
