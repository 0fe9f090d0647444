// Collects the chains and rules of one table while the parser reads it, then freezes them into the
// model. Chain order in the model is canonical so that parse -> print -> parse is an identity:
// declared chains in declaration order, then chains only named by rules or jumps, sorted by name
// (the order in which a dump first mentions them is lost when it is printed chain by chain).
//
// A kube-proxy table has ~25,000 chains and ~70,000 rules. Chains are ids (chain-ids.ts), found by
// the name's offsets in the dump, so a chain named on a plain line costs no string; and the parser
// asks even that as little as possible: iptables-save prints the rules chain by chain in the order
// it declared the chains, so consecutive rules append to the same chain and a new run of rules
// usually belongs to the next declared chain. Every rule and target names a chain with the
// chain's own string, and a lazily read rule also by its id; the finished table is indexed by
// those ids (ParsedChainIndex), by name and by id.

import { ChainIds } from './chain-ids.js';
import { adoptParsedIndex, ParsedChainIndex } from './chain-index.js';
import { BUILTIN_CHAINS, isBuiltinChainName } from './known-names.js';
import type { BuiltinTable, Chain, Counters, Rule, Table, Target } from './model.js';
import { fail } from './syntax-error.js';

/** The model's Chain, mutable while its table is read (one object per chain: no copy at the end). */
type ChainBuilder = { -readonly [K in keyof Chain]: Chain[K] } & { line: number };

export type DeclarationKind = ':' | '-N' | '-P';

/**
 * Shared by every chain without rules and every option-less target; readonly by type, not frozen
 * (see EMPTY in intern.ts).
 */
const NONE: readonly never[] = [];
/** How many declared chains a new run of rules may skip (chains without rules) before the map is asked. */
const LOOKAHEAD = 4;

export class TableBuilder {
  /** Chain names to ids; `chains[id]` and the targets to it below are by id, in order of first mention. */
  private readonly ids = new ChainIds();
  private readonly chains: ChainBuilder[] = [];
  /** `chains[id].name`, apart: reading a name then touches one array, not the chain too. */
  private readonly names: string[] = [];
  /**
   * The option-less `-j NAME` / `-g NAME` by chain id, made on first use: only lines read the full
   * way ask for them (a LazyRule makes its target when decoded).
   */
  private readonly jumps = new Map<number, Target>();
  private readonly gotos = new Map<number, Target>();
  private readonly declaredOrder: ChainBuilder[] = [];
  /** The id of each chain of declaredOrder. */
  private readonly declaredIds: number[] = [];
  /** Where the next run of rules most likely starts: the declared chain after the last run's. */
  private nextDeclared = 0;
  /** How chains were declared by `-N` or `-P`, for messages; the others were declared by `:`. */
  private readonly declaredBy = new Map<string, DeclarationKind>();
  private readonly deleted: string[] = [];
  /** Chains given a policy by `-P` (an `iptables -S` listing); used to name excerpts. */
  readonly policyChains: string[] = [];
  /** Set by the partial-table marker comment the serializer writes for excerpts. */
  partial = false;
  /**
   * Rules appended to `runChain` since it became the chain rules go to. They are copied into the
   * chain as one exact-size array when the run ends: growing 25,000 arrays by push left each with
   * room for 17 rules (most kube-proxy chains hold 1 to 4), a tenth of the whole model.
   */
  private readonly run: Rule[] = [];
  private runLength = 0;
  private runChain: ChainBuilder | undefined;
  private runId = -1;
  /**
   * Where the last line of the run named its chain (`runText[runStart, runEnd)`): the next line's
   * `-A NAME` is compared with it, text that was just read, not with the chain's name string, a
   * slice of the dump where the chain was first mentioned.
   */
  private runText = '';
  private runStart = 0;
  private runEnd = 0;

  constructor(
    /** Undefined for an excerpt until its table is known. */
    public name: BuiltinTable | undefined,
    readonly line: number,
  ) {}

  /**
   * The id of the chain named `s[start, end)` (a slice of the dump, or a whole name), created
   * undeclared (first mentioned on `line`) if new; its string is made then, once.
   */
  private idAt(s: string, start: number, end: number, line: number): number {
    const id = this.ids.intern(s, start, end);
    if (id === this.chains.length) {
      const name = start === 0 && end === s.length ? s : s.slice(start, end);
      this.names.push(name);
      // counters in the literal (undefined until declared) keeps one hidden class per chain.
      this.chains.push({
        name,
        policy: '-',
        declared: false,
        counters: undefined,
        rules: NONE,
        line,
      });
    }
    return id;
  }

  private id(name: string, line: number): number {
    return this.idAt(name, 0, name.length, line);
  }

  /**
   * The shared Target of `-j NAME` / `-g NAME` without options, for a user chain `name` (created
   * undeclared if new).
   */
  chainTarget(kind: Target['kind'], name: string, line: number): Target {
    const id = this.id(name, line);
    const targets = kind === 'goto' ? this.gotos : this.jumps;
    let target = targets.get(id);
    if (target === undefined) {
      target = { kind, name: this.names[id]!, options: NONE };
      targets.set(id, target);
    }
    return target;
  }

  /**
   * What `chainTarget` does to the table for the name at `text[start, end)` (the chain created
   * undeclared if new), without the Target: a LazyRule builds its target when it is decoded.
   * Returns the chain's id (chainIdIndex); `chainName(id)` is its own string.
   */
  chainIdAt(text: string, start: number, end: number, line: number): number {
    return this.idAt(text, start, end, line);
  }

  chainName(id: number): string {
    return this.names[id]!;
  }

  /** Every chain name by id; the array grows as the table is read. */
  chainNames(): readonly string[] {
    return this.names;
  }

