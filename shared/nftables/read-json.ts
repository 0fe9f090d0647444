// `nft -j list ...` (libnftables-json(5), schema version 1) into the same model as the text
// readers. The one reader of that JSON: kube-proxy's tables (topology) and the guard's own table
// (shared/guard/nft/parse.ts) both come through here. Every object is checked before use: a wrong
// shape is an error naming the object (`nftables[12] (rule)`), never a crash. Rules get the text nft
// would print for them (the JSON has none), rendered from their expressions; a statement with a
// field this reader does not model is `other`, so that nobody mistakes it for one it knows. No
// string that reaches the model holds a control character: names, comments and rule texts end up
// in one-line messages.
import type { Counters } from '../netfilter/model';
import { excerpt, NFT_LIMITS, NftSyntaxError, nftFail } from './errors';
import type {
  NftBaseChain,
  NftChain,
  NftElement,
  NftMatchOp,
  NftObjectRef,
  NftRule,
  NftRuleset,
  NftSelector,
  NftSet,
  NftStatement,
  NftValue,
  NftVerdict,
} from './model';
import { isNftFamily, parsePriority } from './model';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { readonly [key: string]: Json };

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface NftJsonOptions {
  /** Tighter than NFT_LIMITS.maxInput, for a listing known to be small (the guard's own table). */
  readonly maxInput?: number;
  /** Entries of the `nftables` list; tighter than NFT_LIMITS.maxObjects, likewise. */
  readonly maxObjects?: number;
  /**
   * `nft -j list chains` (and `list sets`) print no table objects: take each object's table from its
   * `family` and `table` fields instead of refusing it.
   */
  readonly impliedTables?: boolean;
}

interface MTable {
  readonly family: string;
  readonly name: string;
  comment?: string;
  handle?: number;
  readonly chains: Map<string, { chain: Omit<NftChain, 'rules'>; rules: NftRule[] }>;
  readonly sets: NftSet[];
  readonly others: NftObjectRef[];
}

/** Where we are, for messages: `nftables[12] (rule)`. */
let here = '';

function bad(message: string): never {
  nftFail(`${here}: ${message}`);
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Every string of the document that reaches the model passes here. */
function oneLine(v: string, what: string): string {
  if (CONTROL.test(v)) bad(`${what} contains a control character`);
  return v;
}

/** Far above nft's own limits (256 for names, 128 for comments): a bound, not a check of nft's rules. */
const MAX_STRING = 4096;

function str(o: Obj, key: string, required: true): string;
function str(o: Obj, key: string, required?: false): string | undefined;
function str(o: Obj, key: string, required = false): string | undefined {
  const v = o[key];
  if (typeof v === 'string') {
    if (v.length > MAX_STRING) bad(`"${key}" is longer than ${MAX_STRING} characters`);
    return oneLine(v, `"${key}"`);
  }
  if (v === undefined && !required) return undefined;
  return bad(`"${key}" must be a string`);
}

function num(o: Obj, key: string): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) return bad(`"${key}" must be a number`);
  return v;
}

/** Handles and counters: what the kernel hands out is a non-negative integer, nothing else. */
function count(o: Obj, key: string): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    return bad(`"${key}" must be a non-negative integer`);
  return v;
}

