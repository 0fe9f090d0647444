// One rule line of `nft list` output for a table iptables-nft made, back to the iptables-save rule
// it came from. nft prints iptables-nft's rules in its own words (`meta l4proto tcp`, `tcp dport`,
// `fib daddr type local`, `meta random & 2147483647 < N`, `dnat to A:P`); each word group maps to
// exactly one iptables option, so the result parses into the same model as the node's
// iptables-save. Anything not in this table is refused by the caller, never guessed.

export type RuleFamily = 'ip' | 'ip6';

export interface RuleRead {
  readonly ok: true;
  /** `[p:b] -A CHAIN ...`, iptables-save's canonical order. */
  readonly line: string;
  /** One sentence per `xt match NAME` kept without its options. */
  readonly notes: readonly string[];
  readonly hasTarget: boolean;
  readonly hasProtocol: boolean;
  readonly hasComment: boolean;
  /** The chain of `jump X` / `goto X`. */
  readonly jumpTo?: string;
}

export interface RuleRefused {
  readonly ok: false;
  readonly message: string;
}

type Tok =
  | { readonly kind: 'word'; readonly text: string }
  | { readonly kind: 'set'; readonly items: string[] };

/** Words, `"quoted"` strings (kept with quotes) and `{ a, b }` sets. */
export function tokenizeRule(text: string): Tok[] | string {
  const out: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) return 'a quoted string without its closing `"`';
      out.push({ kind: 'word', text: text.slice(i, end + 1) });
      i = end + 1;
      continue;
    }
    if (c === '{') {
      const end = text.indexOf('}', i);
      if (end < 0) return 'a `{` set without its closing `}`';
      const items = text
        .slice(i + 1, end)
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      out.push({ kind: 'set', items });
      i = end + 1;
      continue;
    }
    let j = i;
    while (j < text.length && text[j] !== ' ' && text[j] !== '\t') j++;
    out.push({ kind: 'word', text: text.slice(i, j) });
    i = j;
  }
  return out;
}

const unquote = (s: string): string => (s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s);

