// Lab-shaped nat dumps for engine unit tests: kube-proxy's table (recorded in the lab) with or
// without our guard for tcp/30001 allowing 198.18.100.10 (label "a").
import { readFileSync } from 'node:fs';
import type { GuardBackend } from '../../../shared/vocabulary.js';
import type { Policy } from '../../../shared/workspace/schema.js';
import { parseScriptOutput } from '../sections.js';
import { type NodeSnapshot, snapshotFromOutput } from '../snapshot.js';

export const KUBE_NAT = readFileSync('e2e/lab/fixtures/iptables-v4-current.iptables-save-t-nat.txt', 'utf8');
export const KUBE_FULL = readFileSync('e2e/lab/fixtures/iptables-v4-current.iptables-save.txt', 'utf8');

export const GUARD_LINES = [
  '-A PREROUTING -m comment --comment "nodeport-guard: entry" -j NPG-PREROUTING',
  '-A NPG-PREROUTING -p tcp -m tcp --dport 30001 -m addrtype --dst-type LOCAL -m comment --comment "nodeport-guard: tcp/30001" -j NPG-TCP-30001',
  '-A NPG-TCP-30001 -s 198.18.100.10/32 -m comment --comment "nodeport-guard: allow a" -j RETURN',
  '-A NPG-TCP-30001 -p tcp -m comment --comment "nodeport-guard: block" -j REDIRECT --to-ports 65535',
] as const;

/** KUBE_NAT with the guard: chains declared, entry jump first in PREROUTING, rules before COMMIT. */
export function withGuard(dump: string = KUBE_NAT): string {
  return dump
    .replace(':KUBE-', ':NPG-PREROUTING - [0:0]\n:NPG-TCP-30001 - [0:0]\n:KUBE-')
    .replace(/^(-A PREROUTING )/m, `${GUARD_LINES[0]}\n$1`)
    .replace(/^COMMIT$/m, `${GUARD_LINES.slice(1).join('\n')}\nCOMMIT`);
}

/** tcp/30001 guarded (enforce, blackhole 65535), allowing `cidrs` with `label` on each. */
export function policyAllowing(cidrs: readonly string[] = ['198.18.100.10'], label?: string): Policy {
  return {
    nodePorts: [
      {
        port: 30001,
        protocol: 'tcp',
        mode: 'enforce',
        blackholePort: 65535,
        allow: cidrs.map((cidr) => ({ cidr, ...(label ? { label } : {}) })),
      },
    ],
  };
}

/** A node's full read whose IPv4 nat table is `v4` (nft backend), as the read script prints it. */
export function snapshotOf(
  node: string,
  v4: string,
  extra = '',
  prefer: GuardBackend = 'iptables',
): NodeSnapshot {
  const text = `%%npg kube-backend nft\n%%npg begin v4\n${v4}\n%%npg end v4 0\n${extra}`;
  const r = snapshotFromOutput(node, parseScriptOutput(text), 'full', '', prefer);
  if (!r.ok) throw new Error(r.message);
  return r.snapshot;
}

/** `nft -j list table inet nodeport-guard`'s answer where there is no such table (exit 1). */
export const NFT_NO_TABLE =
  'Error: No such file or directory\nlist table inet nodeport-guard\n                ^^^^^^^^^^^^^^';

/** A plan read of a node in kube-proxy's nftables mode (iptables holds no kube-proxy rule). */
export function nftModeSnapshotOf(node: string, guard = { body: NFT_NO_TABLE, rc: 1 }): NodeSnapshot {
  const text = [
    '%%npg kube-backend default',
    '%%npg begin v4',
    '-P PREROUTING ACCEPT -c 0 0',
    '%%npg end v4 0',
    '%%npg chains.v4 PREROUTING NPG-PREROUTING',
    '%%npg kube-proxy-nftables yes',
    '%%npg nft-guard read',
    '%%npg begin nft.guard',
    guard.body,
    `%%npg end nft.guard ${guard.rc}`,
    '',
  ].join('\n');
  const r = snapshotFromOutput(node, parseScriptOutput(text), 'plan');
  if (!r.ok) throw new Error(r.message);
  return r.snapshot;
}

/** CHANGE_SCRIPT's stdin (changeBundle) back into its files, by name. */
export function bundleFiles(bundle: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const part of bundle.split(/^%%npg file /m).slice(1)) {
    const nl = part.indexOf('\n');
    files.set(part.slice(0, nl), part.slice(nl + 1));
  }
  return files;
}
