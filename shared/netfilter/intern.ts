// Hash-consing of the model's small immutable parts during one parse. A kube-proxy dump repeats the
// same options, matches and match lists thousands of times (`-m tcp`, `--mode random`, a service's
// comment on each of its rules, `-j KUBE-MARK-MASQ`); sharing one readonly object for each distinct
// value cuts the parse result to a fraction of its size and most of the garbage-collection time.
// Sharing is safe because the model is readonly; equal values stay `toEqual`, as before.

import type { Counters, Match, MatchOption, Negatable, Target } from './model.js';

const EMPTY: readonly never[] = Object.freeze([]);

/** A trie over object identities: the same sequence of parts maps to the same node. */
interface Node<T> {
  value: T | undefined;
  next: Map<unknown, Node<T>> | undefined;
}

function node<T>(): Node<T> {
  return { value: undefined, next: undefined };
}

function walk<T>(root: Node<T>, parts: readonly unknown[], start: number, end: number): Node<T> {
  let n = root;
  for (let i = start; i < end; i++) {
    const key = parts[i];
    let next = n.next?.get(key);
    if (!next) {
      next = node<T>();
      n.next ??= new Map();
      n.next.set(key, next);
    }
    n = next;
  }
  return n;
}

export class Interner {
  private readonly noValue = [new Map<string, MatchOption>(), new Map<string, MatchOption>()];
  private readonly oneValue = [
    new Map<string, Map<string, MatchOption>>(),
    new Map<string, Map<string, MatchOption>>(),
  ];
  private readonly negatables = [new Map<string, Negatable<string>>(), new Map<string, Negatable<string>>()];
  private readonly matches = new Map<string, Node<Match>>();
  private readonly targets = new Map<string, Node<Target>>();
  private readonly matchLists = node<readonly Match[]>();
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
        o = { name: dashed.slice(2), negated, values: EMPTY };
        cache.set(dashed, o);
      }
      return o;
    }
    if (end - start > 1) return { name: dashed.slice(2), negated, values: tokens.slice(start, end) };
    const value = tokens[start]!;
    const byName = this.oneValue[neg]!;
    let cache = byName.get(dashed);
    if (!cache) {
      cache = new Map();
      byName.set(dashed, cache);
    }
    let o = cache.get(value);
    if (!o) {
      o = { name: dashed.slice(2), negated, values: [value] };
      cache.set(value, o);
    }
    return o;
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
    let root = this.matches.get(module);
    if (!root) {
      root = node();
      this.matches.set(module, root);
    }
    const n = walk(root, options, start, end);
    n.value ??= { module, options: end === start ? EMPTY : options.slice(start, end) };
    return n.value;
  }

  target(
    kind: Target['kind'],
    name: string,
    options: readonly MatchOption[],
    start: number,
    end: number,
  ): Target {
    const key = kind === 'goto' ? `-g ${name}` : name;
    let root = this.targets.get(key);
    if (!root) {
      root = node();
      this.targets.set(key, root);
    }
    const n = walk(root, options, start, end);
    n.value ??= { kind, name, options: end === start ? EMPTY : options.slice(start, end) };
    return n.value;
  }

  matchList(matches: readonly Match[], count: number): readonly Match[] {
    if (count === 0) return EMPTY;
    const n = walk(this.matchLists, matches, 0, count);
    n.value ??= matches.slice(0, count);
    return n.value;
  }

  counters(packets: number, bytes: number): Counters {
    return packets === 0 && bytes === 0 ? this.zero : { packets, bytes };
  }
}
