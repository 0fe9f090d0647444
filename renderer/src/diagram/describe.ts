// The diagram in words: each node's accessible name, the live summary, the export file name.
import { exactCount } from './format';
import type { GNode, GraphModel } from './graph-types';
import type { DiagramNodePort, DiagramTrace } from './types';

/** "KUBE-SVC-ABC, service chain, 1,200 packets", then what its badges and the trace say. */
export function nodeAriaLabel(n: GNode): string {
  const parts = [n.label, n.role];
  if (n.counters) parts.push(`${exactCount(n.counters.packets)} packets`);
  if (n.sublabel && n.sublabel !== n.label) parts.push(n.sublabel);
  for (const b of n.badges) parts.push(b.title);
  if (n.lit) parts.push('on the traced path');
  else if (n.dimmed) parts.push('not on the traced path');
  return parts.join(', ');
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

const VERDICT: Readonly<Record<DiagramTrace['verdict'], string>> = {
  dnat: 'sent to an endpoint',
  redirect: 'redirected (blocked)',
  accept: 'accepted unchanged',
  drop: 'dropped',
  unknown: 'unknown',
  unchanged: 'left unchanged',
};

/** One or two sentences for the aria-live region: what the diagram shows, and the trace's outcome. */
export function diagramSummary(np: DiagramNodePort, graph: GraphModel, trace?: DiagramTrace): string {
  const head = `${np.port}/${np.protocol}${np.service ? ` ${np.service}` : ''}`;
  const chains = graph.nodes.filter(
    (n) => n.row === 'nodeport' && n.chain !== undefined && n.kind !== 'sep' && n.kind !== 'foreign',
  );
  const parts = [`${plural(chains.length, 'chain')} on the way`];
  if (np.guard) {
    parts.push(
      `guarded by ${np.guard.chain} allowing ${plural(np.guard.allow.length, 'source')}${np.guard.effective ? '' : ' (not effective)'}`,
    );
  } else {
    parts.push('not guarded');
  }
  const foreign = graph.nodes.filter((n) => n.kind === 'foreign').length;
  if (foreign > 0) parts.push(`${plural(foreign, 'foreign rule')} in front of kube-proxy`);
  if (np.noEndpoints) parts.push(np.localOnly ? 'no local endpoints' : 'no endpoints');
  else if (np.endpoints.length === 0) parts.push('endpoints not known');
  else parts.push(`${plural(np.endpoints.length, 'endpoint')}${np.localOnly ? ' (local only)' : ''}`);
  if (np.masquerade === 'always') parts.push('client address masqueraded');
  else if (np.masquerade === 'conditional') parts.push('client address masqueraded for some sources');
  let text = `${head}: ${parts.join(', ')}.`;
  if (trace) {
    const lit = graph.nodes.filter((n) => n.lit).length;
    text += ` Trace: ${VERDICT[trace.verdict]}${trace.detail ? ` (${trace.detail})` : ''}; ${plural(lit, 'step')} lit.`;
  }
  return text;
}

/** `nodeport-30001-tcp.png` */
export function exportFileName(np: Pick<DiagramNodePort, 'port' | 'protocol'>, ext: 'png' | 'svg'): string {
  const proto = np.protocol.toLowerCase().replace(/[^a-z0-9]+/g, '');
  return `nodeport-${np.port}-${proto || 'any'}.${ext}`;
}
