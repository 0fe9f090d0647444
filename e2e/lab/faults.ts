// Fault switches for tests: stop/start a node's sshd, cut a node off the lab LAN, make
// iptables-restore fail in that node's ssh sessions (a shim first in the PATH sshd gives them).
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setLinkUp } from './network';
import { sshdRunning, startSshd, stopSshd } from './sshd';
import { paths, readState, updateProcesses } from './state';
import { findNode, labTopology } from './topology';

export const FAULTS = ['sshd-stop', 'sshd-start', 'cut', 'uncut', 'restore-fail', 'restore-ok'] as const;
export type FaultName = (typeof FAULTS)[number];

/** Every name a caller might use for iptables-restore, so the shim catches all of them. */
const RESTORE_NAMES = [
  'iptables-restore',
  'ip6tables-restore',
  'iptables-nft-restore',
  'ip6tables-nft-restore',
  'iptables-legacy-restore',
  'ip6tables-legacy-restore',
];

function shim(name: string, node: string): string {
  return `#!/bin/sh\n# lab fault restore-fail on ${node}; removed by: npm run lab -- fault restore-ok --node ${node}\ncat >/dev/null\necho "${name}: line 1 failed (lab fault restore-fail on ${node})" >&2\nexit 1\n`;
}

export function isFault(name: string): name is FaultName {
  return (FAULTS as readonly string[]).includes(name);
}

export async function fault(name: FaultName, nodeRef: string): Promise<string> {
  const state = await readState();
  if (!state) throw new Error('the lab is not up');
  const topo = labTopology(state.options);
  const node = findNode(topo, nodeRef);
  if (!node) throw new Error(`no lab node ${nodeRef}`);
  const pid = state.processes[node.name]?.sshd;
  switch (name) {
    case 'sshd-stop':
      await stopSshd(pid);
      await updateProcesses(node.name, { sshd: undefined });
      return `${node.name}: sshd stopped`;
    case 'sshd-start': {
      if (await sshdRunning(pid)) return `${node.name}: sshd already running (pid ${pid})`;
      const started = await startSshd(node);
      await updateProcesses(node.name, { sshd: started });
      return `${node.name}: sshd started (pid ${started})`;
    }
    case 'cut':
      await setLinkUp(node.hostLink, false);
      return `${node.name}: cut off (${node.hostLink} down)`;
    case 'uncut':
      await setLinkUp(node.hostLink, true);
      return `${node.name}: reconnected (${node.hostLink} up)`;
    case 'restore-fail':
      for (const n of RESTORE_NAMES)
        await writeFile(join(paths.nodeBin(node.name), n), shim(n, node.name), { mode: 0o755 });
      return `${node.name}: iptables-restore fails in ssh sessions`;
    case 'restore-ok':
      for (const n of RESTORE_NAMES) await rm(join(paths.nodeBin(node.name), n), { force: true });
      return `${node.name}: iptables-restore works again`;
  }
}
