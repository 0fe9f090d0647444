// nft's text forms into the model: `nft list ruleset` / `nft list table ...` (blocks, as a user
// pastes them, with or without `-a` handles and counters), and the `nft -f` input kube-proxy's
// tests compare (`add table`, `add chain`, `add rule`, `add element` ...; also flush, delete and
// insert as nft applies them). Both can be mixed in one file, as `nft -f` allows.
import { NFT_LIMITS, NftSyntaxError, nftFail } from './errors';
import type {
  NftBaseChain,
  NftChain,
  NftElement,
  NftFamily,
  NftRule,
  NftRuleset,
  NftSet,
  NftTable,
} from './model';
import { isNftFamily, parsePriority } from './model';
import { parseElements, parseRuleTokens, type Where } from './statements';
import { lineText, type Token, tokenize } from './tokens';

// It lived here before both readers needed it; kept for importers of this file.
export { parsePriority } from './model';

interface MChain {
  name: string;
  base?: NftBaseChain;
  comment?: string;
  handle?: number;
  rules: NftRule[];
  line: number;
}

interface MSet {
  name: string;
  kind: 'set' | 'map';
  type: string[];
  dataType?: string;
  flags: string[];
  comment?: string;
  handle?: number;
  /** By key (`tcp . 3001`): a later add of the same key replaces the value, as knftables' Fake does. */
  elements: Map<string, NftElement>;
  line: number;
}

interface MTable {
  family: NftFamily;
  name: string;
  comment?: string;
  handle?: number;
  chains: Map<string, MChain>;
  sets: Map<string, MSet>;
  line: number;
}

const COMMANDS = new Set(['add', 'create', 'insert', 'replace', 'flush', 'delete', 'destroy']);
const IGNORED_OBJECTS = new Set(['counter', 'quota', 'limit', 'flowtable', 'ct', 'secmark', 'synproxy']);

/** A statement's tokens, to its end (newline or `;` outside braces, or the block's `}`). */
interface Stmt {
  readonly toks: Token[];
  readonly handle?: number;
}

class TextReader {
  private i = 0;
  private readonly toks: readonly Token[];
  private readonly lineStarts: readonly number[];
  private readonly tables = new Map<string, MTable>();
  private objects = 0;
  private work = 0;
  private commandForm = false;
  readonly headerComments: readonly string[];

  constructor(private readonly src: string) {
    const t = tokenize(src);
    this.toks = t.tokens;
    this.lineStarts = t.lineStarts;
    this.headerComments = t.headerComments;
  }

  private where(line: number): Where {
    const { src, lineStarts } = this;
    return {
      line,
      get text() {
        return lineText(src, lineStarts, line);
      },
    };
  }

  private fail(message: string, tok: Token | undefined): never {
    const line = tok?.line ?? this.lineStarts.length;
    nftFail(message, line, lineText(this.src, this.lineStarts, line));
  }

  private count(tok: Token): void {
    if (++this.objects > NFT_LIMITS.maxObjects) this.fail('too many objects for one ruleset', tok);
  }

  /** Inserts and deletes move whole chains: a budget keeps a hostile file from taking forever. */
  private spend(n: number, tok: Token): void {
    this.work += n;
    if (this.work > NFT_LIMITS.maxWork)
      this.fail('too many inserts, replaces or deletes of rules for one ruleset', tok);
  }

  private peek(): Token | undefined {
    return this.toks[this.i];
  }

  private skipBlank(): void {
    while (this.i < this.toks.length) {
      const t = this.toks[this.i]!.t;
      if (t !== '\n' && t !== ';' && t !== '#handle') return;
      this.i++;
    }
  }

  /** The next word, or a failure naming what was expected. */
  private word(what: string): Token {
    const t = this.toks[this.i];
    if (!t || t.t === '\n' || t.t === ';' || t.t === '{' || t.t === '}' || t.t === ',')
      this.fail(`expected ${what}`, t ?? this.toks[this.i - 1]);
    this.i++;
    return t;
  }

