// Typed views of the match modules the topology and the tracer reason about. decodeMatch never
// guesses: a module it does not know, or a known module with a value it cannot read, comes back
// as `{kind: 'unknown'}` with the original match (and a reason), so the tracer reports it instead
// of evaluating it wrongly.

import type { Protocol } from '../vocabulary';
import {
  type AddressRange,
  type MarkValue,
  type PortRange,
  parseMark,
  parsePortList,
  parsePortRange,
} from './decode-values.js';
import type { Match, MatchOption, Negatable } from './model.js';

export interface PortsMatch {
  readonly kind: Protocol;
  readonly sport?: Negatable<PortRange>;
  readonly dport?: Negatable<PortRange>;
  /** Options other than the ports (--tcp-flags, --syn, --chunk-types, ...), as written. */
  readonly other: readonly MatchOption[];
}

export interface MultiportMatch {
  readonly kind: 'multiport';
  /** --sports / --dports / --ports (either side). */
  readonly side: 'source' | 'destination' | 'either';
  readonly negated: boolean;
  readonly ports: readonly PortRange[];
}

export interface AddrtypeMatch {
  readonly kind: 'addrtype';
  /** Type names as written: LOCAL, UNICAST, BROADCAST, ... (any of them matches). */
  readonly srcType?: Negatable<readonly string[]>;
  readonly dstType?: Negatable<readonly string[]>;
  readonly limitIfaceIn: boolean;
  readonly limitIfaceOut: boolean;
}

export interface CommentMatch {
  readonly kind: 'comment';
  readonly text: string;
}

export interface MarkMatch extends MarkValue {
  readonly kind: 'mark' | 'connmark';
  readonly negated: boolean;
}

export interface ConntrackMatch {
  readonly kind: 'conntrack';
  readonly states?: Negatable<readonly string[]>;
  readonly statuses?: Negatable<readonly string[]>;
  readonly origSrc?: Negatable<string>;
  readonly origDst?: Negatable<string>;
  readonly replSrc?: Negatable<string>;
  readonly replDst?: Negatable<string>;
  readonly origSrcPort?: Negatable<PortRange>;
  readonly origDstPort?: Negatable<PortRange>;
  readonly replSrcPort?: Negatable<PortRange>;
  readonly replDstPort?: Negatable<PortRange>;
  /** Options not decoded above (--ctproto, --ctdir, --ctexpire), as written. */
  readonly other: readonly MatchOption[];
}

export interface StateMatch {
  readonly kind: 'state';
  readonly states: Negatable<readonly string[]>;
}

export interface SetMatch {
  readonly kind: 'set';
  readonly setName: string;
  readonly negated: boolean;
  /** `src,dst` -> ['src', 'dst']: which packet field feeds each dimension of the set. */
  readonly flags: readonly ('src' | 'dst')[];
  readonly other: readonly MatchOption[];
}

export type StatisticMatch =
  | {
      readonly kind: 'statistic';
      readonly mode: 'random';
      readonly negated: boolean;
      readonly probability: number;
    }
  | {
      readonly kind: 'statistic';
      readonly mode: 'nth';
      readonly negated: boolean;
      readonly every: number;
      readonly packet: number;
    };

export interface PhysdevMatch {
  readonly kind: 'physdev';
  readonly physdevIn?: Negatable<string>;
  readonly physdevOut?: Negatable<string>;
  readonly isIn?: Negatable<true>;
  readonly isOut?: Negatable<true>;
  readonly isBridged?: Negatable<true>;
}

export interface RecentMatch {
  readonly kind: 'recent';
  readonly action: 'set' | 'rcheck' | 'update' | 'remove';
  readonly negated: boolean;
  readonly listName: string;
  readonly side: 'source' | 'dest';
  readonly seconds?: number;
  readonly hitcount?: number;
  readonly other: readonly MatchOption[];
}

export interface LimitMatch {
  readonly kind: 'limit';
  readonly count: number;
  readonly per: 'second' | 'minute' | 'hour' | 'day';
  readonly burst: number;
}

export interface SocketMatch {
  readonly kind: 'socket';
  readonly transparent: boolean;
  readonly nowildcard: boolean;
  readonly restoreSkmark: boolean;
}

export interface OwnerMatch {
  readonly kind: 'owner';
  readonly uid?: Negatable<string>;
  readonly gid?: Negatable<string>;
  readonly socketExists?: Negatable<true>;
}

