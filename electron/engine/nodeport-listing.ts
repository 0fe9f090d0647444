// kube-proxy's NodePorts from a plan read, without parsing its whole nat table: the rules of
// KUBE-NODEPORTS (`iptables -S KUBE-NODEPORTS`, iptables mode) or the members of the NodePort
// ipsets (ipvs mode). Plan needs only port and protocol (e.g. "this NodePort is open over IPv6").
import type { ListeningPort } from '../../shared/guard/warnings.js';
import { parseIpsetList } from '../../shared/kube/ipset-parse.js';
import type { Family } from '../../shared/vocabulary.js';

type Protocol = ListeningPort['protocol'];

const PROTOCOLS: ReadonlySet<string> = new Set(['tcp', 'udp', 'sctp']);

/** `-A KUBE-NODEPORTS -p tcp -m comment --comment "ns/svc:http" -m tcp --dport 30001 -j KUBE-EXT-...`. */
export function nodePortsFromChain(text: string): ListeningPort[] {
  const out = new Map<string, ListeningPort>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('-A KUBE-NODEPORTS ')) continue;
    const proto = / -p (\S+)/.exec(line)?.[1]?.toLowerCase();
    const port = Number(/ --dport (\d{1,5})(?:\s|$)/.exec(line)?.[1]);
    if (!proto || !PROTOCOLS.has(proto) || !(port >= 1 && port <= 65535)) continue;
    out.set(`${proto}/${port}`, { protocol: proto as Protocol, port });
  }
  return sorted(out);
}

// IPv6 sets carry a `KUBE-6-` prefix; names stop at 31 characters (KUBE-6-NODE-PORT-LOCAL-SCTP-HAS).
const NODE_PORT_SET = /^KUBE-(6-)?NODE-PORT-(?:LOCAL-)?(TCP|UDP|SCTP)/;

/** Members of KUBE-NODE-PORT-{TCP,UDP,SCTP-HASH} (+ -LOCAL-): `30001`, `tcp:30001`, `198.18.0.2,sctp:30005`. */
export function nodePortsFromIpsets(text: string, family: Family): ListeningPort[] | undefined {
  const parsed = parseIpsetList(text);
  if (!parsed.ok) return undefined;
  const out = new Map<string, ListeningPort>();
  for (const set of parsed.ipsets.sets) {
    const m = NODE_PORT_SET.exec(set.name);
    if (!m || (m[1] !== undefined) !== (family === 'ipv6')) continue;
    const protocol = (m[2] ?? '').toLowerCase() as Protocol;
    for (const member of set.members) {
      const port = Number(/(?:^|[:,])(\d{1,5})$/.exec(member.entry)?.[1]);
      if (port >= 1 && port <= 65535) out.set(`${protocol}/${port}`, { protocol, port });
    }
  }
  return sorted(out);
}

function sorted(ports: ReadonlyMap<string, ListeningPort>): ListeningPort[] {
  return [...ports.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
}