  /** Tokens to the end of the statement; braces inside are kept whole (and may span lines). */
  private statement(): Stmt {
    const out: Token[] = [];
    let handle: number | undefined;
    let depth = 0;
    while (this.i < this.toks.length) {
      const t = this.toks[this.i]!;
      if (t.t === '#handle') {
        handle = t.handle;
        this.i++;
        continue;
      }
      if (depth === 0 && (t.t === '\n' || t.t === ';' || t.t === '}')) break;
      if (t.t === '{') {
        if (++depth > NFT_LIMITS.maxDepth) this.fail('braces nested too deep', t);
      } else if (t.t === '}') depth--;
      this.i++;
      if (t.t === '\n' && depth > 0) continue;
      out.push(t);
    }
    if (depth > 0) this.fail('`{` is not closed', out[0]);
    return handle === undefined ? { toks: out } : { toks: out, handle };
  }

  private table(family: NftFamily, name: string, tok: Token): MTable {
    const key = `${family} ${name}`;
    let t = this.tables.get(key);
    if (!t) {
      this.count(tok);
      t = { family, name, chains: new Map(), sets: new Map(), line: tok.line };
      this.tables.set(key, t);
    }
    return t;
  }

  private existingTable(family: NftFamily, name: string, tok: Token): MTable {
    const t = this.tables.get(`${family} ${name}`);
    if (!t) this.fail(`table ${family} ${name} is not declared before it is used`, tok);
    return t;
  }

  private chain(table: MTable, name: string, tok: Token): MChain {
    let c = table.chains.get(name);
    if (!c) {
      this.count(tok);
      c = { name, rules: [], line: tok.line };
      table.chains.set(name, c);
    }
    return c;
  }

  private set(table: MTable, name: string, kind: 'set' | 'map', tok: Token): MSet {
    let s = table.sets.get(name);
    if (!s) {
      this.count(tok);
      s = { name, kind, type: [], flags: [], elements: new Map(), line: tok.line };
      table.sets.set(name, s);
    }
    return s;
  }

  /** `[family] name`: the family is optional (nft's default is ip). */
  private familyAndName(what: string): [NftFamily, Token] {
    const first = this.word(what);
    const second = this.toks[this.i];
    if (isNftFamily(first.t) && second && !['{', '\n', ';', '}'].includes(second.t)) {
      this.i++;
      return [first.t, second];
    }
    return ['ip', first];
  }

  private expectOpen(): boolean {
    if (this.peek()?.t !== '{') return false;
    this.i++;
    return true;
  }

  private closeBlock(open: Token): void {
    this.skipBlank();
    const t = this.peek();
    if (t?.t !== '}') this.fail('`{` is not closed', t ?? open);
    this.i++;
  }

  read(): NftRuleset {
    for (;;) {
      this.skipBlank();
      const t = this.peek();
      if (!t) break;
      if (t.t === 'table') {
        this.i++;
        const [family, name] = this.familyAndName('a table name after `table`');
        const table = this.table(family, name.t, name);
        const open = this.peek();
        if (!this.expectOpen()) this.fail('expected `{` after the table name', open);
        this.tableBody(table);
        this.closeBlock(open!);
      } else if ((t.t === 'chain' || t.t === 'set' || t.t === 'map') && !t.quoted) {
        // `nft list chain ...` pasted without its table: kept in a table without a name.
        this.i++;
        const name = this.word(`a ${t.t} name`);
        const table = this.table('ip', '', t);
        const open = this.peek();
        if (!this.expectOpen()) this.fail(`expected \`{\` after the ${t.t} name`, open);
        if (t.t === 'chain') this.chainBody(this.chain(table, name.t, name));
        else this.setBody(this.set(table, name.t, t.t, name));
        this.closeBlock(open!);
      } else if (COMMANDS.has(t.t) && !t.quoted) {
        this.i++;
        this.commandForm = true;
        this.command(t);
      } else {
        this.fail(
          `expected \`table\`, \`chain\` or an nft command (add, insert, flush, delete), found ${JSON.stringify(t.t)}`,
          t,
        );
      }
    }
    return this.result();
  }