/** A list of names (`flags`, a set's `type`), which nft gives as a string when there is one. */
function names(v: Json | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v.map((x) => exprText(x)) : [exprText(v)];
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

/** An expression as nft prints it (for rule text and selector parts). */
function exprText(e: Json, depth = 0): string {
  if (depth > NFT_LIMITS.maxDepth) bad('expressions nested too deep');
  if (typeof e === 'string') return oneLine(e, 'a string');
  if (typeof e === 'number') return String(e);
  if (typeof e === 'boolean') return String(e);
  if (Array.isArray(e)) return e.map((x) => exprText(x, depth + 1)).join(' . ');
  if (!isObj(e)) return 'null';
  const [key, v] = Object.entries(e)[0] ?? ['', null];
  const o = isObj(v) ? v : {};
  switch (key) {
    case 'payload':
      return `${str(o, 'protocol') ?? 'th'} ${str(o, 'field') ?? '?'}`;
    case 'meta':
      return `meta ${str(o, 'key') ?? '?'}`;
    case 'ct':
      return `ct ${str(o, 'dir') ? `${str(o, 'dir')} ` : ''}${str(o, 'key') ?? '?'}`;
    case 'fib':
      return `fib ${names(o.flags).join(' . ')} ${str(o, 'result') ?? '?'}`;
    case 'numgen': {
      const offset = num(o, 'offset') ?? 0;
      return `numgen ${str(o, 'mode') ?? 'random'} mod ${num(o, 'mod') ?? 0}${offset ? ` offset ${offset}` : ''}`;
    }
    case 'concat':
      return Array.isArray(v) ? v.map((x) => exprText(x, depth + 1)).join(' . ') : '?';
    case 'prefix':
      return `${exprText(o.addr ?? null, depth + 1)}/${num(o, 'len') ?? 0}`;
    case 'range':
      return Array.isArray(v) && v.length === 2
        ? `${exprText(v[0]!, depth + 1)}-${exprText(v[1]!, depth + 1)}`
        : '?';
    case 'set':
      return Array.isArray(v)
        ? `{ ${v.map((x) => elementText(x, depth + 1)).join(', ')} }`
        : exprText(v, depth + 1);
    case 'elem':
      return exprText(o.val ?? null, depth + 1);
    case '&':
    case '|':
    case '^':
    case '<<':
    case '>>':
      if (Array.isArray(v) && v.length === 2) {
        const right = typeof v[1] === 'number' ? hex(v[1]) : exprText(v[1]!, depth + 1);
        return `${exprText(v[0]!, depth + 1)} ${key} ${right}`;
      }
      return '?';
    default:
      return key;
  }
}

function elementText(e: Json, depth: number): string {
  if (Array.isArray(e) && e.length === 2) return `${exprText(e[0]!, depth)} : ${verdictText(e[1]!, depth)}`;
  return exprText(e, depth);
}

function verdictOf(e: Json): NftVerdict | undefined {
  if (!isObj(e)) return undefined;
  for (const k of ['accept', 'drop', 'return', 'continue', 'queue'] as const) if (k in e) return { kind: k };
  for (const k of ['jump', 'goto'] as const) {
    const v = e[k];
    if (isObj(v) && typeof v.target === 'string') return { kind: k, target: str(v, 'target', true) };
    if (k in e) bad(`"${k}" without a target`);
  }
  return undefined;
}

function verdictText(e: Json, depth: number): string {
  const v = verdictOf(e);
  if (!v) return exprText(e, depth);
  return v.kind === 'jump' || v.kind === 'goto' ? `${v.kind} ${v.target}` : v.kind;
}

/** The atoms of an element key (concat members as strings). */
function atoms(e: Json, depth = 0): string[] {
  if (isObj(e) && Array.isArray(e.concat)) return e.concat.map((x) => exprText(x, depth + 1));
  return [exprText(e, depth + 1)];
}

function element(e: Json): NftElement {
  let key: Json = e;
  let value: Json | undefined;
  if (Array.isArray(e)) {
    if (e.length !== 2) bad('a map element must be [key, value]');
    key = e[0]!;
    value = e[1]!;
  }
  let comment: string | undefined;
  if (isObj(key) && isObj(key.elem)) {
    comment = str(key.elem, 'comment');
    key = key.elem.val ?? null;
  }
  const out: { key: string[]; comment?: string; verdict?: NftVerdict; data?: string[] } = { key: atoms(key) };
  if (comment !== undefined) out.comment = comment;
  if (value !== undefined) {
    const v = verdictOf(value);
    if (v) out.verdict = v;
    else out.data = atoms(value);
  }
  return out;
}

function elements(v: Json | undefined): NftElement[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) return [element(v)];
  return v.map(element);
}

function selector(e: Json): NftSelector {
  if (isObj(e) && isObj(e.numgen)) {
    const o = e.numgen;
    const mod = num(o, 'mod');
    if (mod === undefined || !Number.isInteger(mod) || mod < 1) bad('numgen without a positive "mod"');
    return {
      parts: [exprText(e)],
      numgen: { mode: str(o, 'mode') ?? 'random', mod, offset: num(o, 'offset') ?? 0 },
    };
  }
  if (isObj(e) && Array.isArray(e.concat)) return { parts: e.concat.map((x) => exprText(x, 1)) };
  return { parts: [exprText(e)] };
}

