// What may run on a node. Every remote command goes through checkArgv before any byte is sent.
// The policy is the second wall (the first: the engine builds argv only from parsed, typed values),
// so it admits the exact shapes the engine sends and nothing a command could also be made to do:
//
//   sh -c SCRIPT NAME ARG...     SCRIPT registered with shippedScript(), NAME and every ARG matching
//                                the shape registered with it (values reach a script as "$1", "$2")
//   conntrack -L -f FAMILY -p PROTO --orig-port-dst PORT            (kill-established, audit)
//   conntrack -D -f FAMILY -p PROTO --orig-port-dst PORT -s ADDRESS
//   id -u, true                                                     (npg nodes: who, and sudo -n)
//
// Everything else the engine does on a node (iptables, flock, mv, systemd-run, ip, ...) runs inside
// those fixed scripts, so none of those binaries is a command of its own here: no option of theirs
// (`--modprobe`, `--setenv`, `netns exec`) and no path can be passed to them from this side.

import { isIP } from 'node:net';

export const ALLOWED_COMMANDS = ['sh', 'conntrack', 'id', 'true'] as const;

export type AllowedCommand = (typeof ALLOWED_COMMANDS)[number];

/** The command text is sent in one SSH packet; bulk data belongs on stdin. */
export const MAX_COMMAND_CHARS = 64 * 1024;

export type ArgvCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

declare const shippedScriptBrand: unique symbol;
/** Script text that ships with NodePort Guard; only these may follow `sh -c`. */
export type ShippedScript = string & { readonly [shippedScriptBrand]: true };

/** The arguments a shipped script is run with: `sh -c SCRIPT NAME ARG...`. */
export interface ScriptParams {
  /** $0: the name the script runs under (ps listings, the shell's own messages). */
  readonly name: string | RegExp;
  /** $1, $2, ...: one pattern each, all required. */
  readonly args?: readonly RegExp[];
  /** Arguments after `args`, each matching `pattern`, at most `max` of them; absent: none. */
  readonly rest?: { readonly pattern: RegExp; readonly max: number };
}

const shippedScripts = new Map<string, ScriptParams>();

/**
 * Registers a fixed script that `sh -c` may run, with the shape of its arguments. Call it at module
 * scope with a literal, so the set of scripts is fixed when the program starts; input goes in as
 * "$1", "$2", ... and must match `params`.
 */
export function shippedScript(text: string, params: ScriptParams): ShippedScript {
  const known = shippedScripts.get(text);
  // The same text with two shapes would admit the looser one for both callers.
  if (known !== undefined && shapeKey(known) !== shapeKey(params))
    throw new Error(`shippedScript: script ${String(params.name)} registered twice with different arguments`);
  shippedScripts.set(text, params);
  return text as ShippedScript;
}

function shapeKey(p: ScriptParams): string {
  return JSON.stringify([
    String(p.name),
    (p.args ?? []).map(String),
    p.rest && [String(p.rest.pattern), p.rest.max],
  ]);
}

const fail = (reason: string): ArgvCheck => ({ ok: false, reason });
const OK: ArgvCheck = { ok: true };

/** Checks an argv against the policy above; the reason names the offending part. */
export function checkArgv(argv: readonly unknown[]): ArgvCheck {
  if (argv.length === 0) return fail('empty argv');
  let chars = 0;
  for (const [i, arg] of argv.entries()) {
    if (typeof arg !== 'string') return fail(`argv[${i}] is not a string`);
    if (arg.includes('\0')) return fail(`argv[${i}] contains a NUL byte`);
    chars += arg.length + 3;
  }
  if (chars > MAX_COMMAND_CHARS)
    return fail(`command longer than ${MAX_COMMAND_CHARS} characters; send data on stdin`);
  const args = argv as readonly string[];
  const name = args[0]!;
  const command: AllowedCommand | undefined = (ALLOWED_COMMANDS as readonly string[]).includes(name)
    ? (name as AllowedCommand)
    : undefined;
  if (command === undefined) {
    return fail(
      name === 'sudo'
        ? 'sudo is added by the fleet itself (set sudo on the node or the request)'
        : `command not allowed: ${JSON.stringify(name)}`,
    );
  }
  switch (command) {
    case 'sh':
      return checkSh(args);
    case 'conntrack':
      return checkConntrack(args);
    case 'id':
      return exactly(args, ['id', '-u']);
    case 'true':
      return exactly(args, ['true']);
  }
}

