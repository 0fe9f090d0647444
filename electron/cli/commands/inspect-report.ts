// How `npg inspect` shows one node's NodePorts to people: a summary line, a table, the warnings.
// Shared by the dump (--file) and the live-node forms.
import type { InspectJson } from '../../../shared/kube/index.js';
import { formatTable } from '../format-table.js';
import { type PortFilter, portReport, selectPort } from './inspect-port.js';

/** `port`: only that NodePort, in detail (inspect-port.ts), instead of the table. */
export function humanReport(t: InspectJson, warnings: readonly string[], port?: PortFilter): string {
  const head =
    t.mode === 'nftables'
      ? `kube-proxy mode: nftables, ${t.nodePorts.length} NodePorts`
      : `kube-proxy mode: ${t.mode}, layout: ${t.layout}, iptables backend: ${t.backend}, ${t.nodePorts.length} NodePorts`;
  const body = port ? portReport(selectPort(t, port), port) : nodePortTable(t);
  return [head, body, ...warnings.map((w) => `warning: ${w}`)].join('\n');
}

function nodePortTable(t: InspectJson): string {
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
  return rows.length
    ? formatTable(['PORT', 'PROTO', 'SERVICE', 'ENDPOINTS', 'NOTES'], rows)
    : 'no NodePorts found';
}
