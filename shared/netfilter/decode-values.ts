// Parsers for the small value syntaxes inside match and target options: port ranges, port lists,
// marks, NAT address/port ranges. Each returns undefined for text it does not understand, so the
// decoders can report the match as unknown instead of guessing.

/** Inclusive; a single port has from === to. */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/** Inclusive address range as written (`198.18.0.1-198.18.0.5`); a single address has from === to. */
export interface AddressRange {
  readonly from: string;
  readonly to: string;
}

/** One `--to-destination` / `--to-source` value. */
export interface NatRange {
  /** Absent for `:8080` (port only: keep the address). */
  readonly addresses?: AddressRange;
  /** Absent when no port is given (keep the port). */
  readonly ports?: PortRange;
  /** `/base` after a port range (NF_NAT_RANGE_PROTO_OFFSET, iptables >= 1.8.6). */
  readonly portBase?: number;
}

/** A mark with its mask; the mask defaults to all ones. */
export interface MarkValue {
  readonly value: number;
  readonly mask: number;
}

const MAX_U32 = 0xffff_ffff;

function isDigits(s: string): boolean {
  if (s.length === 0 || s.length > 10) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

export function parsePort(s: string): number | undefined {
  if (!isDigits(s)) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}

/**
 * `80`, `80:90`, `:90` (0-90), `80:` (80-65535) as in --dport; `sep` is `-` for --to-ports and
 * NAT ranges. A reversed range (`90:80`) is rejected, as iptables does.
 */
export function parsePortRange(s: string, sep: ':' | '-' = ':'): PortRange | undefined {
  const at = s.indexOf(sep);
  if (at < 0) {
    const p = parsePort(s);
    return p === undefined ? undefined : { from: p, to: p };
  }
  const a = s.slice(0, at);
  const b = s.slice(at + 1);
  const from = a === '' && sep === ':' ? 0 : parsePort(a);
  const to = b === '' && sep === ':' ? 65535 : parsePort(b);
  if (from === undefined || to === undefined || from > to) return undefined;
  return { from, to };
}

/** multiport's `53,1000:2000`. */
export function parsePortList(s: string): readonly PortRange[] | undefined {
  const out: PortRange[] = [];
  for (const part of s.split(',')) {
    const r = parsePortRange(part);
    if (!r) return undefined;
    out.push(r);
  }
  return out;
}

/** Decimal or 0x-hex, 32 bits unsigned. */
export function parseU32(s: string): number | undefined {
  const hex = s.startsWith('0x') || s.startsWith('0X');
  const body = hex ? s.slice(2) : s;
  if (body.length === 0 || !(hex ? /^[0-9a-fA-F]{1,8}$/ : /^[0-9]{1,10}$/).test(body)) return undefined;
  const n = hex ? Number.parseInt(body, 16) : Number(body);
  return n <= MAX_U32 ? n : undefined;
}

/** `0x4000/0x4000` or `0x4000` (mask all ones). */
export function parseMark(s: string): MarkValue | undefined {
  const slash = s.indexOf('/');
  const value = parseU32(slash < 0 ? s : s.slice(0, slash));
  const mask = slash < 0 ? MAX_U32 : parseU32(s.slice(slash + 1));
  if (value === undefined || mask === undefined) return undefined;
  return { value, mask };
}

/**
 * Digits and exactly three dots (IPv4), or hex digits, dots and at least one colon (IPv6). One pass
 * over the characters, no regular expressions or split: the topology decodes every DNAT target of
 * a node (15,000 on a 5,000-service node) through here.
 */
function looksLikeAddress(s: string): boolean {
  if (s.length === 0) return false;
  let dots = 0;
  let colons = 0;
  let hexLetters = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) continue;
    if (c === 46) dots++;
    else if (c === 58) colons++;
    else if ((c >= 97 && c <= 102) || (c >= 65 && c <= 70)) hexLetters = true;
    else return false;
  }
  return colons === 0 && !hexLetters ? dots === 3 : colons > 0;
}

function parseAddressRange(s: string): AddressRange | undefined {
  const dash = s.indexOf('-');
  if (dash < 0) return looksLikeAddress(s) ? { from: s, to: s } : undefined;
  const from = s.slice(0, dash);
  const to = s.slice(dash + 1);
  return looksLikeAddress(from) && looksLikeAddress(to) ? { from, to } : undefined;
}

/**
 * `198.19.1.5:8080`, the only form kube-proxy writes (one per endpoint: 15,000 on a large node),
 * read in one pass with one slice; anything else (ranges, IPv6, no port) is left to the general
 * path below by returning undefined.
 */
function parseAddressColonPort(s: string): NatRange | undefined {
  const colon = s.indexOf(':');
  if (colon <= 0 || colon === s.length - 1 || colon > 15) return undefined;
  let port = 0;
  for (let i = colon + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57 || i - colon > 5) return undefined;
    port = port * 10 + (c - 48);
  }
  if (port > 65535) return undefined;
  let dots = 0;
  for (let i = 0; i < colon; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) dots++;
    else if (c < 48 || c > 57) return undefined;
  }
  if (dots !== 3) return undefined;
  const address = s.slice(0, colon);
  return { addresses: { from: address, to: address }, ports: { from: port, to: port } };
}

/**
 * DNAT/SNAT ranges: `198.18.0.1`, `198.18.0.1:80`, `198.18.0.1-198.18.0.5:80-90`, `:8080`,
 * `198.18.0.1:1000-2000/3000`, and for IPv6 `2001:2::1`, `[2001:2::1]:80`,
 * `[2001:2::1-2001:2::9]:80-90`.
 */
export function parseNatRange(s: string): NatRange | undefined {
  const simple = parseAddressColonPort(s);
  if (simple) return simple;
  let addr: string;
  let rest: string;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return undefined;
    addr = s.slice(1, close);
    rest = s.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return undefined;
  } else if (s.indexOf(':') !== s.lastIndexOf(':')) {
    addr = s; // bare IPv6 address, no port
    rest = '';
  } else {
    const colon = s.indexOf(':');
    addr = colon < 0 ? s : s.slice(0, colon);
    rest = colon < 0 ? '' : s.slice(colon);
  }
  const range: { addresses?: AddressRange; ports?: PortRange; portBase?: number } = {};
  if (addr !== '') {
    const addresses = parseAddressRange(addr);
    if (!addresses) return undefined;
    range.addresses = addresses;
  }
  if (rest !== '') {
    const body = rest.slice(1);
    const slash = body.indexOf('/');
    const ports = parsePortRange(slash < 0 ? body : body.slice(0, slash), '-');
    if (!ports) return undefined;
    range.ports = ports;
    if (slash >= 0) {
      const base = parsePort(body.slice(slash + 1));
      if (base === undefined) return undefined;
      range.portBase = base;
    }
  }
  if (!range.addresses && !range.ports) return undefined;
  return range;
}