  declare(
    kind: DeclarationKind,
    name: string,
    policy: string,
    counters: Counters | undefined,
    line: number,
  ): void {
    this.declareAt(kind, name, 0, name.length, policy, counters, line);
  }

  /** `declare` for the name at `s[start, end)`. */
  declareAt(
    kind: DeclarationKind,
    s: string,
    start: number,
    end: number,
    policy: string,
    counters: Counters | undefined,
    line: number,
  ): void {
    const builtin = isBuiltinChainNameAt(s, start, end);
    if (builtin || kind !== ':') this.checkDeclaration(kind, s.slice(start, end), policy, builtin);
    else if (policy !== '-') {
      const name = s.slice(start, end);
      if (policy !== 'ACCEPT' && policy !== 'DROP') {
        fail(`policy of ${name} must be ACCEPT, DROP or - (got "${policy}")`);
      }
      fail(`user chain ${name} cannot have policy ${policy} (use -)`);
    }
    const id = this.idAt(s, start, end, line);
    const chain = this.chains[id]!;
    const name = chain.name;
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
    this.declaredOrder.push(chain);
    this.declaredIds.push(id);
    if (kind === '-P') this.policyChains.push(name);
  }

  private checkDeclaration(kind: DeclarationKind, name: string, policy: string, builtin: boolean): void {
    if (kind === '-N' && builtin) fail(`-N ${name}: ${name} is a built-in chain`);
    if (kind === '-P' && !builtin) fail(`-P ${name}: only built-in chains have a policy`);
    if (builtin && this.name && !BUILTIN_CHAINS[this.name].includes(name)) {
      fail(`table ${this.name} has no built-in chain ${name}`);
    }
    if (policy !== '-' && policy !== 'ACCEPT' && policy !== 'DROP') {
      fail(`policy of ${name} must be ACCEPT, DROP or - (got "${policy}")`);
    }
    if (!builtin && policy !== '-') fail(`user chain ${name} cannot have policy ${policy} (use -)`);
  }

  /**
   * `-A NAME`: the table's string for chain `name` (created undeclared if new), which the next
   * rules are appended to.
   */
  ruleChain(name: string, line: number): string {
    return this.names[this.ruleChainAt(name, 0, name.length, line)]!;
  }

  /**
   * `ruleChain` for the name at `s[start, end)`, as the chain's id: no string is made (plain rule
   * lines are read as offsets into the text).
   */
  ruleChainAt(s: string, start: number, end: number, line: number): number {
    if (this.runChain !== undefined && this.sameAsRun(s, start, end)) {
      this.runStart = start;
      this.runEnd = end;
      return this.runId;
    }
    this.endRun();
    let id = this.nextInDeclarationOrder(s, start, end);
    if (id < 0) id = this.idAt(s, start, end, line);
    this.runChain = this.chains[id]!;
    this.runId = id;
    this.runText = s;
    this.runStart = start;
    this.runEnd = end;
    return id;
  }

  /** Whether `s[start, end)` is the name the run's last line gave (compared from the end: names differ in their hash). */
  private sameAsRun(s: string, start: number, end: number): boolean {
    const from = this.runStart;
    const len = end - start;
    if (this.runEnd - from !== len) return false;
    const r = this.runText;
    for (let i = len - 1; i >= 0; i--) if (s.charCodeAt(start + i) !== r.charCodeAt(from + i)) return false;
    return true;
  }

  /** Appends `rule` to its chain (`rule.chain`, created undeclared if new). */
  addRule(rule: Rule, line: number): void {
    if (this.runChain?.name !== rule.chain) this.ruleChain(rule.chain, line);
    this.run[this.runLength++] = rule;
  }

  /** Appends `rule` to the chain the last ruleChainAt named (its own chain). */
  addToRun(rule: Rule): void {
    this.run[this.runLength++] = rule;
  }

  /**
   * The fast path for iptables-save's layout: the chain of a new run of rules is the next declared
   * chain, or one a few places after it (chains without rules print no rules).
   */
  private nextInDeclarationOrder(s: string, start: number, end: number): number {
    const order = this.declaredOrder;
    const last = Math.min(order.length, this.nextDeclared + LOOKAHEAD);
    const len = end - start;
    for (let i = this.nextDeclared; i < last; i++) {
      const chain = order[i]!;
      if (chain.name.length === len && s.startsWith(chain.name, start)) {
        this.nextDeclared = i + 1;
        return this.declaredIds[i]!;
      }
    }
    return -1;
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
    for (const c of this.declaredOrder) {
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
    return this.chains;
  }

  finish(name: string, complete: boolean): Table {
    this.endRun();
    const undeclared: ChainBuilder[] = [];
    const all = this.chains;
    for (let i = 0; i < all.length; i++) {
      const chain = all[i]!;
      if (!chain.declared) undeclared.push(chain);
    }
    undeclared.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const chains: readonly Chain[] =
      undeclared.length === 0 ? this.declaredOrder : this.declaredOrder.concat(undeclared);
    const table: { -readonly [K in keyof Table]: Table[K] } = {
      name,
      chains,
      complete: complete && !this.partial,
    };
    if (this.deleted.length > 0) table.deletedChains = this.deleted;
    table.line = this.line;
    this.ids.seal(this.names);
    adoptParsedIndex(table, new ParsedChainIndex(this.ids, all));
    return table;
  }
}

/** isBuiltinChainName for `s[start, end)`: built-in chains are upper-case words without a dash. */
function isBuiltinChainNameAt(s: string, start: number, end: number): boolean {
  if (end - start > 11) return false;
  for (let i = start; i < end; i++) if (s.charCodeAt(i) === 45) return false;
  return isBuiltinChainName(start === 0 && end === s.length ? s : s.slice(start, end));
}
