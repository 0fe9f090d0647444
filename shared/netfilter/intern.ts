// Hash-consing of the model's small immutable parts during one parse. A kube-proxy dump repeats the
// same options, matches and targets thousands of times (`-m tcp`, `--mode random`, a service's
// comment on each of its rules, `-j ACCEPT`); sharing one readonly object for each distinct value
// cuts the parse result to under half its size and much of the garbage-collection time. (Jumps to
// user chains, `-j KUBE-MARK-MASQ`, are shared by the table being read: TableBuilder.chainTarget.)
// Rule match lists of one match are shared too (`[-m tcp]` on every DNAT rule).
// What is nearly always distinct (DNAT targets and their options, addresses) is not cached:
// measured, the lookups cost more than the copies.
// Sharing is safe because the model is readonly; equal values stay `toEqual`, as before.

import type { Counters, Match, MatchOption, Negatable, Target } from './model.js';

/**
 * The one empty list of a parse (options, matches). Not frozen: V8 does not inline `for...of`
 * over frozen arrays, and one frozen list among the model's lists made every loop over rules and
 * matches allocate an iterator result per element (2 MB per topology of a 5,000-service node).
 * The model is readonly by type; nothing may push into a parsed list.
 */
const EMPTY: readonly never[] = [];

/**
 * Interned sequences of already-interned parts under a string key (a module or target name):
 * plain maps for the common lengths 0 and 1, a trie over part identities for longer ones.
 */
interface TrieNode<T> {
  value: T | undefined;
  next: Map<unknown, TrieNode<T>> | undefined;
}

class SequenceCache<T> {
  private readonly none = new Map<string, T>();
  private readonly one = new Map<string, Map<unknown, T>>();
  private readonly many = new Map<string, TrieNode<T>>();

  get(key: string, parts: readonly unknown[], start: number, end: number): T | undefined {
    if (end === start) return this.none.get(key);
    if (end - start === 1) return this.one.get(key)?.get(parts[start]);
    let n = this.many.get(key);
    for (let i = start; n && i < end; i++) n = n.next?.get(parts[i]);
    return n?.value;
  }

  set(key: string, parts: readonly unknown[], start: number, end: number, value: T): T {
    if (end === start) {
      this.none.set(key, value);
      return value;
    }
    if (end - start === 1) {
      let byPart = this.one.get(key);
      if (!byPart) {
        byPart = new Map();
        this.one.set(key, byPart);
      }
      byPart.set(parts[start], value);
      return value;
    }
    let n = this.many.get(key);
    if (!n) {
      n = { value: undefined, next: undefined };
      this.many.set(key, n);
    }
    for (let i = start; i < end; i++) {
      n.next ??= new Map();
      let next = n.next.get(parts[i]);
      if (!next) {
        next = { value: undefined, next: undefined };
        n.next.set(parts[i], next);
      }
      n = next;
    }
    n.value = value;
    return value;
  }
}

export class Interner {
  private readonly noValue = [new Map<string, MatchOption>(), new Map<string, MatchOption>()];
  private readonly oneValue = [
    new Map<string, Map<string, MatchOption>>(),
    new Map<string, Map<string, MatchOption>>(),
  ];
  private readonly negatables = [new Map<string, Negatable<string>>(), new Map<string, Negatable<string>>()];
  private readonly matches = new SequenceCache<Match>();
  private readonly singleMatchLists = new Map<Match, readonly Match[]>();
  private readonly builtinTargets = new Map<string, Target>();
  private readonly optionNames = new Map<string, string>();
  private readonly zero: Counters = { packets: 0, bytes: 0 };

  /**
   * `--name [values]` from the option argument `dashed` (`--dport`) and `tokens[start, end)`.
   * Keyed by the dashed argument so that a repeated option costs no string slicing.
   */
  option(
    dashed: string,
    negated: boolean,
    tokens: readonly string[],
    start: number,
    end: number,
  ): MatchOption {
    const neg = negated ? 1 : 0;
    if (end === start) {
      const cache = this.noValue[neg]!;
      let o = cache.get(dashed);
      if (!o) {
        o = { name: this.optionName(dashed), negated, values: EMPTY };
        cache.set(dashed, o);
      }
      return o;
    }
    if (end - start > 1) return { name: this.optionName(dashed), negated, values: tokens.slice(start, end) };
    const value = tokens[start]!;
    const byName = this.oneValue[neg]!;
    let cache = byName.get(dashed);
    if (!cache) {
      cache = new Map();
      byName.set(dashed, cache);
    }
    let o = cache.get(value);
    if (!o) {
      o = { name: this.optionName(dashed), negated, values: [value] };
      cache.set(value, o);
    }
    return o;
  }

  /** The same as `option`, as a new object: for values that rarely repeat. */
  unsharedOption(
    dashed: string,
    negated: boolean,
    tokens: readonly string[],
    start: number,
    end: number,
  ): MatchOption {
    return {
      name: this.optionName(dashed),
      negated,
      values: end === start ? EMPTY : tokens.slice(start, end),
    };
  }

  /** `to-destination` for `--to-destination`, one string per option name. */
  private optionName(dashed: string): string {
    let name = this.optionNames.get(dashed);
    if (name === undefined) {
      name = dashed.slice(2);
      this.optionNames.set(dashed, name);
    }
    return name;
  }

  negatable(value: string, negated: boolean): Negatable<string> {
    const cache = this.negatables[negated ? 1 : 0]!;
    let v = cache.get(value);
    if (!v) {
      v = { value, negated };
      cache.set(value, v);
    }
    return v;
  }

  /** `-m module` with `options[start, end)`, which must already be interned. */
  match(module: string, options: readonly MatchOption[], start: number, end: number): Match {
    return (
      this.matches.get(module, options, start, end) ??
      this.matches.set(module, options, start, end, {
        module,
        options: end === start ? EMPTY : options.slice(start, end),
      })
    );
  }

  /**
   * A target with `options[start, end)`, not shared: targets with options (DNAT to one endpoint)
   * are nearly all distinct, and caching them cost more time than it saved. Option-less jumps to
   * user chains are shared by the table (TableBuilder.chainTarget), built-in ones here.
   */
  target(
    kind: Target['kind'],
    name: string,
    options: readonly MatchOption[],
    start: number,
    end: number,
  ): Target {
    return { kind, name, options: options.slice(start, end) };
  }

  /** `-j ACCEPT`, `-j RETURN`, `-j MASQUERADE`: one shared object per built-in target name. */
  builtinTarget(name: string): Target {
    let t = this.builtinTargets.get(name);
    if (!t) {
      t = { kind: 'jump', name, options: EMPTY };
      this.builtinTargets.set(name, t);
    }
    return t;
  }

  /**
   * A rule's match list. Lists of one match are shared, keyed by the identity of the (already
   * shared) match: a kube-proxy dump has `[-m tcp]` on every DNAT rule and one statistic match
   * per endpoint position. Longer lists (a comment and a port) are nearly all distinct, and
   * caching them cost a map per list.
   */
  matchList(matches: readonly Match[], count: number): readonly Match[] {
    if (count === 0) return EMPTY;
    if (count > 1) return matches.slice(0, count);
    const match = matches[0]!;
    let list = this.singleMatchLists.get(match);
    if (!list) {
      list = [match];
      this.singleMatchLists.set(match, list);
    }
    return list;
  }

  counters(packets: number, bytes: number): Counters {
    return packets === 0 && bytes === 0 ? this.zero : { packets, bytes };
  }
}
