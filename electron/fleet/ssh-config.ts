// ~/.ssh/config, read with the maintained `ssh-config` parser (quoting, `=` separators, multi-value
// Host lines) and evaluated here, for the five keywords we use: HostName, User, Port, IdentityFile,
// ProxyJump. We evaluate ourselves instead of calling the library's compute(), because compute()
// runs `Match exec` commands and `nslookup` synchronously; reading a config file must never run a
// program. Semantics as ssh_config(5): the first value obtained wins, except IdentityFile, which
// accumulates; Host patterns use * ? and ! negation. Match blocks and Include are not evaluated:
// they are reported as warnings so that the user knows why a setting was not applied.
import { readFile } from 'node:fs/promises';
import SSHConfig, { type Line } from 'ssh-config';
import { matchPatternList } from './known-hosts';

export interface SshConfigHost {
  readonly hostName?: string;
  readonly user?: string;
  readonly port?: number;
  readonly identityFiles: readonly string[];
  /** Raw ProxyJump value (comma list of [user@]host[:port], or `none`). */
  readonly proxyJump?: string;
}

export interface SshConfigFile {
  readonly lines: readonly Line[];
  readonly warnings: readonly string[];
}

export type SshConfigParse =
  | { readonly ok: true; readonly config: SshConfigFile }
  | { readonly ok: false; readonly message: string };

export function parseSshConfig(text: string, source = 'ssh config'): SshConfigParse {
  let lines: Line[];
  try {
    lines = [...SSHConfig.parse(text)];
  } catch (err) {
    return { ok: false, message: `${source}: ${err instanceof Error ? err.message : String(err)}` };
  }
  const warnings: string[] = [];
  for (const line of lines) {
    if (line.type !== SSHConfig.DIRECTIVE) continue;
    if (/^match$/i.test(line.param)) warnings.push(`${source}: Match blocks are not evaluated`);
    if (/^include$/i.test(line.param)) warnings.push(`${source}: Include is not followed`);
  }
  return { ok: true, config: { lines, warnings: [...new Set(warnings)] } };
}

/** Reads a config file; a missing file is an empty config. */
export async function loadSshConfig(path: string): Promise<SshConfigParse> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return parseSshConfig('', path);
    return { ok: false, message: `cannot read ${path}: ${err instanceof Error ? err.message : String(err)}` };
  }
  return parseSshConfig(text, path);
}

type DirectiveValue = Extract<Line, { value: unknown }>['value'];

function valueText(value: DirectiveValue): string {
  return typeof value === 'string' ? value : value.map((v) => v.val).join(' ');
}

function valueList(value: DirectiveValue): string[] {
  return typeof value === 'string' ? [value] : value.map((v) => v.val);
}

export type SshConfigLookup =
  | { readonly ok: true; readonly host: SshConfigHost }
  | { readonly ok: false; readonly message: string };

/** The settings that apply to `host` (the name as typed, before HostName). */
export function lookupSshHost(config: SshConfigFile, host: string): SshConfigLookup {
  const found: { hostName?: string; user?: string; port?: string; proxyJump?: string } = {};
  const identityFiles: string[] = [];
  const apply = (param: string, value: string) => {
    switch (param.toLowerCase()) {
      case 'hostname':
        found.hostName ??= value;
        break;
      case 'user':
        found.user ??= value;
        break;
      case 'port':
        found.port ??= value;
        break;
      case 'proxyjump':
        found.proxyJump ??= value;
        break;
      case 'identityfile':
        identityFiles.push(value);
        break;
    }
  };
  for (const line of config.lines) {
    if (line.type !== SSHConfig.DIRECTIVE) continue;
    if ('config' in line) {
      if (!/^host$/i.test(line.param)) continue; // Match: not evaluated (see header)
      if (!matchPatternList(valueList(line.value), host)) continue;
      for (const inner of line.config) {
        if (inner.type === SSHConfig.DIRECTIVE) apply(inner.param, valueText(inner.value));
      }
    } else {
      apply(line.param, valueText(line.value));
    }
  }
  let port: number | undefined;
  if (found.port !== undefined) {
    port = Number(found.port);
    if (!/^\d+$/.test(found.port) || port < 1 || port > 65535) {
      return { ok: false, message: `ssh config: bad Port ${JSON.stringify(found.port)} for ${host}` };
    }
  }
  return {
    ok: true,
    host: {
      ...(found.hostName === undefined ? {} : { hostName: found.hostName }),
      ...(found.user === undefined ? {} : { user: found.user }),
      ...(port === undefined ? {} : { port }),
      identityFiles,
      ...(found.proxyJump === undefined ? {} : { proxyJump: found.proxyJump }),
    },
  };
}

export interface JumpSpec {
  readonly host: string;
  readonly user?: string;
  readonly port?: number;
}

export type JumpSpecParse =
  | { readonly ok: true; readonly jumps: readonly JumpSpec[] }
  | { readonly ok: false; readonly message: string };

/** Parses a ProxyJump value: `none`, or a comma list of [user@]host[:port] / ssh://user@host:port. */
export function parseProxyJump(value: string): JumpSpecParse {
  if (value.trim().toLowerCase() === 'none') return { ok: true, jumps: [] };
  const jumps: JumpSpec[] = [];
  for (const raw of value.split(',')) {
    const spec = raw.trim().replace(/^ssh:\/\//, '');
    const m = /^(?:([^@\s]+)@)?(\[[^\]\s]+\]|[^:@\s[\]]+)(?::(\d+))?$/.exec(spec);
    if (!m) return { ok: false, message: `bad ProxyJump entry ${JSON.stringify(raw.trim())}` };
    const [, user, hostPart, portText] = m;
    const port = portText === undefined ? undefined : Number(portText);
    if (port !== undefined && (port < 1 || port > 65535)) {
      return { ok: false, message: `bad port in ProxyJump entry ${JSON.stringify(raw.trim())}` };
    }
    jumps.push({
      host: hostPart!.replace(/^\[(.*)\]$/, '$1'),
      ...(user === undefined ? {} : { user }),
      ...(port === undefined ? {} : { port }),
    });
  }
  return { ok: true, jumps };
}

/** The concrete names of `Host` lines (no patterns or negations): hosts a user can import as nodes. */
export function concreteHostNames(config: SshConfigFile): string[] {
  const names: string[] = [];
  for (const line of config.lines) {
    if (line.type !== SSHConfig.DIRECTIVE || !('config' in line) || !/^host$/i.test(line.param)) continue;
    for (const n of valueList(line.value))
      if (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(n) && !names.includes(n)) names.push(n);
  }
  return names;
}