export interface IcmpMatch {
  readonly kind: 'icmp' | 'icmp6';
  /** As written: `8`, `3/4`, `echo-request`, `any`. */
  readonly type: Negatable<string>;
}

export interface IprangeMatch {
  readonly kind: 'iprange';
  readonly srcRange?: Negatable<AddressRange>;
  readonly dstRange?: Negatable<AddressRange>;
}

export interface UnknownMatch {
  readonly kind: 'unknown';
  readonly match: Match;
  /** Why a known module could not be decoded; absent for modules we do not model. */
  readonly reason?: string;
}

export type KnownMatch =
  | PortsMatch
  | MultiportMatch
  | AddrtypeMatch
  | CommentMatch
  | MarkMatch
  | ConntrackMatch
  | StateMatch
  | SetMatch
  | StatisticMatch
  | PhysdevMatch
  | RecentMatch
  | LimitMatch
  | SocketMatch
  | OwnerMatch
  | IcmpMatch
  | IprangeMatch
  | UnknownMatch;

/** Thrown inside a decoder, caught by decodeMatch: the match is then unknown with this reason. */
class Undecodable extends Error {}

function bad(reason: string): never {
  throw new Undecodable(reason);
}

/**
 * The last option called `name` (or `alias`, its other spelling). A plain loop: the topology and
 * the tracer decode the port and statistic matches of every rule they follow, and findLast with a
 * closure over rest arguments cost three allocations per call.
 */
function opt(m: Match, name: string, alias?: string): MatchOption | undefined {
  const options = m.options;
  for (let i = options.length - 1; i >= 0; i--) {
    const n = options[i]!.name;
    if (n === name || n === alias) return options[i];
  }
  return undefined;
}

/** The last option with one of `names`. */
function optAmong(m: Match, names: readonly string[]): MatchOption | undefined {
  return m.options.findLast((o) => names.includes(o.name));
}

/** Shared, readonly by type; not frozen, for the reason intern.ts gives for its EMPTY. */
const NO_OPTIONS: readonly MatchOption[] = [];

function one(o: MatchOption): string {
  if (o.values.length !== 1) bad(`--${o.name} needs one value`);
  return o.values[0]!;
}

function flag(m: Match, name: string): Negatable<true> | undefined {
  const o = opt(m, name);
  return o ? { value: true, negated: o.negated } : undefined;
}

function str(m: Match, name: string): Negatable<string> | undefined {
  const o = opt(m, name);
  return o ? { value: one(o), negated: o.negated } : undefined;
}

function list(m: Match, name: string): Negatable<readonly string[]> | undefined {
  const o = opt(m, name);
  return o ? { value: one(o).split(','), negated: o.negated } : undefined;
}

function portRange(o: MatchOption | undefined): Negatable<PortRange> | undefined {
  if (!o) return undefined;
  const r = parsePortRange(one(o));
  if (!r) bad(`--${o.name} ${o.values.join(' ')} is not a port or port range`);
  return { value: r, negated: o.negated };
}

function num(o: MatchOption, min: number, max: number): number {
  const v = one(o);
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) bad(`--${o.name} ${v} is out of range`);
  return n;
}

/** The options not named in `names`; when none are left, one shared empty list. */
function without(m: Match, names: readonly string[]): readonly MatchOption[] {
  const options = m.options;
  let i = 0;
  while (i < options.length && names.includes(options[i]!.name)) i++;
  return i === options.length ? NO_OPTIONS : options.filter((o) => !names.includes(o.name));
}

const PORT_OPTIONS = ['sport', 'dport', 'source-port', 'destination-port'];

function ports(m: Match, kind: PortsMatch['kind']): PortsMatch {
  const sport = portRange(opt(m, 'sport', 'source-port'));
  const dport = portRange(opt(m, 'dport', 'destination-port'));
  const other = without(m, PORT_OPTIONS);
  // No spreads (see opt): one literal per shape.
  if (sport && dport) return { kind, sport, dport, other };
  if (dport) return { kind, dport, other };
  return sport ? { kind, sport, other } : { kind, other };
}

const MULTIPORT_OPTIONS = ['dports', 'destination-ports', 'sports', 'source-ports', 'ports'];

function multiport(m: Match): MultiportMatch {
  const o = optAmong(m, MULTIPORT_OPTIONS);
  if (!o) bad('multiport without --dports, --sports or --ports');
  const side = o.name.startsWith('d') ? 'destination' : o.name.startsWith('s') ? 'source' : 'either';
  const list = parsePortList(one(o));
  if (!list) bad(`--${o.name} ${o.values.join(' ')} is not a port list`);
  return { kind: 'multiport', side, negated: o.negated, ports: list };
}