  private result(): NftRuleset {
    const tables: NftTable[] = [];
    for (const t of this.tables.values()) {
      const chains: NftChain[] = [...t.chains.values()].map((c) => ({
        name: c.name,
        rules: c.rules,
        line: c.line,
        ...(c.base ? { base: c.base } : {}),
        ...(c.comment === undefined ? {} : { comment: c.comment }),
        ...(c.handle === undefined ? {} : { handle: c.handle }),
      }));
      const sets: NftSet[] = [...t.sets.values()].map((s) => ({
        name: s.name,
        kind: s.kind,
        type: s.type,
        flags: s.flags,
        elements: [...s.elements.values()],
        line: s.line,
        ...(s.dataType === undefined ? {} : { dataType: s.dataType }),
        ...(s.comment === undefined ? {} : { comment: s.comment }),
        ...(s.handle === undefined ? {} : { handle: s.handle }),
      }));
      tables.push({
        family: t.family,
        name: t.name,
        chains,
        sets,
        line: t.line,
        ...(t.comment === undefined ? {} : { comment: t.comment }),
        ...(t.handle === undefined ? {} : { handle: t.handle }),
      });
    }
    return { format: this.commandForm ? 'nft-f' : 'nft-list', tables, comments: this.headerComments };
  }

  private handleAfterOpen(): number | undefined {
    const t = this.peek();
    if (t?.t === '#handle') {
      this.i++;
      return t.handle;
    }
    return undefined;
  }

  private tableBody(table: MTable): void {
    const h = this.handleAfterOpen();
    if (h !== undefined) table.handle = h;
    for (;;) {
      this.skipBlank();
      const t = this.peek();
      if (!t || t.t === '}') return;
      if ((t.t === 'chain' || t.t === 'set' || t.t === 'map') && !t.quoted) {
        this.i++;
        const name = this.word(`a ${t.t} name`);
        const open = this.peek();
        if (!this.expectOpen()) this.fail(`expected \`{\` after the ${t.t} name`, open);
        if (t.t === 'chain') this.chainBody(this.chain(table, name.t, name));
        else this.setBody(this.set(table, name.t, t.t, name));
        this.closeBlock(open!);
        continue;
      }
      const s = this.statement();
      if (s.toks[0]?.t === 'comment' && s.toks[1]?.quoted) table.comment = s.toks[1].t;
      // flags, flowtables, named counters/quotas and the like: not part of the walk.
    }
  }

  private chainBody(chain: MChain): void {
    const h = this.handleAfterOpen();
    if (h !== undefined) chain.handle = h;
    for (;;) {
      this.skipBlank();
      const t = this.peek();
      if (!t || t.t === '}') return;
      const s = this.statement();
      this.chainStatement(chain, s);
    }
  }

  private chainStatement(chain: MChain, s: Stmt): void {
    const toks = s.toks;
    const first = toks[0];
    if (!first) return;
    if (first.t === 'type' && !first.quoted) {
      chain.base = this.baseChain(toks, chain.base?.policy);
      return;
    }
    if (first.t === 'policy' && toks.length === 2) {
      const policy = toks[1]!.t;
      chain.base = chain.base
        ? { ...chain.base, policy }
        : { type: '', hook: '', priority: 0, priorityText: '', policy };
      return;
    }
    if (first.t === 'comment' && toks.length === 2 && toks[1]!.quoted) {
      chain.comment = toks[1]!.t;
      return;
    }
    if (first.t === 'devices' || first.t === 'device' || first.t === 'flags') return;
    this.addRule(chain, s, 'append');
  }

  private baseChain(toks: readonly Token[], policy: string | undefined): NftBaseChain {
    // type T hook H [device D] priority P
    const type = toks[1]?.t ?? '';
    let hook = '';
    let priorityText = '';
    for (let k = 2; k < toks.length; k++) {
      const w = toks[k]!.t;
      if (w === 'hook') hook = toks[++k]?.t ?? '';
      else if (w === 'device') k++;
      else if (w === 'priority') {
        priorityText = toks
          .slice(k + 1)
          .map((x) => x.t)
          .join(' ');
        break;
      }
    }
    if (!type || !hook || !priorityText) this.fail('a base chain needs `type T hook H priority P`', toks[0]);
    const priority = parsePriority(priorityText);
    if (priority === undefined)
      this.fail(`priority ${JSON.stringify(priorityText)} is not a number or a standard name`, toks[0]);
    return { type, hook, priority, priorityText, ...(policy === undefined ? {} : { policy }) };
  }

