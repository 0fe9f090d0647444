// Collects the chains and rules of one table while the parser reads it, then freezes them into the
// model. Chain order in the model is canonical so that parse -> print -> parse is an identity:
// declared chains in declaration order, then chains only named by rules or jumps, sorted by name
// (the order in which a dump first mentions them is lost when it is printed chain by chain).

import { BUILTIN_CHAINS, isBuiltinChainName } from './known-names.js';
import type { BuiltinTable, Chain, Counters, Rule, Table } from './model.js';
import { fail } from './syntax-error.js';

/** The model's Chain, mutable while its table is read (one object per chain: no copy at the end). */
type ChainBuilder = { -readonly [K in keyof Chain]: Chain[K] } & { readonly rules: Rule[]; line: number };

export type DeclarationKind = ':' | '-N' | '-P';

export class TableBuilder {
  private readonly chains = new Map<string, ChainBuilder>();
  private readonly declaredOrder: ChainBuilder[] = [];
  /** How each chain was declared, for messages. */
  private readonly declaredBy = new Map<string, DeclarationKind>();
  private readonly deleted: string[] = [];
  /** Chains given a policy by `-P` (an `iptables -S` listing); used to name excerpts. */
  readonly policyChains: string[] = [];
  /** Set by the partial-table marker comment the serializer writes for excerpts. */
  partial = false;

  constructor(
    /** Undefined for an excerpt until its table is known. */
    public name: BuiltinTable | undefined,
    readonly line: number,
  ) {}

  /** A chain named by `-A` or by a jump: created undeclared if new. */
  mention(name: string, line: number): ChainBuilder {
    let chain = this.chains.get(name);
    if (!chain) {
      // counters in the literal (undefined until declared) keeps one hidden class per chain.
      chain = { name, policy: '-', declared: false, counters: undefined, rules: [], line };
      this.chains.set(name, chain);
    }
    return chain;
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
    const chain = this.mention(name, line);
    if (chain.declared) {
      const first = this.declaredBy.get(name) === ':' ? `:${name}` : `${this.declaredBy.get(name)} ${name}`;
      fail(`chain ${name} declared twice (first by ${first} on line ${chain.line})`);
    }
    chain.declared = true;
    chain.policy = policy;
    if (counters) chain.counters = counters;
    chain.line = line;
    this.declaredBy.set(name, kind);
    this.declaredOrder.push(chain);
    if (kind === '-P') this.policyChains.push(name);
  }

  addRule(rule: Rule, line: number): void {
    let chain = this.chains.get(rule.chain);
    if (!chain) chain = this.mention(rule.chain, line);
    chain.rules.push(rule);
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

  chainsForInference(): readonly Chain[] {
    return [...this.chains.values()];
  }

  finish(name: string, complete: boolean): Table {
    const undeclared = [...this.chains.values()].filter((c) => !c.declared);
    undeclared.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const chains: readonly Chain[] = [...this.declaredOrder, ...undeclared];
    const table: { -readonly [K in keyof Table]: Table[K] } = {
      name,
      chains,
      complete: complete && !this.partial,
    };
    if (this.deleted.length > 0) table.deletedChains = this.deleted;
    table.line = this.line;
    return table;
  }
}