function value(e: Json): NftValue {
  if (typeof e === 'string' && e.startsWith('@'))
    return { kind: 'set', name: oneLine(e, 'a set reference').slice(1) };
  if (isObj(e) && Array.isArray(e.set)) return { kind: 'anon', elements: e.set.map(element) };
  if (Array.isArray(e)) return { kind: 'literal', text: e.map((x) => exprText(x, 1)).join(',') };
  return { kind: 'literal', text: exprText(e) };
}

const JSON_OPS: ReadonlyMap<string, NftMatchOp> = new Map([
  ['==', '=='],
  ['!=', '!='],
  ['<', '<'],
  ['>', '>'],
  ['<=', '<='],
  ['>=', '>='],
  ['in', '=='],
]);

/** A statement kept as written (JSON), when it is not one this reader models. */
function otherStatement(e: Obj): [NftStatement, string] {
  const [key, v] = Object.entries(e)[0] ?? ['', null];
  const shown = excerpt(key);
  const text =
    Object.keys(e).length !== 1
      ? JSON.stringify(e).slice(0, 200)
      : v === null
        ? shown
        : `${shown} ${JSON.stringify(v).slice(0, 200)}`;
  return [{ kind: 'other', text }, text];
}

const flagText = (v: Json | undefined): string => names(v).join(',');

/** One statement and its text. */
function statement(e: Json): [NftStatement, string] {
  if (!isObj(e)) bad('a rule expression must be an object');
  // libnftables writes one key per statement; two would be two readings of one statement.
  if (Object.keys(e).length !== 1) return otherStatement(e);
  const [key, v] = Object.entries(e)[0] ?? ['', null];
  const o: Obj = isObj(v) ? v : {};
  const verdict = verdictOf(e);
  if (verdict) return [{ kind: 'verdict', verdict }, verdictText(e, 0)];
  switch (key) {
    case 'match': {
      const left = selector(o.left ?? null);
      const right = value(o.right ?? null);
      const op = JSON_OPS.get(str(o, 'op') ?? '==');
      // An operator we do not know is not guessed to be `==`.
      if (op === undefined) return otherStatement(e);
      const leftText = left.parts.join(' . ');
      // nft shows `==` (and a hex right side) after a bit operation: `meta mark & 0x4000 == 0x0`.
      const bitop = / [&|^] /.test(leftText);
      const rightText =
        bitop && typeof o.right === 'number'
          ? hex(o.right)
          : right.kind === 'set'
            ? `@${right.name}`
            : right.kind === 'literal'
              ? right.text
              : exprText(o.right ?? null);
      const shownOp = op === '==' && !bitop ? '' : ` ${op}`;
      return [{ kind: 'match', left, op, right }, `${leftText}${shownOp} ${rightText}`];
    }
    case 'vmap': {
      const k = selector(o.key ?? null);
      const data = o.data ?? null;
      if (typeof data === 'string' && data.startsWith('@'))
        return [
          { kind: 'vmap', key: k, map: { kind: 'named', name: data.slice(1) } },
          `${k.parts.join(' . ')} vmap ${data}`,
        ];
      if (isObj(data) && Array.isArray(data.set)) {
        const els = data.set.map(element);
        return [
          { kind: 'vmap', key: k, map: { kind: 'anon', elements: els } },
          `${k.parts.join(' . ')} vmap ${exprText(data)}`,
        ];
      }
      return bad('"vmap" needs "data": "@map" or {"set": [...]}');
    }
    case 'counter': {
      // `{"counter": "name"}` refers to a named counter object: not a count of this rule's own.
      if (v !== null && !isObj(v)) return otherStatement(e);
      const packets = count(o, 'packets') ?? 0;
      const bytes = count(o, 'bytes') ?? 0;
      const counters: Counters = { packets, bytes };
      return [{ kind: 'counter', counters }, `counter packets ${packets} bytes ${bytes}`];
    }
    case 'dnat':
    case 'snat': {
      const addr = o.addr === undefined ? undefined : exprText(o.addr);
      const port = num(o, 'port');
      const fam = str(o, 'family');
      const shown =
        addr === undefined
          ? ''
          : port === undefined
            ? addr
            : addr.includes(':')
              ? `[${addr}]:${port}`
              : `${addr}:${port}`;
      const text = `${key}${fam ? ` ${fam}` : ''} to ${shown}`;
      return [
        { kind: key, text, ...(addr === undefined ? {} : { addr }), ...(port === undefined ? {} : { port }) },
        text,
      ];
    }
    case 'redirect': {
      if (v !== null && !(isObj(v) && Object.keys(v).every((k) => k === 'port' || k === 'flags')))
        return otherStatement(e);
      // A port range (`to :1000-2000`) is shown but has no one port.
      const port = typeof o.port === 'number' && Number.isSafeInteger(o.port) ? o.port : undefined;
      const to = o.port === undefined ? '' : ` to :${exprText(o.port)}`;
      const flags = flagText(o.flags);
      const text = `redirect${to}${flags ? ` ${flags}` : ''}`;
      return [{ kind: 'redirect', text, ...(port === undefined ? {} : { port }) }, text];
    }
    case 'masquerade': {
      const flags = flagText(o.flags);
      const text = `masquerade${flags ? ` ${flags}` : ''}`;
      return [{ kind: 'masquerade', text }, text];
    }
    case 'reject': {
      const type = str(o, 'type');
      const why = o.expr === undefined ? undefined : exprText(o.expr);
      const text = type && why ? `reject with ${type} ${why}` : 'reject';
      return [{ kind: 'reject', text }, text];
    }
    case 'mangle': {
      const k = exprText(o.key ?? null);
      const text = `${k} set ${exprText(o.value ?? null)}`;
      return [k.endsWith('mark') ? { kind: 'mark-set', text } : { kind: 'other', text }, text];
    }
    case 'set': {
      const set = str(o, 'set') ?? '';
      const text = `${str(o, 'op') ?? 'update'} ${set} { ${exprText(o.elem ?? null)} }`;
      return [{ kind: 'set-update', set: set.replace(/^@/, ''), text }, text];
    }
    default:
      return otherStatement(e);
  }
}

