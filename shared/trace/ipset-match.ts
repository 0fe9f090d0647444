// `-m set --match-set NAME src,dst` against one packet, from `ipset list` members. Only the set
// types kube-proxy and hand-made guards use are modelled (ip, net, port dimensions); anything else
// is unknown rather than a guess.
import type { IpsetList, IpsetMember, IpsetSet } from '../kube/ipset-parse';
import type { Tri } from '../kube/port-match';
import type { SetMatch } from '../netfilter/decode-match';
import type { Family, Protocol } from '../vocabulary';
import { cidrContains, type ParsedAddress, type ParsedCidr, parseCidr } from './cidr';

type Dimension = 'ip' | 'net' | 'port';

interface PortElement {
  /** Absent for bitmap:port, which holds bare port numbers for every protocol. */
  readonly protocol?: string;
  readonly port: number;
}

type Element =
  | { readonly kind: 'net'; readonly cidr: ParsedCidr }
  | { readonly kind: 'port'; readonly port: PortElement };

interface CompiledSet {
  readonly dimensions: readonly Dimension[];
  readonly family?: Family;
  readonly members: readonly (readonly Element[])[];
  readonly nomatch: readonly (readonly Element[])[];
}

export interface SetPacket {
  readonly src: ParsedAddress;
  readonly dst: ParsedAddress;
  readonly protocol: Protocol;
  readonly sport?: number;
  readonly dport: number;
}

function dimensionsOf(type: string): readonly Dimension[] | string {
  const m = /^(hash|bitmap):(.+)$/.exec(type);
  if (!m) return `set type ${type || '(none)'} is not modelled`;
  const dims = (m[2] ?? '').split(',');
  for (const d of dims) {
    if (d !== 'ip' && d !== 'net' && d !== 'port') return `set type ${type} is not modelled`;
  }
  return dims as Dimension[];
}

function parsePortElement(text: string, bitmap: boolean): PortElement | undefined {
  const colon = text.indexOf(':');
  const proto = colon < 0 ? undefined : text.slice(0, colon).toLowerCase();
  const portText = colon < 0 ? text : text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 65535) return undefined;
  // ipset's hash types default to tcp when the protocol is left out.
  const protocol = proto ?? (bitmap ? undefined : 'tcp');
  return protocol === undefined ? { port } : { protocol, port };
}

function compileMember(
  member: IpsetMember,
  dims: readonly Dimension[],
  bitmap: boolean,
): readonly Element[] | undefined {
  const parts = member.entry.split(',');
  if (parts.length !== dims.length) return undefined;
  const out: Element[] = [];
  for (let i = 0; i < dims.length; i++) {
    const text = parts[i] ?? '';
    if (dims[i] === 'port') {
      const port = parsePortElement(text, bitmap);
      if (!port) return undefined;
      out.push({ kind: 'port', port });
    } else {
      const cidr = parseCidr(text);
      if (!cidr) return undefined;
      out.push({ kind: 'net', cidr });
    }
  }
  return out;
}

function compile(set: IpsetSet): CompiledSet | string {
  const dims = dimensionsOf(set.type);
  if (typeof dims === 'string') return dims;
  const bitmap = set.type.startsWith('bitmap:');
  const members: (readonly Element[])[] = [];
  const nomatch: (readonly Element[])[] = [];
  for (const m of set.members) {
    const compiled = compileMember(m, dims, bitmap);
    if (!compiled) return `set ${set.name} member "${m.entry}" (line ${m.line}) is not understood`;
    (m.options.includes('nomatch') ? nomatch : members).push(compiled);
  }
  const family = set.family === 'inet' ? 'ipv4' : set.family === 'inet6' ? 'ipv6' : undefined;
  return { dimensions: dims, ...(family ? { family } : {}), members, nomatch };
}

function elementMatches(el: Element, flag: 'src' | 'dst', p: SetPacket): boolean | undefined {
  if (el.kind === 'net') return cidrContains(el.cidr, flag === 'src' ? p.src : p.dst);
  const port = flag === 'src' ? p.sport : p.dport;
  if (port === undefined) return undefined;
  return port === el.port.port && (el.port.protocol === undefined || el.port.protocol === p.protocol);
}

function tupleMatches(
  tuple: readonly Element[],
  flags: readonly ('src' | 'dst')[],
  p: SetPacket,
): boolean | undefined {
  let unknown = false;
  for (let i = 0; i < tuple.length; i++) {
    const el = tuple[i];
    const flag = flags[i];
    if (!el || !flag) return undefined;
    const r = elementMatches(el, flag, p);
    if (r === false) return false;
    if (r === undefined) unknown = true;
  }
  return unknown ? undefined : true;
}

/** Membership tests for one trace: each set is compiled once, each (set, flags) answered once. */
export function setMatcher(ipsets: IpsetList | undefined, packet: SetPacket) {
  const byName = new Map((ipsets?.sets ?? []).map((s) => [s.name, s] as const));
  const compiled = new Map<string, CompiledSet | string>();
  const answers = new Map<string, { tri: Tri; reason?: string }>();

  const answer = (m: SetMatch): { tri: Tri; reason?: string } => {
    if (!ipsets) return { tri: 'unknown', reason: `-m set ${m.setName}: no ipset list given` };
    const set = byName.get(m.setName);
    if (!set) return { tri: 'unknown', reason: `-m set ${m.setName}: set not in the ipset list` };
    let c = compiled.get(m.setName);
    if (c === undefined) {
      c = compile(set);
      compiled.set(m.setName, c);
    }
    if (typeof c === 'string') return { tri: 'unknown', reason: c };
    if (m.flags.length < c.dimensions.length) {
      return {
        tri: 'unknown',
        reason: `-m set ${m.setName}: ${m.flags.length} flags for ${c.dimensions.length} dimensions`,
      };
    }
    if (c.family && c.dimensions.some((d) => d !== 'port') && c.family !== packet.src.family)
      return { tri: 'no' };
    let unknown = false;
    for (const t of c.nomatch) {
      if (tupleMatches(t, m.flags, packet) !== false) {
        return { tri: 'unknown', reason: `-m set ${m.setName}: a nomatch entry may apply` };
      }
    }
    for (const t of c.members) {
      const r = tupleMatches(t, m.flags, packet);
      if (r === true) return { tri: 'yes' };
      if (r === undefined) unknown = true;
    }
    return unknown ? { tri: 'unknown', reason: `-m set ${m.setName}: needs the source port` } : { tri: 'no' };
  };

  return (m: SetMatch): { tri: Tri; reason?: string } => {
    const key = `${m.setName} ${m.flags.join(',')}`;
    let a = answers.get(key);
    if (!a) {
      a = answer(m);
      answers.set(key, a);
    }
    if (a.tri === 'unknown' || !m.negated) return a;
    return { tri: a.tri === 'yes' ? 'no' : 'yes' };
  };
}
