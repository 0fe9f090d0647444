// known_hosts, read the way OpenSSH reads it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): optional
// marker, host patterns (comma list with * ? and ! negation, [host]:port for other ports) or a
// hashed name |1|salt|HMAC-SHA1(salt, name), key type, base64 key blob, comment. Pure functions:
// reading and appending the file lives in known-hosts-file.ts.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { keyTypeOf, sha256Fingerprint } from './host-key';

type HostMatcher =
  | { readonly kind: 'hashed'; readonly salt: Buffer; readonly hash: Buffer }
  | { readonly kind: 'patterns'; readonly patterns: readonly string[] };

export interface KnownHostsEntry {
  /** 1-based line number, for messages. */
  readonly line: number;
  readonly marker: 'revoked' | 'cert-authority' | undefined;
  readonly hosts: HostMatcher;
  readonly keyType: string;
  readonly key: Buffer;
}

export interface KnownHostsProblem {
  readonly line: number;
  readonly message: string;
}

export interface ParsedKnownHosts {
  readonly entries: readonly KnownHostsEntry[];
  /** Lines skipped as unreadable; OpenSSH skips them too, we also say so. */
  readonly problems: readonly KnownHostsProblem[];
}

export function parseKnownHosts(text: string): ParsedKnownHosts {
  const entries: KnownHostsEntry[] = [];
  const problems: KnownHostsProblem[] = [];
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const fields = trimmed.split(/[ \t]+/);
    let marker: KnownHostsEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      const name = fields.shift();
      if (name === '@revoked') marker = 'revoked';
      else if (name === '@cert-authority') marker = 'cert-authority';
      else {
        problems.push({ line, message: `unknown marker ${name}` });
        continue;
      }
    }
    const [hostField, keyType, keyBase64] = fields;
    if (hostField === undefined || keyType === undefined || keyBase64 === undefined) {
      problems.push({ line, message: 'expected: [marker] hosts key-type base64-key [comment]' });
      continue;
    }
    const hosts = parseHostField(hostField);
    if (hosts === undefined) {
      problems.push({ line, message: 'malformed hashed host name' });
      continue;
    }
    const key = Buffer.from(keyBase64, 'base64');
    if (!/^[A-Za-z0-9+/]+=*$/.test(keyBase64) || keyTypeOf(key) === undefined) {
      problems.push({ line, message: 'malformed base64 key' });
      continue;
    }
    entries.push({ line, marker, hosts, keyType: keyTypeOf(key)!, key });
  }
  return { entries, problems };
}

function parseHostField(field: string): HostMatcher | undefined {
  if (!field.startsWith('|')) {
    return { kind: 'patterns', patterns: field.split(',').filter((p) => p !== '') };
  }
  const parts = field.split('|'); // ['', '1', salt, hash]
  if (parts.length !== 4 || parts[1] !== '1') return undefined;
  const salt = Buffer.from(parts[2]!, 'base64');
  const hash = Buffer.from(parts[3]!, 'base64');
  if (salt.length === 0 || hash.length !== 20) return undefined;
  return { kind: 'hashed', salt, hash };
}

/** The name known_hosts uses for a host: `host` on port 22, `[host]:port` elsewhere. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function hashName(salt: Buffer, name: string): Buffer {
  return createHmac('sha1', salt).update(name).digest();
}

/** OpenSSH's wildcard match: `*` any run, `?` exactly one character; case-insensitive. */
function wildcardMatch(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  let pi = 0;
  let ti = 0;
  let starP = -1;
  let starT = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      starP = pi++;
      starT = ti;
    } else if (starP >= 0) {
      pi = starP + 1;
      ti = ++starT;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** A pattern list matches when some pattern matches and no negated (!) pattern does. */
export function matchPatternList(patterns: readonly string[], text: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) {
      if (wildcardMatch(pattern.slice(1), text)) return false;
    } else if (wildcardMatch(pattern, text)) {
      matched = true;
    }
  }
  return matched;
}

