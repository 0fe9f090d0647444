// `npg inspect --port N[/PROTO]`: one NodePort instead of the whole table, shown with what the
// table leaves out (the chain path, each endpoint's share and KUBE-SEP chain, foreign rules,
// notes). The JSON keeps the contract's shape with only the matching NodePorts.
import type { InspectJson, InspectJsonNodePort } from '../../../shared/kube/index.js';
import type { Protocol } from '../../../shared/vocabulary.js';
import { CliError } from '../exit.js';

export interface PortFilter {
  readonly port: number;
  readonly protocol?: Protocol;
}

export function parsePortFilter(text: string): PortFilter {
  const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(text);
  const port = m ? Number(m[1]) : 0;
  if (!m || port < 1 || port > 65535)
    throw new CliError(
      `--port ${JSON.stringify(text)}: a port from 1 to 65535, optionally /tcp, /udp or /sctp (30001, 30002/udp)`,
    );
  return m[2] ? { port, protocol: m[2] as PortFilter['protocol'] } : { port };
}

export function portLabel(f: PortFilter): string {
  return f.protocol ? `${f.port}/${f.protocol}` : String(f.port);
}

export function selectPort(json: InspectJson, f: PortFilter): InspectJson {
  return {
    ...json,
    nodePorts: json.nodePorts.filter((n) => n.port === f.port && (!f.protocol || n.protocol === f.protocol)),
  };
}

const percent = (p: number): string => `${(p * 100).toFixed(1)}%`;

/** One NodePort for people: a head line, then one labelled line per fact. */
export function portDetail(np: InspectJsonNodePort): string {
  const head = [
    `${np.port}/${np.protocol}`,
    np.service ?? '(no service name in the rules)',
    `ETP=${np.externalTrafficPolicy}`,
    np.guarded ? 'guarded' : 'not guarded',
  ].join('  ');
  const lines = [head, `  path      ${np.path.join(' -> ')}`];
  if (np.noEndpoints) lines.push('  endpoint  none (kube-proxy rejects or drops this port)');
  else if (!np.endpointsKnown) lines.push('  endpoint  unknown (no ipvsadm output)');
  else {
    const width = Math.max(...np.endpointDetails.map((e) => e.endpoint.length));
    for (const e of np.endpointDetails)
      lines.push(
        `  endpoint  ${e.endpoint.padEnd(width)}  ${percent(e.probability).padStart(6)}${e.chain ? `  ${e.chain}` : ''}`,
      );
  }
  for (const f of np.foreignRules)
    lines.push(`  foreign   PREROUTING rule #${f.position}: ${f.effect}${f.line ? ` (line ${f.line})` : ''}`);
  for (const n of np.notes) lines.push(`  note      ${n}`);
  return lines.join('\n');
}

/** The selected NodePorts of one node, or a line saying there is none. */
export function portReport(json: InspectJson, f: PortFilter): string {
  if (json.nodePorts.length === 0) return `no NodePort ${portLabel(f)} here`;
  return json.nodePorts.map(portDetail).join('\n\n');
}
