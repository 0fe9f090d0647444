// `ipvsadm -Ln` output as readonly data. In ipvs mode the nat table only marks NodePort traffic;
// the backends live in the kernel's IPVS table, which is all this output shows.

import type { ParseError } from '../netfilter/parse';
import type { Protocol } from '../vocabulary';
import { splitHostPort } from './host-port';
import { findBinaryLine, parseError, splitLines } from './parse-result';

export interface IpvsRealServer {
  readonly address: string;
  readonly port: number;
  /** `Masq`, `Route`, `Tunnel`, `Local`. */
  readonly forward: string;
  readonly weight: number;
  readonly activeConnections: number;
  readonly inactiveConnections: number;
  readonly line: number;
}

export type IpvsVirtualService =
  | {
      readonly kind: 'address';
      readonly protocol: Protocol;
      readonly address: string;
      readonly port: number;
      readonly scheduler: string;
      /** `persistent 10800`, `ops`, ... as written. */
      readonly flags: string;
      readonly realServers: readonly IpvsRealServer[];
      readonly line: number;
    }
  | {
      readonly kind: 'fwmark';
      readonly fwmark: number;
      readonly scheduler: string;
      readonly flags: string;
      readonly realServers: readonly IpvsRealServer[];
      readonly line: number;
    };

export interface IpvsTable {
  readonly services: readonly IpvsVirtualService[];
}

export type IpvsParseResult =
  | { readonly ok: true; readonly ipvs: IpvsTable; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly error: ParseError };

const HEADER_LINES = [
  /^IP Virtual Server version /,
  /^Prot\s+LocalAddress:Port\s/,
  /^->\s+RemoteAddress:Port\s/,
];
const SERVICE = /^(TCP|UDP|SCTP)\s+(\S+)\s+(\S+)(?:\s+(.*))?$/;
const FWMARK = /^FWM\s+(\d+)\s+(\S+)(?:\s+(.*))?$/;
const REAL_SERVER = /^->\s+(\S+)\s+(\S+)\s+(-?\d+)\s+(\d+)\s+(\d+)$/;

function port(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

/** A virtual service under construction; `realServers` is the same array the service holds. */
interface Draft {
  readonly service: IpvsVirtualService;
  readonly realServers: IpvsRealServer[];
}

export function parseIpvsadm(text: string): IpvsParseResult {
  const lines = splitLines(text);
  const binary = findBinaryLine(lines);
  if (binary !== undefined) {
    return {
      ok: false,
      error: parseError(binary + 1, lines[binary] ?? '', 'binary data: not ipvsadm output'),
    };
  }
  const drafts: Draft[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const lineNo = i + 1;
    const t = raw.trim();
    if (t === '' || HEADER_LINES.some((h) => h.test(t))) continue;

    const rs = REAL_SERVER.exec(t);
    if (rs) {
      const current = drafts[drafts.length - 1];
      if (!current)
        return { ok: false, error: parseError(lineNo, raw, 'real server before any virtual service') };
      const hp = splitHostPort(rs[1] ?? '');
      const p = port(hp.port);
      if (p === undefined)
        return { ok: false, error: parseError(lineNo, raw, 'real server without a valid :port') };
      current.realServers.push({
        address: hp.address,
        port: p,
        forward: rs[2] ?? '',
        weight: Number(rs[3]),
        activeConnections: Number(rs[4]),
        inactiveConnections: Number(rs[5]),
        line: lineNo,
      });
      continue;
    }
    const vs = SERVICE.exec(t);
    if (vs) {
      const hp = splitHostPort(vs[2] ?? '');
      const p = port(hp.port);
      if (p === undefined)
        return { ok: false, error: parseError(lineNo, raw, 'virtual service without a valid :port') };
      const protocol = (vs[1] ?? '').toLowerCase() as Protocol;
      const realServers: IpvsRealServer[] = [];
      const service: IpvsVirtualService = {
        kind: 'address',
        protocol,
        address: hp.address,
        port: p,
        scheduler: vs[3] ?? '',
        flags: (vs[4] ?? '').trim(),
        realServers,
        line: lineNo,
      };
      drafts.push({ service, realServers });
      continue;
    }
    const fw = FWMARK.exec(t);
    if (fw) {
      const realServers: IpvsRealServer[] = [];
      const service: IpvsVirtualService = {
        kind: 'fwmark',
        fwmark: Number(fw[1]),
        scheduler: fw[2] ?? '',
        flags: (fw[3] ?? '').trim(),
        realServers,
        line: lineNo,
      };
      drafts.push({ service, realServers });
      continue;
    }
    return {
      ok: false,
      error: parseError(
        lineNo,
        raw,
        'expected a virtual service ("TCP  ADDR:PORT rr") or a real server ("-> ADDR:PORT ...")',
      ),
    };
  }
  return { ok: true, ipvs: { services: drafts.map((d) => d.service) }, warnings: [] };
}