function rule(o: Obj): NftRule {
  const expr = o.expr;
  if (!Array.isArray(expr)) bad('a rule needs "expr": [...]');
  const statements: NftStatement[] = [];
  const texts: string[] = [];
  let counters: Counters | undefined;
  for (const e of expr) {
    const [s, t] = statement(e);
    statements.push(s);
    texts.push(t);
    if (s.kind === 'counter') counters = s.counters;
  }
  const comment = str(o, 'comment');
  if (comment !== undefined) texts.push(`comment ${JSON.stringify(comment)}`);
  const handle = count(o, 'handle');
  return {
    text: texts.join(' '),
    statements,
    ...(handle === undefined ? {} : { handle }),
    ...(counters ? { counters } : {}),
    ...(comment === undefined ? {} : { comment }),
  };
}

/** JSON output gives a number; JSON that people wrote may give nft's symbolic form (`dstnat - 10`). */
function priorityOf(v: Json | undefined): [number, string] | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? [v, String(v)] : undefined;
  if (typeof v === 'string') {
    const n = parsePriority(v);
    return n === undefined ? undefined : [n, v.trim().replace(/\s+/g, ' ')];
  }
  return undefined;
}

const MODELLED: ReadonlySet<string> = new Set(['table', 'chain', 'rule', 'set', 'map']);

function newTable(family: string, name: string): MTable {
  if (!isNftFamily(family)) bad(`unknown family ${JSON.stringify(family)}`);
  return { family, name, chains: new Map(), sets: [], others: [] };
}

