// Collects the chains and rules of one table while the parser reads it, then freezes them into the
// model. Chain order in the model is canonical so that parse -> print -> parse is an identity:
// declared chains in declaration order, then chains only named by rules or jumps, sorted by name
// (the order in which a dump first mentions them is lost when it is printed chain by chain).
//
// A kube-proxy table has ~25,000 chains and ~70,000 rules; the map from chain name to chain is the
// builder's one large data structure, so the parser asks it as little as possible: iptables-save
// prints the rules chain by chain in the order it declared the chains, so consecutive rules append
// to the same chain and a new run of rules usually belongs to the next declared chain; a chain's
// entry carries the one shared Target that jumps to it. Every rule and target then names a chain
// with the chain's own string, which also makes later lookups by name cheap.

import { adoptChainIndex } from './chain-index.js';
import { BUILTIN_CHAINS, isBuiltinChainName } from './known-names.js';
import type { BuiltinTable, Chain, Counters, Rule, Table, Target } from './model.js';
import { fail } from './syntax-error.js';

/** The model's Chain, mutable while its table is read (one object per chain: no copy at the end). */
type ChainBuilder = { -readonly [K in keyof Chain]: Chain[K] } & { line: number };

/** A chain and the option-less targets that lead to it (`-j NAME`, `-g NAME`), made on first use. */
interface ChainEntry {
  readonly chain: ChainBuilder;
  jump: Target | undefined;
  goto: Target | undefined;
}

export type DeclarationKind = ':' | '-N' | '-P';

/**
 * Shared by every chain without rules and every option-less target; readonly by type, not frozen
 * (see EMPTY in intern.ts).
 */
const NONE: readonly never[] = [];
/** How many declared chains a new run of rules may skip (chains without rules) before the map is asked. */
const LOOKAHEAD = 4;

export class TableBuilder {
  private readonly chains = new Map<string, ChainEntry>();
  private readonly declaredOrder: ChainEntry[] = [];
  /** Where the next run of rules most likely starts: the declared chain after the last run's. */
  private nextDeclared = 0;
  /** How chains were declared by `-N` or `-P`, for messages; the others were declared by `:`. */
  private readonly declaredBy = new Map<string, DeclarationKind>();
  private readonly deleted: string[] = [];
  /** Chains given a policy by `-P` (an `iptables -S` listing); used to name excerpts. */
  readonly policyChains: string[] = [];
  /** Set by the partial-table marker comment the serializer writes for excerpts. */
  partial = false;
  /** The entry of the last chain looked up: the next rule most likely appends to it too. */
  private recent: ChainEntry | undefined;
  /**
   * Rules appended to `runChain` since it became the chain rules go to. They are copied into the
   * chain as one exact-size array when the run ends: growing 25,000 arrays by push left each with
   * room for 17 rules (most kube-proxy chains hold 1 to 4), a tenth of the whole model.
   */
  private readonly run: Rule[] = [];
  private runLength = 0;
  private runChain: ChainBuilder | undefined;

  constructor(
    /** Undefined for an excerpt until its table is known. */
    public name: BuiltinTable | undefined,
    readonly line: number,
  ) {}

  /** The entry of chain `name`, created undeclared (first mentioned on `line`) if new. */
  private entry(name: string, line: number): ChainEntry {
    const recent = this.recent;
    if (recent !== undefined && recent.chain.name === name) return recent;
    let entry = this.chains.get(name);
    if (!entry) {
      // counters in the literal (undefined until declared) keeps one hidden class per chain.
      const chain: ChainBuilder = {
        name,
        policy: '-',
        declared: false,
        counters: undefined,
        rules: NONE,
        line,
      };
      entry = { chain, jump: undefined, goto: undefined };
      this.chains.set(name, entry);
    }
    this.recent = entry;
    return entry;
  }

  /**
   * The shared Target of `-j NAME` / `-g NAME` without options, for a user chain `name` (created
   * undeclared if new).
   */
  chainTarget(kind: Target['kind'], name: string, line: number): Target {
    const entry = this.entry(name, line);
    if (kind === 'goto') {
      entry.goto ??= { kind, name: entry.chain.name, options: NONE };
      return entry.goto;
    }
    entry.jump ??= { kind, name: entry.chain.name, options: NONE };
    return entry.jump;
  }

  /**
   * What `chainTarget` does to the table (chain `name` created undeclared if new), without the
   * Target: a LazyRule builds its target when it is decoded. Returns the chain's own string.
   */
  chainNamed(name: string, line: number): string {
    return this.entry(name, line).chain.name;
  }