  private addRule(chain: MChain, s: Stmt, where: 'append' | 'prepend'): void {
    const toks = s.toks;
    if (toks.length === 0) return;
    const first = toks[0]!;
    this.count(first);
    const parsed = parseRuleTokens(toks, this.src, this.where(first.line));
    const last = toks[toks.length - 1]!;
    let text = this.src.slice(first.start, last.end);
    if (last.line !== first.line) text = text.replace(/\s*\n\s*/g, ' ');
    const rule: NftRule = {
      text,
      statements: parsed.statements,
      line: first.line,
      ...(s.handle === undefined ? {} : { handle: s.handle }),
      ...(parsed.counters ? { counters: parsed.counters } : {}),
      ...(parsed.comment === undefined ? {} : { comment: parsed.comment }),
    };
    if (where === 'append') chain.rules.push(rule);
    else chain.rules.unshift(rule);
  }

  private setBody(set: MSet): void {
    const h = this.handleAfterOpen();
    if (h !== undefined) set.handle = h;
    for (;;) {
      this.skipBlank();
      const t = this.peek();
      if (!t || t.t === '}') return;
      this.setStatement(set, this.statement());
    }
  }

  private setStatement(set: MSet, s: Stmt): void {
    const toks = s.toks;
    const first = toks[0];
    if (!first || first.quoted) return;
    switch (first.t) {
      case 'type':
      case 'typeof': {
        const words = toks.slice(1).map((x) => x.t);
        const colon = words.indexOf(':');
        const key = colon < 0 ? words : words.slice(0, colon);
        set.type = first.t === 'type' ? key.filter((w) => w !== '.') : [key.join(' ')];
        if (colon >= 0) {
          set.dataType = words.slice(colon + 1).join(' ');
          set.kind = 'map';
        }
        return;
      }
      case 'flags':
        set.flags = toks
          .slice(1)
          .map((x) => x.t)
          .filter((w) => w !== ',');
        return;
      case 'comment':
        if (toks[1]?.quoted) set.comment = toks[1].t;
        return;
      case 'elements': {
        const open = toks.findIndex((x) => x.t === '{');
        if (open < 0) this.fail('`elements =` without `{ ... }`', first);
        this.addElements(set, toks, open);
        return;
      }
      default:
        // timeout, size, policy, gc-interval, auto-merge, counter: not part of the walk.
        return;
    }
  }

  private addElements(set: MSet, toks: readonly Token[], open: number): void {
    const [elements] = parseElements(toks, open, this.where(toks[open]!.line));
    this.objects += elements.length;
    if (this.objects > NFT_LIMITS.maxObjects) this.fail('too many objects for one ruleset', toks[open]);
    for (const e of elements) set.elements.set(e.key.join(' . '), e);
  }