function entryMatches(entry: KnownHostsEntry, name: string): boolean {
  if (entry.hosts.kind === 'patterns') return matchPatternList(entry.hosts.patterns, name);
  const actual = hashName(entry.hosts.salt, name);
  return timingSafeEqual(actual, entry.hosts.hash);
}

/** Entries that apply to this host and port, in file order. */
export function entriesForHost(known: ParsedKnownHosts, host: string, port: number): KnownHostsEntry[] {
  const name = knownHostsName(host, port);
  return known.entries.filter((e) => entryMatches(e, name));
}

export type HostKeyCheck =
  | { readonly status: 'known'; readonly line: number }
  | { readonly status: 'revoked'; readonly line: number }
  | {
      readonly status: 'changed';
      /** Fingerprints recorded for this host and key type; the presented key is none of them. */
      readonly knownFingerprints: readonly string[];
      readonly lines: readonly number[];
    }
  | {
      /**
       * Keys of other types are recorded for this host, none of the presented type. Not a new host:
       * the host it was is known by another key, which it no longer shows (we ask for the recorded
       * types first, see hostKeyAlgorithmsPreferring), so accepting this one on first use would let
       * an interceptor with a key of another type in.
       */
      readonly status: 'other-type';
      readonly knownKeyTypes: readonly string[];
      readonly knownFingerprints: readonly string[];
      readonly lines: readonly number[];
    }
  | {
      readonly status: 'unknown';
      /** The file trusts a @cert-authority for this host; we do not check certificates. */
      readonly certAuthority: boolean;
    };

/**
 * Decides what known_hosts says about a presented host key. A revoked key is refused wherever it
 * appears; a recorded key of the same type that differs is a change (possible interception); a
 * host with records of other types only is not new either; unknown means nothing plain is recorded.
 */
export function checkHostKey(known: ParsedKnownHosts, host: string, port: number, key: Buffer): HostKeyCheck {
  const entries = entriesForHost(known, host, port);
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', line: revoked.line };
  const plain = entries.filter((e) => e.marker === undefined);
  const exact = plain.find((e) => e.key.equals(key));
  if (exact) return { status: 'known', line: exact.line };
  const type = keyTypeOf(key);
  const sameType = plain.filter((e) => e.keyType === type);
  if (sameType.length > 0) {
    return {
      status: 'changed',
      knownFingerprints: [...new Set(sameType.map((e) => sha256Fingerprint(e.key)))],
      lines: sameType.map((e) => e.line),
    };
  }
  if (plain.length > 0) {
    return {
      status: 'other-type',
      knownKeyTypes: [...new Set(plain.map((e) => e.keyType))],
      knownFingerprints: [...new Set(plain.map((e) => sha256Fingerprint(e.key)))],
      lines: plain.map((e) => e.line),
    };
  }
  return { status: 'unknown', certAuthority: entries.some((e) => e.marker === 'cert-authority') };
}

/** Key types with a plain (unmarked) record for this host, for host key algorithm ordering. */
export function recordedKeyTypes(known: ParsedKnownHosts, host: string, port: number): string[] {
  const types = entriesForHost(known, host, port)
    .filter((e) => e.marker === undefined)
    .map((e) => e.keyType);
  return [...new Set(types)];
}

/** One known_hosts line (with newline) recording a key; hashed like HashKnownHosts=yes if asked. */
export function formatKnownHostsLine(
  host: string,
  port: number,
  key: Buffer,
  options: { readonly hashed: boolean; readonly salt?: Buffer },
): string {
  const name = knownHostsName(host, port);
  const type = keyTypeOf(key);
  if (type === undefined) throw new RangeError('not an SSH public key blob');
  let hostField = name;
  if (options.hashed) {
    const salt = options.salt ?? randomBytes(20);
    hostField = `|1|${salt.toString('base64')}|${hashName(salt, name).toString('base64')}`;
  }
  return `${hostField} ${type} ${key.toString('base64')}\n`;
}
