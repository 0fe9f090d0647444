// Command-line values to typed options, with the checks and messages in one testable place.
import { type FaultName, isFault } from './faults';
import { DEFAULT_OPTIONS, type LabOptions, validateOptions } from './topology';

function int(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`${name} must be a whole number, got "${raw}"`);
  return Number.parseInt(raw, 10);
}

function layoutOf(raw: string | undefined): LabOptions['layout'] {
  const layout = raw ?? DEFAULT_OPTIONS.layout;
  if (layout !== 'current' && layout !== 'legacy')
    throw new Error(`--layout must be current or legacy, got "${layout}"`);
  return layout;
}

export function upOptions(raw: {
  nodes?: string;
  clients?: string;
  mode?: string;
  layout?: string;
  ipv6?: boolean;
}): LabOptions {
  const mode = raw.mode ?? DEFAULT_OPTIONS.mode;
  if (mode !== 'iptables' && mode !== 'ipvs' && mode !== 'nftables')
    throw new Error(`--mode must be iptables, ipvs or nftables, got "${mode}"`);
  return validateOptions({
    nodes: int('--nodes', raw.nodes, DEFAULT_OPTIONS.nodes),
    clients: int('--clients', raw.clients, DEFAULT_OPTIONS.clients),
    mode,
    layout: layoutOf(raw.layout),
    ipv6: raw.ipv6 ?? false,
  });
}

export interface ProbeArgs {
  readonly from: string;
  readonly node: string;
  readonly port: number;
  readonly udp: boolean;
  readonly timeoutMs?: number;
}

export function probeArgs(raw: {
  from?: string;
  node?: string;
  port?: string;
  udp?: boolean;
  timeout?: string;
}): ProbeArgs {
  if (!raw.from) throw new Error('--from IP is required (a client address from lab:status)');
  if (!raw.node) throw new Error('--node is required (node1, 2, or an address)');
  const port = int('--port', raw.port, 0);
  if (port < 1 || port > 65535) throw new Error('--port must be 1-65535');
  const timeoutMs = raw.timeout === undefined ? undefined : int('--timeout', raw.timeout, 0);
  if (timeoutMs !== undefined && (timeoutMs < 100 || timeoutMs > 30_000))
    throw new Error('--timeout must be 100-30000 ms');
  return {
    from: raw.from,
    node: raw.node,
    port,
    udp: raw.udp ?? false,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
}

export function kubeProxyAction(raw: { resync?: boolean; restart?: boolean }): 'resync' | 'restart' {
  if (raw.resync && raw.restart) throw new Error('give one of --resync or --restart');
  if (raw.resync) return 'resync';
  if (raw.restart) return 'restart';
  throw new Error('give --resync or --restart');
}

export function faultArgs(name: string, node: string | undefined): { fault: FaultName; node: string } {
  if (!isFault(name))
    throw new Error(
      `unknown fault "${name}"; one of sshd-stop, sshd-start, cut, uncut, restore-fail, restore-ok`,
    );
  if (!node) throw new Error('--node is required');
  return { fault: name, node };
}
