// `ipset list` (and `ipset save`) output as readonly data. ipvs-mode kube-proxy keeps its
// NodePorts in sets (KUBE-NODE-PORT-TCP, ...), so without this the nat table says nothing about
// which ports are open; the tracer also needs the members to evaluate `-m set` matches.
import type { ParseError } from '../netfilter/parse';
import { findBinaryLine, parseError, splitLines } from './parse-result';

export interface IpsetMember {
  /** As listed: `30001`, `10.96.0.1,tcp:443`, `10.0.0.0/8`. */
  readonly entry: string;
  /** Words after the entry (`timeout 0`, `nomatch`, `comment "x"`), as written. */
  readonly options: readonly string[];
  readonly line: number;
}

export interface IpsetSet {
  readonly name: string;
  /** `hash:ip,port`, `bitmap:port`, ... */
  readonly type: string;
  /** From the header's `family inet|inet6`; bitmap:port sets have none. */
  readonly family?: 'inet' | 'inet6';
  /** The `Header:` line (list) or the create options (save), as written. */
  readonly header: string;
  readonly members: readonly IpsetMember[];
  readonly line: number;
}

export interface IpsetList {
  readonly sets: readonly IpsetSet[];
}

export type IpsetParseResult =
  | { readonly ok: true; readonly ipsets: IpsetList; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly error: ParseError };

export function findIpset(list: IpsetList, name: string): IpsetSet | undefined {
  return list.sets.find((s) => s.name === name);
}

interface Draft {
  name: string;
  type?: string;
  header: string;
  members: IpsetMember[];
  line: number;
  declaredEntries?: number;
}

function familyOf(header: string): 'inet' | 'inet6' | undefined {
  const m = /(?:^|\s)family (inet6?)(?:\s|$)/.exec(header);
  return m?.[1] === 'inet' || m?.[1] === 'inet6' ? m[1] : undefined;
}

function splitWords(text: string): string[] {
  return text
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
}

function finish(d: Draft): IpsetSet {
  const family = familyOf(d.header);
  return {
    name: d.name,
    type: d.type ?? '',
    ...(family ? { family } : {}),
    header: d.header,
    members: d.members,
    line: d.line,
  };
}

const HEADER_KEYS = new Set([
  'Type',
  'Revision',
  'Header',
  'Size in memory',
  'References',
  'Number of entries',
]);

/** `ipset list` output: `Name:` blocks with a header and a `Members:` list. */
function parseList(lines: readonly string[]): IpsetParseResult {
  const sets: IpsetSet[] = [];
  const warnings: string[] = [];
  const names = new Set<string>();
  let current: Draft | undefined;
  let inMembers = false;

  const close = (): ParseError | undefined => {
    if (!current) return undefined;
    if (current.type === undefined) {
      return parseError(current.line, `Name: ${current.name}`, `set ${current.name} has no Type: line`);
    }
    if (current.declaredEntries !== undefined && current.declaredEntries !== current.members.length) {
      warnings.push(
        `set ${current.name}: header says ${current.declaredEntries} entries, ${current.members.length} listed (truncated output?)`,
      );
    }
    sets.push(finish(current));
    current = undefined;
    inMembers = false;
    return undefined;
  };

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const lineNo = i + 1;
    const text = raw.trim();
    if (text === '') {
      inMembers = false;
      continue;
    }
    const name = /^Name:\s*(\S+)\s*$/.exec(text);
    if (name) {
      const err = close();
      if (err) return { ok: false, error: err };
      const setName = name[1] ?? '';
      if (names.has(setName)) warnings.push(`line ${lineNo}: set ${setName} listed twice; the first is used`);
      names.add(setName);
      current = { name: setName, header: '', members: [], line: lineNo };
      continue;
    }
    if (!current) return { ok: false, error: parseError(lineNo, raw, 'expected "Name: SET" to start a set') };
    if (inMembers) {
      const [entry, ...options] = splitWords(text);
      current.members.push({ entry: entry ?? '', options, line: lineNo });
      continue;
    }
    if (text === 'Members:') {
      inMembers = true;
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z ]*?):\s*(.*)$/.exec(text);
    if (!kv)
      return {
        ok: false,
        error: parseError(lineNo, raw, `expected "Key: value" or "Members:" in set ${current.name}`),
      };
    const key = kv[1] ?? '';
    const value = kv[2] ?? '';
    if (key === 'Type') current.type = value.trim();
    else if (key === 'Header') current.header = value.trim();
    else if (key === 'Number of entries') {
      const n = Number(value);
      if (Number.isInteger(n)) current.declaredEntries = n;
    } else if (!HEADER_KEYS.has(key)) warnings.push(`line ${lineNo}: unknown set header "${key}" ignored`);
  }
  const err = close();
  if (err) return { ok: false, error: err };
  return { ok: true, ipsets: { sets }, warnings };
}

/** `ipset save` output: `create NAME TYPE opts` and `add NAME ENTRY opts` lines. */
function parseSave(lines: readonly string[]): IpsetParseResult {
  const drafts = new Map<string, Draft>();
  const warnings: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const lineNo = i + 1;
    const words = splitWords(raw);
    if (words.length === 0) continue;
    const [verb, name, arg, ...rest] = words;
    if (verb === 'create' && name && arg) {
      if (drafts.has(name)) warnings.push(`line ${lineNo}: set ${name} created twice; the first is used`);
      else drafts.set(name, { name, type: arg, header: rest.join(' '), members: [], line: lineNo });
      continue;
    }
    if (verb === 'add' && name && arg) {
      const d = drafts.get(name);
      if (!d)
        return { ok: false, error: parseError(lineNo, raw, `add to set ${name} before its create line`) };
      d.members.push({ entry: arg, options: rest, line: lineNo });
      continue;
    }
    return {
      ok: false,
      error: parseError(lineNo, raw, 'expected "create SET TYPE ..." or "add SET ENTRY ..."'),
    };
  }
  return { ok: true, ipsets: { sets: [...drafts.values()].map(finish) }, warnings };
}

/** Parse `ipset list` or `ipset save` output; the format is told by the first non-blank line. */
export function parseIpsetList(text: string): IpsetParseResult {
  const lines = splitLines(text);
  const binary = findBinaryLine(lines);
  if (binary !== undefined) {
    return { ok: false, error: parseError(binary + 1, lines[binary] ?? '', 'binary data: not ipset output') };
  }
  const first = lines.find((l) => l.trim() !== '')?.trim() ?? '';
  if (first === '') return { ok: true, ipsets: { sets: [] }, warnings: [] };
  return /^(create|add)\s/.test(first) ? parseSave(lines) : parseList(lines);
}
