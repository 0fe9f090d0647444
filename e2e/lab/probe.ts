// Real packets from a client address to a node's NodePort, sent from inside the client's
// namespace with socat (bounded by its own timeouts and ours): reached (and which pod answered),
// refused (RST or ICMP port unreachable), or timeout (dropped, or no answer).
import { runRaw } from './sys/exec';
import { clientOf, findNode, type LabTopology } from './topology';

export type ProbeOutcome = 'reached' | 'refused' | 'timeout' | 'error';

export interface ProbeRequest {
  /** A client address of the lab (see `lab:status`). */
  readonly from: string;
  /** Node name (`node2`), index, netns or address; the target is its address of `from`'s family. */
  readonly node: string;
  readonly port: number;
  readonly udp?: boolean;
  /** Connect / answer timeout; default 1500 ms. */
  readonly timeoutMs?: number;
}

export interface ProbeResult {
  readonly outcome: ProbeOutcome;
  /** The pod that answered (`web-2`), when reached. */
  readonly pod?: string;
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly protocol: 'tcp' | 'udp';
  /** socat's complaint or the answer, for messages. */
  readonly detail: string;
}

function socatAddress(v6: boolean, ip: string): string {
  return v6 ? `[${ip}]` : ip;
}

/** Pure: turn socat's exit code and output into an outcome. */
export function classifySocat(
  protocol: 'tcp' | 'udp',
  code: number,
  stdout: string,
  stderr: string,
): { outcome: ProbeOutcome; pod?: string; detail: string } {
  const err = stderr.trim().split('\n').at(-1) ?? '';
  if (protocol === 'tcp' && stdout.startsWith('HTTP/')) {
    const header = /^x-pod:\s*(\S+)/im.exec(stdout)?.[1];
    const body = stdout.split(/\r?\n\r?\n/)[1]?.trim();
    const pod = header ?? body;
    return { outcome: 'reached', ...(pod ? { pod } : {}), detail: stdout.split('\n')[0]!.trim() };
  }
  if (protocol === 'udp' && stdout.trim() !== '') {
    const pod = stdout.trim().split(/\s+/)[0];
    return { outcome: 'reached', ...(pod ? { pod } : {}), detail: stdout.trim() };
  }
  if (/connection refused/i.test(stderr)) return { outcome: 'refused', detail: err };
  if (
    /timed out|no route to host|network is unreachable|host is unreachable/i.test(stderr) ||
    stderr.includes('(timed out)')
  ) {
    return { outcome: 'timeout', detail: err };
  }
  // UDP without an answer: socat ends quietly after its inactivity timeout.
  if (protocol === 'udp' && code === 0) return { outcome: 'timeout', detail: 'no answer' };
  if (protocol === 'tcp' && code === 0 && stdout === '')
    return { outcome: 'error', detail: 'connected but no answer' };
  return { outcome: 'error', detail: err || `socat exit ${code}` };
}

export async function probe(topo: LabTopology, req: ProbeRequest): Promise<ProbeResult> {
  const client = clientOf(topo, req.from);
  if (!client) throw new Error(`${req.from} is not a lab client address (see lab:status)`);
  const node = findNode(topo, req.node);
  if (!node) throw new Error(`no lab node ${req.node}`);
  if (!Number.isInteger(req.port) || req.port < 1 || req.port > 65535)
    throw new Error(`bad port ${req.port}`);
  const v6 = req.from.includes(':');
  const to = v6 ? node.ipv6 : node.ipv4;
  if (!to) throw new Error(`${node.name} has no IPv6 address (lab:up --ipv6)`);
  const protocol = req.udp ? 'udp' : 'tcp';
  const timeoutMs = req.timeoutMs ?? 1500;
  const secs = (timeoutMs / 1000).toFixed(3);
  const target = `${protocol.toUpperCase()}${v6 ? '6' : '4'}:${socatAddress(v6, to)}:${req.port},bind=${socatAddress(v6, req.from)}`;
  const argv = req.udp
    ? ['socat', '-T', secs, '-t', secs, '-', target]
    : ['socat', '-T', secs, '-t', secs, '-', `${target},connect-timeout=${secs}`];
  const input = req.udp ? `probe ${req.from}\n` : `GET / HTTP/1.0\r\nHost: ${socatAddress(v6, to)}\r\n\r\n`;
  const r = await runRaw(argv, { netns: client.netns, input, timeoutMs: 3 * timeoutMs + 2000 });
  const c = classifySocat(protocol, r.code, r.stdout, r.stderr);
  return { ...c, from: req.from, to, port: req.port, protocol };
}