function exactly(argv: readonly string[], shape: readonly string[]): ArgvCheck {
  if (argv.length === shape.length && argv.every((a, i) => a === shape[i])) return OK;
  return fail(`${shape[0]} runs only as \`${shape.join(' ')}\``);
}

function matches(pattern: string | RegExp, value: string): boolean {
  return typeof pattern === 'string' ? value === pattern : wholeMatch(pattern, value);
}

/** A pattern must match the whole value, whatever anchors (or multiline flag) its author wrote. */
function wholeMatch(pattern: RegExp, value: string): boolean {
  return new RegExp(`^(?:${pattern.source})$`, pattern.flags.replace(/[gym]/g, '')).test(value);
}

function checkSh(argv: readonly string[]): ArgvCheck {
  if (argv[1] !== '-c') return fail('sh runs only as `sh -c SCRIPT NAME [ARG...]`');
  const script = argv[2];
  const params = script === undefined ? undefined : shippedScripts.get(script);
  if (params === undefined) return fail('sh -c accepts only scripts that ship with NodePort Guard');
  const name = argv[3];
  if (name === undefined || !matches(params.name, name))
    return fail(`sh -c: script name ${JSON.stringify(name ?? '')} is not the one it ships with`);
  const args = argv.slice(4);
  const fixed = params.args ?? [];
  for (const [i, pattern] of fixed.entries()) {
    const a = args[i];
    if (a === undefined) return fail(`sh -c ${name}: argument ${i + 1} missing`);
    if (!wholeMatch(pattern, a)) return fail(`sh -c ${name}: argument ${i + 1} ${JSON.stringify(a)} refused`);
  }
  const rest = args.slice(fixed.length);
  const max = params.rest?.max ?? 0;
  if (rest.length > max)
    return fail(`sh -c ${name}: ${args.length} arguments, at most ${fixed.length + max}`);
  for (const [i, a] of rest.entries()) {
    if (!params.rest || !wholeMatch(params.rest.pattern, a))
      return fail(`sh -c ${name}: argument ${fixed.length + i + 1} ${JSON.stringify(a)} refused`);
  }
  return OK;
}

const FAMILIES: ReadonlySet<string> = new Set(['ipv4', 'ipv6']);
const PROTOCOLS: ReadonlySet<string> = new Set(['tcp', 'udp', 'sctp']);
const CONNTRACK_SHAPE =
  '`conntrack -L|-D -f ipv4|ipv6 -p tcp|udp|sctp --orig-port-dst PORT` (-D: then `-s ADDRESS`)';

/** Listing a NodePort's flows, or deleting one blocked source's flows to it: nothing else. */
function checkConntrack(argv: readonly string[]): ArgvCheck {
  const [, op, f, family, p, protocol, o, port, s, source] = argv;
  const length = op === '-D' ? 10 : 8;
  if (
    (op !== '-L' && op !== '-D') ||
    argv.length !== length ||
    f !== '-f' ||
    p !== '-p' ||
    o !== '--orig-port-dst'
  )
    return fail(`conntrack runs only as ${CONNTRACK_SHAPE}`);
  if (!FAMILIES.has(family!)) return fail(`conntrack -f ${JSON.stringify(family)}: ipv4 or ipv6`);
  if (!PROTOCOLS.has(protocol!)) return fail(`conntrack -p ${JSON.stringify(protocol)}: tcp, udp or sctp`);
  if (!/^[1-9][0-9]{0,4}$/.test(port!) || Number(port) > 65535)
    return fail(`conntrack --orig-port-dst ${JSON.stringify(port)}: not a port (1-65535)`);
  if (op === '-D') {
    if (s !== '-s') return fail(`conntrack runs only as ${CONNTRACK_SHAPE}`);
    // One address of the listed family: a CIDR, a name or an option here could delete other flows.
    const version = /^[0-9A-Fa-f.:]+$/.test(source!) ? isIP(source!) : 0;
    if (version === 0 || (version === 4) !== (family === 'ipv4'))
      return fail(
        `conntrack -s ${JSON.stringify(source)}: not an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address`,
      );
  }
  return OK;
}