  /** `add|create|insert|replace|flush|delete|destroy OBJECT ...` (the `nft -f` form). */
  private command(verb: Token): void {
    const what = this.word(`what to ${verb.t} (table, chain, rule, set, map, element)`);
    const v = verb.t;
    switch (what.t) {
      case 'table': {
        const [family, name] = this.familyAndName('a table name');
        if (v === 'delete' || v === 'destroy') {
          this.tables.delete(`${family} ${name.t}`);
          this.statement();
          return;
        }
        const table =
          v === 'flush' ? this.existingTable(family, name.t, name) : this.table(family, name.t, name);
        if (v === 'flush') {
          for (const c of table.chains.values()) c.rules = [];
          for (const s of table.sets.values()) s.elements.clear();
        }
        const open = this.peek();
        if (this.expectOpen()) {
          this.tableBody(table);
          this.closeBlock(open!);
        }
        this.statement();
        return;
      }
      case 'chain': {
        const [family, tname] = this.familyAndName('a table name');
        const name = this.word('a chain name');
        if (v === 'delete' || v === 'destroy') {
          this.tables.get(`${family} ${tname.t}`)?.chains.delete(name.t);
          this.statement();
          return;
        }
        const table = this.existingTable(family, tname.t, tname);
        if (v === 'flush') {
          const c = table.chains.get(name.t);
          if (!c) this.fail(`chain ${name.t} is not declared before it is flushed`, name);
          c.rules = [];
          this.statement();
          return;
        }
        const chain = this.chain(table, name.t, name);
        const open = this.peek();
        if (this.expectOpen()) {
          this.chainBody(chain);
          this.closeBlock(open!);
        }
        this.statement();
        return;
      }
      case 'rule': {
        const [family, tname] = this.familyAndName('a table name');
        const cname = this.word('a chain name');
        const table = this.existingTable(family, tname.t, tname);
        const chain = table.chains.get(cname.t);
        if (!chain) this.fail(`chain ${cname.t} is not declared before its rules (add chain first)`, cname);
        let handle: number | undefined;
        while (['position', 'handle', 'index'].includes(this.peek()?.t ?? '')) {
          this.i++;
          handle = Number(this.word('a handle number').t);
        }
        const s = this.statement();
        if (v !== 'add' && v !== 'create') this.spend(chain.rules.length, cname);
        if (v === 'delete' || v === 'destroy') {
          chain.rules = chain.rules.filter((r) => r.handle !== handle);
          return;
        }
        if (v === 'replace' && handle !== undefined) {
          const at = chain.rules.findIndex((r) => r.handle === handle);
          this.addRule(chain, s, 'append');
          const added = chain.rules.pop()!;
          if (at >= 0) chain.rules[at] = { ...added, handle };
          return;
        }
        this.addRule(chain, s, v === 'insert' ? 'prepend' : 'append');
        return;
      }
      case 'set':
      case 'map': {
        const [family, tname] = this.familyAndName('a table name');
        const name = this.word(`a ${what.t} name`);
        if (v === 'delete' || v === 'destroy') {
          this.tables.get(`${family} ${tname.t}`)?.sets.delete(name.t);
          this.statement();
          return;
        }
        const table = this.existingTable(family, tname.t, tname);
        if (v === 'flush') {
          const s = table.sets.get(name.t);
          if (!s) this.fail(`${what.t} ${name.t} is not declared before it is flushed`, name);
          s.elements.clear();
          this.statement();
          return;
        }
        const set = this.set(table, name.t, what.t, name);
        const open = this.peek();
        if (this.expectOpen()) {
          this.setBody(set);
          this.closeBlock(open!);
        }
        this.statement();
        return;
      }
      case 'element': {
        const [family, tname] = this.familyAndName('a table name');
        const name = this.word('a set or map name');
        const table = this.existingTable(family, tname.t, tname);
        const set = table.sets.get(name.t);
        if (!set) this.fail(`set or map ${name.t} is not declared before its elements`, name);
        const s = this.statement();
        const open = s.toks.findIndex((x) => x.t === '{');
        if (open < 0) this.fail('expected `{ ... }` with the elements', name);
        if (v === 'delete' || v === 'destroy') {
          const [gone] = parseElements(s.toks, open, this.where(name.line));
          for (const e of gone) set.elements.delete(e.key.join(' . '));
          return;
        }
        this.addElements(set, s.toks, open);
        return;
      }
      default:
        if (IGNORED_OBJECTS.has(what.t)) {
          this.statement();
          return;
        }
        this.fail(`\`${verb.t} ${what.t}\`: expected table, chain, rule, set, map or element`, what);
    }
  }
}

/** Reads nft text; throws NftSyntaxError only (read.ts turns it into a ParseError). */
export function readNftText(text: string): NftRuleset {
  if (text.length > NFT_LIMITS.maxInput)
    throw new NftSyntaxError(`input larger than ${NFT_LIMITS.maxInput} characters: not one node's ruleset`);
  return new TextReader(text).read();
}