function mark(m: Match, kind: MarkMatch['kind']): MarkMatch {
  const o = opt(m, 'mark');
  if (!o) bad(`${kind} without --mark`);
  const v = parseMark(one(o));
  if (!v) bad(`--mark ${o.values.join(' ')} is not a mark`);
  return { kind, negated: o.negated, value: v.value, mask: v.mask };
}

function conntrack(m: Match): ConntrackMatch {
  const field = <K extends string>(name: string, key: K) => {
    const v = str(m, name);
    return v ? ({ [key]: v } as Record<K, Negatable<string>>) : {};
  };
  const portField = <K extends string>(name: string, key: K) => {
    const v = portRange(opt(m, name));
    return v ? ({ [key]: v } as Record<K, Negatable<PortRange>>) : {};
  };
  const states = list(m, 'ctstate');
  const statuses = list(m, 'ctstatus');
  const decoded = ['ctstate', 'ctstatus', 'ctorigsrc', 'ctorigdst', 'ctreplsrc', 'ctrepldst'];
  const portNames = ['ctorigsrcport', 'ctorigdstport', 'ctreplsrcport', 'ctrepldstport'];
  return {
    kind: 'conntrack',
    ...(states && { states }),
    ...(statuses && { statuses }),
    ...field('ctorigsrc', 'origSrc'),
    ...field('ctorigdst', 'origDst'),
    ...field('ctreplsrc', 'replSrc'),
    ...field('ctrepldst', 'replDst'),
    ...portField('ctorigsrcport', 'origSrcPort'),
    ...portField('ctorigdstport', 'origDstPort'),
    ...portField('ctreplsrcport', 'replSrcPort'),
    ...portField('ctrepldstport', 'replDstPort'),
    other: without(m, [...decoded, ...portNames]),
  };
}

function set(m: Match): SetMatch {
  const o = opt(m, 'match-set', 'set');
  if (!o) bad('set without --match-set');
  const [setName, dims] = o.values;
  if (o.values.length !== 2 || !setName || !dims) bad('--match-set needs a set name and src/dst flags');
  const flags = dims.split(',');
  if (!flags.every((f) => f === 'src' || f === 'dst')) bad(`--match-set flags "${dims}" are not src/dst`);
  return {
    kind: 'set',
    setName,
    negated: o.negated,
    flags: flags as ('src' | 'dst')[],
    other: without(m, ['match-set', 'set']),
  };
}

function statistic(m: Match): StatisticMatch {
  const mode = opt(m, 'mode');
  const modeName = mode ? one(mode) : 'random';
  if (modeName === 'random') {
    const p = opt(m, 'probability');
    if (!p) bad('statistic --mode random without --probability');
    return { kind: 'statistic', mode: 'random', negated: p.negated, probability: num(p, 0, 1) };
  }
  if (modeName === 'nth') {
    const every = opt(m, 'every');
    if (!every) bad('statistic --mode nth without --every');
    const packet = opt(m, 'packet');
    const n = num(every, 1, 0xffffffff);
    return {
      kind: 'statistic',
      mode: 'nth',
      negated: every.negated,
      every: n,
      packet: packet ? num(packet, 0, n - 1) : 0,
    };
  }
  bad(`statistic --mode ${modeName} is not random or nth`);
}

function physdev(m: Match): PhysdevMatch {
  const physdevIn = str(m, 'physdev-in');
  const physdevOut = str(m, 'physdev-out');
  const isIn = flag(m, 'physdev-is-in');
  const isOut = flag(m, 'physdev-is-out');
  const isBridged = flag(m, 'physdev-is-bridged');
  return {
    kind: 'physdev',
    ...(physdevIn && { physdevIn }),
    ...(physdevOut && { physdevOut }),
    ...(isIn && { isIn }),
    ...(isOut && { isOut }),
    ...(isBridged && { isBridged }),
  };
}

const RECENT_ACTIONS = ['set', 'rcheck', 'update', 'remove'] as const;