  declare(
    kind: DeclarationKind,
    name: string,
    policy: string,
    counters: Counters | undefined,
    line: number,
  ): void {
    const builtin = isBuiltinChainName(name);
    if (kind === '-N' && builtin) fail(`-N ${name}: ${name} is a built-in chain`);
    if (kind === '-P' && !builtin) fail(`-P ${name}: only built-in chains have a policy`);
    if (builtin && this.name && !BUILTIN_CHAINS[this.name].includes(name)) {
      fail(`table ${this.name} has no built-in chain ${name}`);
    }
    if (policy !== '-' && policy !== 'ACCEPT' && policy !== 'DROP') {
      fail(`policy of ${name} must be ACCEPT, DROP or - (got "${policy}")`);
    }
    if (!builtin && policy !== '-') fail(`user chain ${name} cannot have policy ${policy} (use -)`);
    const entry = this.entry(name, line);
    const chain = entry.chain;
    if (chain.declared) {
      const by = this.declaredBy.get(name) ?? ':';
      const first = by === ':' ? `:${name}` : `${by} ${name}`;
      fail(`chain ${name} declared twice (first by ${first} on line ${chain.line})`);
    }
    chain.declared = true;
    chain.policy = policy;
    if (counters) chain.counters = counters;
    chain.line = line;
    if (kind !== ':') this.declaredBy.set(name, kind);
    this.declaredOrder.push(entry);
    if (kind === '-P') this.policyChains.push(name);
  }

  /**
   * `-A NAME`: the table's string for chain `name` (created undeclared if new), which the next
   * rules are appended to.
   */
  ruleChain(name: string, line: number): string {
    let chain = this.runChain;
    if (chain === undefined || chain.name !== name) {
      this.endRun();
      chain = (this.nextInDeclarationOrder(name) ?? this.entry(name, line)).chain;
      this.runChain = chain;
    }
    return chain.name;
  }

  /**
   * `ruleChain` for the name at `text[start, end)`: no string is made while the rules of one
   * chain follow each other (plain rule lines are read as offsets into the text).
   */
  ruleChainAt(text: string, start: number, end: number, line: number): string {
    const chain = this.runChain;
    if (chain !== undefined && chain.name.length === end - start && text.startsWith(chain.name, start)) {
      return chain.name;
    }
    return this.ruleChain(text.slice(start, end), line);
  }

  /** Appends `rule` to its chain (`rule.chain`, created undeclared if new). */
  addRule(rule: Rule, line: number): void {
    this.ruleChain(rule.chain, line);
    this.run[this.runLength++] = rule;
  }

  /**
   * The fast path for iptables-save's layout: the chain of a new run of rules is the next declared
   * chain, or one a few places after it (chains without rules print no rules).
   */
  private nextInDeclarationOrder(name: string): ChainEntry | undefined {
    const order = this.declaredOrder;
    const end = Math.min(order.length, this.nextDeclared + LOOKAHEAD);
    for (let i = this.nextDeclared; i < end; i++) {
      const entry = order[i]!;
      if (entry.chain.name === name) {
        this.nextDeclared = i + 1;
        return entry;
      }
    }
    return undefined;
  }

  private endRun(): void {
    const chain = this.runChain;
    if (chain === undefined || this.runLength === 0) return;
    const run = this.run.slice(0, this.runLength);
    // A chain's rules come in several runs only in excerpts that interleave chains.
    chain.rules = chain.rules.length === 0 ? run : chain.rules.concat(run);
    this.runLength = 0;
    this.runChain = undefined;
  }

  deleteChain(name: string): void {
    this.deleted.push(name);
  }

  /** Checks that can only run once an excerpt's table is known. */
  checkBuiltins(table: BuiltinTable): void {
    for (const { chain: c } of this.declaredOrder) {
      if (isBuiltinChainName(c.name) && !BUILTIN_CHAINS[table].includes(c.name)) {
        fail(`table ${table} has no built-in chain ${c.name}`, c.line);
      }
    }
  }

  /** True when `-P` lines cover every built-in chain of the table: a whole `iptables -S` listing. */
  listsAllPolicies(table: BuiltinTable): boolean {
    return BUILTIN_CHAINS[table].every((c) => this.policyChains.includes(c));
  }

  /** Every chain with its rules so far, in order of first mention. */
  chainsForInference(): readonly Chain[] {
    this.endRun();
    return Array.from(this.chains.values(), (e) => e.chain);
  }

  finish(name: string, complete: boolean): Table {
    this.endRun();
    const index = new Map<string, Chain>();
    const undeclared: ChainBuilder[] = [];
    // forEach, not for-of: no entry array per chain.
    this.chains.forEach(({ chain }, chainName) => {
      index.set(chainName, chain);
      if (!chain.declared) undeclared.push(chain);
    });
    undeclared.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const chains: readonly Chain[] = this.declaredOrder.map((e) => e.chain).concat(undeclared);
    const table: { -readonly [K in keyof Table]: Table[K] } = {
      name,
      chains,
      complete: complete && !this.partial,
    };
    if (this.deleted.length > 0) table.deletedChains = this.deleted;
    table.line = this.line;
    adoptChainIndex(table, index);
    return table;
  }
}