/** Reads `nft -j` JSON text; throws NftSyntaxError only (read.ts turns it into a ParseError). */
export function readNftJson(text: string, options: NftJsonOptions = {}): NftRuleset {
  const maxInput = Math.min(options.maxInput ?? NFT_LIMITS.maxInput, NFT_LIMITS.maxInput);
  const maxObjects = Math.min(options.maxObjects ?? NFT_LIMITS.maxObjects, NFT_LIMITS.maxObjects);
  if (text.length > maxInput)
    throw new NftSyntaxError(
      `input of ${text.length} characters, more than ${maxInput}: not one node's ruleset`,
      0,
      '',
      'too-large',
    );
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    // A stack overflow on absurd nesting lands here too: still "not JSON we can read".
    const why = e instanceof Error ? e.message : String(e);
    throw new NftSyntaxError(`not valid JSON: ${excerpt(why)}`, 0, '', 'not-json');
  }
  if (!isObj(doc) || !Array.isArray(doc.nftables))
    throw new NftSyntaxError('not `nft -j` output: expected {"nftables": [...]}');
  if (doc.nftables.length > maxObjects)
    throw new NftSyntaxError(
      `too many objects for one ruleset (${doc.nftables.length}, more than ${maxObjects})`,
      0,
      '',
      'too-large',
    );
  const tables = new Map<string, MTable>();
  const tableOf = (o: Obj): MTable => {
    const family = str(o, 'family', true);
    const name = str(o, 'table', true);
    let t = tables.get(`${family} ${name}`);
    if (!t && options.impliedTables) {
      t = newTable(family, name);
      tables.set(`${family} ${name}`, t);
    }
    if (!t) bad(`table ${family} ${name} is not listed before its objects`);
    return t;
  };
  try {
    doc.nftables.forEach((item, index) => {
      here = `nftables[${index}]`;
      if (!isObj(item)) bad('each entry must be an object');
      const [kind, body] = Object.entries(item)[0] ?? ['', null];
      here = `nftables[${index}] (${excerpt(kind)})`;
      if (kind === 'metainfo') return;
      if (!MODELLED.has(kind)) {
        // Kept by name on its table, so that a reader of one table sees it holds more.
        if (isObj(body) && typeof body.family === 'string' && typeof body.table === 'string')
          tableOf(body).others.push({ kind: excerpt(kind), name: str(body, 'name') ?? '' });
        return;
      }
      if (!isObj(body)) bad('must be an object');
      if (kind === 'table') {
        const family = str(body, 'family', true);
        const name = str(body, 'name', true);
        const t = newTable(family, name);
        const comment = str(body, 'comment');
        if (comment !== undefined) t.comment = comment;
        const handle = count(body, 'handle');
        if (handle !== undefined) t.handle = handle;
        tables.set(`${family} ${name}`, t);
        return;
      }
      const table = tableOf(body);
      if (kind === 'chain') {
        const name = str(body, 'name', true);
        const type = str(body, 'type');
        const hook = str(body, 'hook');
        if ((type === undefined) !== (hook === undefined))
          bad(`chain ${name}: a base chain needs both "type" and "hook"`);
        let base: NftBaseChain | undefined;
        if (type !== undefined && hook !== undefined) {
          const prio = priorityOf(body.prio);
          if (!prio)
            bad(
              `chain ${name}: "prio" must be a number or a standard priority such as "dstnat - 10", not ${excerpt(JSON.stringify(body.prio) ?? 'nothing')}`,
            );
          const policy = str(body, 'policy');
          base = {
            type,
            hook,
            priority: prio[0],
            priorityText: prio[1],
            ...(policy === undefined ? {} : { policy }),
          };
        }
        const comment = str(body, 'comment');
        const handle = count(body, 'handle');
        table.chains.set(name, {
          chain: {
            name,
            ...(base ? { base } : {}),
            ...(comment === undefined ? {} : { comment }),
            ...(handle === undefined ? {} : { handle }),
          },
          rules: [],
        });
        return;
      }
      if (kind === 'rule') {
        const cname = str(body, 'chain', true);
        const chain = table.chains.get(cname);
        if (!chain) bad(`chain ${cname} is not listed before its rules`);
        chain.rules.push(rule(body));
        return;
      }
      const name = str(body, 'name', true);
      const dataType = kind === 'map' ? (str(body, 'map') ?? '') : undefined;
      const comment = str(body, 'comment');
      const handle = count(body, 'handle');
      table.sets.push({
        name,
        kind: kind === 'map' ? 'map' : 'set',
        type: names(body.type),
        flags: names(body.flags),
        elements: elements(body.elem),
        ...(dataType === undefined ? {} : { dataType }),
        ...(comment === undefined ? {} : { comment }),
        ...(handle === undefined ? {} : { handle }),
      });
    });
  } finally {
    here = '';
  }
  return {
    format: 'json',
    comments: [],
    tables: [...tables.values()].map((t) => ({
      family: t.family as NftRuleset['tables'][number]['family'],
      name: t.name,
      chains: [...t.chains.values()].map((c) => ({ ...c.chain, rules: c.rules })),
      sets: t.sets,
      ...(t.others.length === 0 ? {} : { others: t.others }),
      ...(t.comment === undefined ? {} : { comment: t.comment }),
      ...(t.handle === undefined ? {} : { handle: t.handle }),
    })),
  };
}