/** iptables-save quotes a value that has spaces or quotes, as xtables' save_string does. */
function quoteArg(s: string): string {
  return /^[^\s"'\\]+$/.test(s) ? s : `"${s.replace(/(["\\])/g, '\\$1')}"`;
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

function parseNum(s: string): number | undefined {
  if (/^0x[0-9a-f]+$/i.test(s)) return Number.parseInt(s, 16);
  if (/^\d+$/.test(s)) return Number(s);
  return undefined;
}

/** `2147483647 < N` is xt_statistic's `--probability` scaled by 2^31 (printed with %.11f). */
export function probabilityOf(n: number): string {
  return (n / 0x80000000).toFixed(11);
}

const ADDR_TYPES = new Set([
  'unspec',
  'unicast',
  'local',
  'broadcast',
  'anycast',
  'multicast',
  'blackhole',
  'unreachable',
  'prohibit',
  'throw',
  'nat',
  'xresolve',
]);

const CT_STATES = new Set(['new', 'established', 'related', 'invalid', 'untracked']);
const CT_STATUS = new Set(['expected', 'seen-reply', 'assured', 'confirmed', 'snat', 'dnat']);

const REJECT_WITH: Readonly<Record<string, string>> = {
  'tcp reset': 'tcp-reset',
  'icmp type net-unreachable': 'icmp-net-unreachable',
  'icmp type host-unreachable': 'icmp-host-unreachable',
  'icmp type prot-unreachable': 'icmp-proto-unreachable',
  'icmp type port-unreachable': 'icmp-port-unreachable',
  'icmp type net-prohibited': 'icmp-net-prohibited',
  'icmp type host-prohibited': 'icmp-host-prohibited',
  'icmp type admin-prohibited': 'icmp-admin-prohibited',
  'icmpv6 type no-route': 'icmp6-no-route',
  'icmpv6 type admin-prohibited': 'icmp6-adm-prohibited',
  'icmpv6 type addr-unreachable': 'icmp6-addr-unreachable',
  'icmpv6 type port-unreachable': 'icmp6-port-unreachable',
};

interface Parts {
  counters?: string;
  protocol?: string;
  source?: string;
  destination?: string;
  inIf?: string;
  outIf?: string;
  matches: string[];
  target?: string;
  jumpTo?: string;
  comment?: string;
  notes: string[];
}

/** Reads one rule; `chain` is the iptables chain it belongs to. */
export function readRule(chain: string, text: string, family: RuleFamily): RuleRead | RuleRefused {
  const toks = tokenizeRule(text);
  if (typeof toks === 'string') return { ok: false, message: toks };
  const p: Parts = { matches: [], notes: [] };
  const hostBits = family === 'ip6' ? 128 : 32;
  let i = 0;
  const word = (k: number): string | undefined => {
    const t = toks[k];
    return t?.kind === 'word' ? t.text : undefined;
  };
  const refuse = (from: number, why?: string): RuleRefused => {
    const shown = toks
      .slice(from, from + 4)
      .map((t) => (t.kind === 'word' ? t.text : `{ ${t.items.join(', ')} }`))
      .join(' ');
    return {
      ok: false,
      message: why ?? `\`${shown}\` is not an nft form of an iptables rule this reader knows`,
    };
  };
  // `!=` after a selector negates it, as iptables' `!` does.
  const negation = (): boolean => {
    if (word(i) === '!=') {
      i++;
      return true;
    }
    if (word(i) === '==') i++;
    return false;
  };
  const not = (neg: boolean): string => (neg ? '! ' : '');

  while (i < toks.length) {
    const w = word(i);
    const start = i;
    if (w === undefined) return refuse(i);
    const next = word(i + 1);
    if (w === 'counter') {
      // `counter packets N bytes M`, or a bare `counter` in `nft -f` input.
      if (next === 'packets' && word(i + 3) === 'bytes') {
        const packets = parseNum(word(i + 2) ?? '');
        const bytes = parseNum(word(i + 4) ?? '');
        if (packets === undefined || bytes === undefined) return refuse(start);
        p.counters = `[${packets}:${bytes}]`;
        i += 5;
      } else i += 1;
      continue;
    }
    if (
      (w === 'meta' && next === 'l4proto') ||
      (w === 'ip' && next === 'protocol') ||
      (w === 'ip6' && next === 'nexthdr')
    ) {
      i += 2;
      const neg = negation();
      const proto = word(i);
      if (!proto || !/^[a-z0-9-]+$/.test(proto)) return refuse(start);
      if (p.protocol !== undefined) return refuse(start, 'a second protocol');
      p.protocol = `${not(neg)}-p ${proto}`;
      i++;
      continue;
    }
    if ((w === 'ip' || w === 'ip6') && (next === 'saddr' || next === 'daddr')) {
      if ((w === 'ip6') !== (family === 'ip6'))
        return refuse(start, `\`${w} ${next}\` in a table of family ${family}`);
      i += 2;
      const neg = negation();
      const addr = word(i);
      if (!addr) return refuse(start);
      i++;
      if (/^[0-9a-f.:]+-[0-9a-f.:]+$/i.test(addr)) {
        p.matches.push(`-m iprange ${not(neg)}--${next === 'saddr' ? 'src' : 'dst'}-range ${addr}`);
        continue;
      }
      if (!/^[0-9a-f.:]+(\/\d+)?$/i.test(addr)) return refuse(start);
      const cidr = addr.includes('/') ? addr : `${addr}/${hostBits}`;
      const opt = `${not(neg)}-${next === 'saddr' ? 's' : 'd'} ${cidr}`;
      // iptables has one -s and one -d: a second one is not an iptables-nft rule.
      if ((next === 'saddr' ? p.source : p.destination) !== undefined)
        return refuse(start, `a second \`${w} ${next}\``);
      if (next === 'saddr') p.source = opt;
      else p.destination = opt;
      continue;
    }
    if (w === 'iifname' || w === 'oifname') {
      i++;
      const neg = negation();
      const name = word(i);
      if (!name) return refuse(start);
      i++;
      const iface = unquote(name).replace(/\*$/, '+');
      if ((w === 'iifname' ? p.inIf : p.outIf) !== undefined) return refuse(start, `a second \`${w}\``);
      if (w === 'iifname') p.inIf = `${not(neg)}-i ${iface}`;
      else p.outIf = `${not(neg)}-o ${iface}`;
      continue;
    }
    if ((w === 'tcp' || w === 'udp' || w === 'sctp') && (next === 'dport' || next === 'sport')) {
      // One `-m tcp` carries both ports, one `-m multiport` the port lists: nft prints them as
      // selectors in a row.
      const proto = w;
      const plain: string[] = [];
      const lists: string[] = [];
      const order: ('plain' | 'lists')[] = [];
      while (word(i) === proto && (word(i + 1) === 'dport' || word(i + 1) === 'sport')) {
        const dir = word(i + 1)!;
        i += 2;
        const neg = negation();
        const t = toks[i];
        if (!t) return refuse(start);
        i++;
        const kind = t.kind === 'set' ? 'lists' : 'plain';
        if (!order.includes(kind)) order.push(kind);
        if (t.kind === 'set') {
          if (!t.items.every((x) => /^\d+(-\d+)?$/.test(x))) return refuse(start);
          lists.push(`${not(neg)}--${dir}s ${t.items.map((x) => x.replace('-', ':')).join(',')}`);
        } else {
          if (!/^\d+(-\d+)?$/.test(t.text)) return refuse(start);
          plain.push(`${not(neg)}--${dir} ${t.text.replace('-', ':')}`);
        }
      }
      p.protocol ??= `-p ${proto}`;
      for (const kind of order)
        p.matches.push(
          kind === 'plain' ? `-m ${proto} ${plain.join(' ')}` : `-m multiport ${lists.join(' ')}`,
        );
      continue;
    }
    if (w === 'fib' && (next === 'daddr' || next === 'saddr')) {
      // xt_addrtype; `fib daddr . iif type` is `--limit-iface-in`. Both selectors make one match.
      const opts: string[] = [];
      while (word(i) === 'fib' && (word(i + 1) === 'daddr' || word(i + 1) === 'saddr')) {
        const dir = word(i + 1) === 'daddr' ? 'dst' : 'src';
        i += 2;
        let limit = '';
        if (word(i) === '.' && (word(i + 1) === 'iif' || word(i + 1) === 'oif')) {
          limit = word(i + 1) === 'iif' ? ' --limit-iface-in' : ' --limit-iface-out';
          i += 2;
        }
        if (word(i) !== 'type') return refuse(start);
        i++;
        const neg = negation();
        const t = toks[i];
        i++;
        const types = t?.kind === 'set' ? t.items : t?.kind === 'word' ? [t.text] : [];
        if (types.length === 0 || !types.every((x) => ADDR_TYPES.has(x))) return refuse(start);
        opts.push(`${not(neg)}--${dir}-type ${types.map((x) => x.toUpperCase()).join(',')}${limit}`);
      }
      p.matches.push(`-m addrtype ${opts.join(' ')}`);
      continue;
    }
    if (w === 'ct' && (next === 'state' || next === 'status')) {
      i += 2;
      const neg = negation();
      const t = word(i);
      i++;
      const values = (t ?? '').split(',');
      const known = next === 'state' ? CT_STATES : CT_STATUS;
      if (!t || !values.every((v) => known.has(v))) return refuse(start);
      const upper = values.map((v) => v.toUpperCase()).join(',');
      p.matches.push(`-m conntrack ${not(neg)}--ct${next} ${upper}`);
      if (next === 'status')
        p.notes.push(
          "nft 1.0.6 prints `--ctstate DNAT` and `! --ctstate RELATED,ESTABLISHED,DNAT` (kube-proxy's KUBE-FIREWALL) alike as `ct status dnat`: read as `--ctstatus DNAT`",
        );
      continue;
    }
    if (w === 'meta' && next === 'mark' && word(i + 2) !== 'set') {
      // `meta mark & 0xM == 0xV` is `--mark 0xV/0xM`; `meta mark 0xV` is `--mark 0xV`.
      i += 2;
      let mask: number | undefined;
      if (word(i) === '&') {
        mask = parseNum(word(i + 1) ?? '');
        if (mask === undefined) return refuse(start);
        i += 2;
      }
      const neg = negation();
      const value = parseNum(word(i) ?? '');
      if (value === undefined) return refuse(start);
      i++;
      p.matches.push(`-m mark ${not(neg)}--mark ${hex(value)}${mask === undefined ? '' : `/${hex(mask)}`}`);
      continue;
    }
    if (w === 'meta' && next === 'random') {
      if (word(i + 2) !== '&' || word(i + 3) !== '2147483647' || word(i + 4) !== '<') return refuse(start);
      const n = parseNum(word(i + 5) ?? '');
      if (n === undefined) return refuse(start);
      i += 6;
      p.matches.push(`-m statistic --mode random --probability ${probabilityOf(n)}`);
      continue;
    }
    if (w === 'xt' && (next === 'match' || next === 'target')) {
      const name = unquote(word(i + 2) ?? '');
      if (!/^[A-Za-z0-9_]+$/.test(name)) return refuse(start);
      i += 3;
      if (next === 'target')
        return refuse(
          start,
          `nft printed \`xt target ${name}\` without its options, so the rule cannot be read back; give iptables-save`,
        );
      if (name === 'set')
        return refuse(
          start,
          'nft printed `xt match set` without the ipset name the rule matches; give iptables-save (and `ipset list`)',
        );
      if (name === 'comment') continue;
      p.matches.push(`-m ${name}`);
      // `-m sctp` with no option is exactly what kube-proxy writes before an SCTP DNAT.
      if (name !== 'sctp' && name !== 'tcp' && name !== 'udp')
        p.notes.push(
          `nft printed \`xt match ${name}\` without its options: kept as \`-m ${name}\`, options not shown`,
        );
      continue;
    }
    if (w === 'comment') {
      const c = word(i + 1);
      if (!c?.startsWith('"')) return refuse(start);
      p.comment = unquote(c);
      i += 2;
      continue;
    }
    // Targets: the rest of the line is the verdict or the NAT/MARK statement.
    if (p.target !== undefined) return refuse(start, 'a second target in one rule');
    if ((w === 'jump' || w === 'goto') && next) {
      p.target = `${w === 'jump' ? '-j' : '-g'} ${next}`;
      p.jumpTo = next;
      i += 2;
      continue;
    }
    const verdict: Readonly<Record<string, string>> = {
      accept: 'ACCEPT',
      drop: 'DROP',
      return: 'RETURN',
    };
    if (verdict[w]) {
      p.target = `-j ${verdict[w]}`;
      i++;
      continue;
    }
    if (w === 'reject') {
      i++;
      if (word(i) === 'with') {
        const key = [word(i + 1), word(i + 2), word(i + 3)].filter((x) => x !== undefined);
        const two = key.slice(0, 2).join(' ');
        const three = key.slice(0, 3).join(' ');
        const hit = REJECT_WITH[three] ? three : REJECT_WITH[two] ? two : undefined;
        if (!hit) return refuse(start);
        p.target = `-j REJECT --reject-with ${REJECT_WITH[hit]}`;
        i += 1 + hit.split(' ').length;
      } else
        p.target = `-j REJECT --reject-with ${family === 'ip6' ? 'icmp6-port-unreachable' : 'icmp-port-unreachable'}`;
      continue;
    }
    if (w === 'dnat' || w === 'snat') {
      i++;
      if (word(i) === 'ip' || word(i) === 'ip6') i++;
      if (word(i) !== 'to' || !word(i + 1)) return refuse(start);
      const to = word(i + 1)!;
      i += 2;
      const flags: string[] = [];
      while (word(i) === 'random' || word(i) === 'persistent' || word(i) === 'fully-random') {
        flags.push(word(i) === 'fully-random' ? '--random-fully' : `--${word(i)}`);
        i++;
      }
      const name = w === 'dnat' ? 'DNAT --to-destination' : 'SNAT --to-source';
      p.target = `-j ${name} ${to}${flags.map((f) => ` ${f}`).join('')}`;
      continue;
    }
    if (w === 'masquerade' || w === 'redirect') {
      i++;
      let ports = '';
      if (word(i) === 'to') {
        const to = word(i + 1) ?? '';
        if (!/^:\d+(-\d+)?$/.test(to)) return refuse(start);
        ports = ` --to-ports ${to.slice(1)}`;
        i += 2;
      }
      const flags: string[] = [];
      while (word(i) === 'random' || word(i) === 'fully-random' || word(i) === 'persistent') {
        flags.push(word(i) === 'fully-random' ? '--random-fully' : `--${word(i)}`);
        i++;
      }
      p.target = `-j ${w === 'masquerade' ? 'MASQUERADE' : 'REDIRECT'}${ports}${flags.map((f) => ` ${f}`).join('')}`;
      continue;
    }
    if (w === 'meta' && next === 'mark' && word(i + 2) === 'set') {
      const mark = readMarkSet(toks.slice(i + 3).map((t) => (t.kind === 'word' ? t.text : '{')));
      if (!mark) return refuse(start);
      p.target = `-j MARK --set-xmark ${hex(mark.value)}/${hex(mark.mask)}`;
      i += 3 + mark.used;
      continue;
    }
    return refuse(start);
  }
  if (p.protocol === undefined && p.matches.some((m) => /^-m (tcp|udp|sctp)\b/.test(m)))
    return refuse(0, 'a port match without its protocol');
  const head = [p.source, p.destination, p.inIf, p.outIf, p.protocol].filter((x) => x !== undefined);
  const comment = p.comment === undefined ? [] : [`-m comment --comment ${quoteArg(p.comment)}`];
  const body = [...head, ...comment, ...p.matches, ...(p.target ? [p.target] : [])];
  return {
    ok: true,
    line: `${p.counters ? `${p.counters} ` : ''}-A ${chain}${body.length ? ` ${body.join(' ')}` : ''}`,
    notes: p.notes,
    hasTarget: p.target !== undefined,
    hasProtocol: p.protocol !== undefined,
    hasComment: p.comment !== undefined,
    ...(p.jumpTo ? { jumpTo: p.jumpTo } : {}),
  };
}

/**
 * xt_MARK's `--set-xmark V/M` (mark = (mark & ~M) ^ V), as nft prints it: `0xV` (M all ones),
 * `mark or 0xV` (M = V), `mark xor 0xV` (M = 0), `mark and 0xA [xor 0xV]` (M = ~A).
 */
function readMarkSet(w: readonly string[]): { value: number; mask: number; used: number } | undefined {
  const first = parseNum(w[0] ?? '');
  if (first !== undefined) return { value: first, mask: 0xffffffff, used: 1 };
  if (w[0] !== 'mark') return undefined;
  const arg = parseNum(w[2] ?? '');
  if (arg === undefined) return undefined;
  if (w[1] === 'or') return { value: arg, mask: arg, used: 3 };
  if (w[1] === 'xor') return { value: arg, mask: 0, used: 3 };
  if (w[1] !== 'and') return undefined;
  const mask = ~arg >>> 0;
  if (w[3] === 'xor') {
    const v = parseNum(w[4] ?? '');
    return v === undefined ? undefined : { value: v, mask, used: 5 };
  }
  return { value: 0, mask, used: 3 };
}