function recent(m: Match): RecentMatch {
  const action = m.options.find((o) => (RECENT_ACTIONS as readonly string[]).includes(o.name));
  if (!action) bad('recent without --set, --rcheck, --update or --remove');
  const seconds = opt(m, 'seconds');
  const hitcount = opt(m, 'hitcount');
  const name = opt(m, 'name');
  return {
    kind: 'recent',
    action: action.name as RecentMatch['action'],
    negated: action.negated,
    listName: name ? one(name) : 'DEFAULT',
    side: opt(m, 'rdest') ? 'dest' : 'source',
    ...(seconds && { seconds: num(seconds, 0, 0xffffffff) }),
    ...(hitcount && { hitcount: num(hitcount, 0, 0xffffffff) }),
    other: without(m, [...RECENT_ACTIONS, 'seconds', 'hitcount', 'name', 'rsource', 'rdest']),
  };
}

const LIMIT_UNITS: Readonly<Record<string, LimitMatch['per']>> = {
  s: 'second',
  sec: 'second',
  second: 'second',
  m: 'minute',
  min: 'minute',
  minute: 'minute',
  h: 'hour',
  hour: 'hour',
  d: 'day',
  day: 'day',
};

function limit(m: Match): LimitMatch {
  const rate = opt(m, 'limit');
  const burst = opt(m, 'limit-burst');
  // iptables' defaults: 3/hour, burst 5.
  const [count = '3', unit = 'hour'] = rate ? one(rate).split('/') : [];
  const per = LIMIT_UNITS[unit];
  const n = Number(count);
  if (!per || !/^[0-9]+$/.test(count) || n === 0) bad(`--limit ${count}/${unit} is not a rate`);
  return { kind: 'limit', count: n, per, burst: burst ? num(burst, 1, 10000) : 5 };
}

function owner(m: Match): OwnerMatch {
  const uid = str(m, 'uid-owner');
  const gid = str(m, 'gid-owner');
  const socketExists = flag(m, 'socket-exists');
  return { kind: 'owner', ...(uid && { uid }), ...(gid && { gid }), ...(socketExists && { socketExists }) };
}

function icmp(m: Match, kind: IcmpMatch['kind']): IcmpMatch {
  const type = str(m, kind === 'icmp' ? 'icmp-type' : 'icmpv6-type');
  if (!type) bad(`${m.module} without a type`);
  return { kind, type };
}

function iprange(m: Match): IprangeMatch {
  const range = (name: string): Negatable<AddressRange> | undefined => {
    const o = opt(m, name);
    if (!o) return undefined;
    const [from, to] = one(o).split('-');
    if (!from || !to) bad(`--${name} ${o.values.join(' ')} is not an address range`);
    return { value: { from, to }, negated: o.negated };
  };
  const srcRange = range('src-range');
  const dstRange = range('dst-range');
  return { kind: 'iprange', ...(srcRange && { srcRange }), ...(dstRange && { dstRange }) };
}

function decodeKnown(m: Match): KnownMatch {
  switch (m.module) {
    case 'tcp':
    case 'udp':
    case 'sctp':
      return ports(m, m.module);
    case 'multiport':
      return multiport(m);
    case 'addrtype': {
      const srcType = list(m, 'src-type');
      const dstType = list(m, 'dst-type');
      return {
        kind: 'addrtype',
        ...(srcType && { srcType }),
        ...(dstType && { dstType }),
        limitIfaceIn: opt(m, 'limit-iface-in') !== undefined,
        limitIfaceOut: opt(m, 'limit-iface-out') !== undefined,
      };
    }
    case 'comment': {
      const c = opt(m, 'comment');
      return { kind: 'comment', text: c ? c.values.join(' ') : '' };
    }
    case 'mark':
    case 'connmark':
      return mark(m, m.module);
    case 'conntrack':
      return conntrack(m);
    case 'state': {
      const states = list(m, 'state');
      if (!states) bad('state without --state');
      return { kind: 'state', states };
    }
    case 'set':
      return set(m);
    case 'statistic':
      return statistic(m);
    case 'physdev':
      return physdev(m);
    case 'recent':
      return recent(m);
    case 'limit':
      return limit(m);
    case 'socket':
      return {
        kind: 'socket',
        transparent: opt(m, 'transparent') !== undefined,
        nowildcard: opt(m, 'nowildcard') !== undefined,
        restoreSkmark: opt(m, 'restore-skmark') !== undefined,
      };
    case 'owner':
      return owner(m);
    case 'icmp':
    case 'icmp6':
      return icmp(m, m.module);
    case 'iprange':
      return iprange(m);
    default:
      return { kind: 'unknown', match: m };
  }
}

export function decodeMatch(m: Match): KnownMatch {
  try {
    return decodeKnown(m);
  } catch (e) {
    if (e instanceof Undecodable) return { kind: 'unknown', match: m, reason: e.message };
    throw e;
  }
}
