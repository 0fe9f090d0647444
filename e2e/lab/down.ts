// Tear the lab down completely, with or without a state file (a crashed `up` leaves one
// half-written or none): processes by PID, every npg-* namespace and link, the users, the
// sudoers drop-in and the state directory.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { deleteLink, labLinks } from './network';
import { removeUsers } from './sshd';
import { PRIVSEP_DIR, paths, readState, STATE_DIR } from './state';
import { run } from './sys/exec';
import { deleteNetns, listNetns } from './sys/netns';
import { stopPid } from './sys/processes';
import { NETNS_PREFIX } from './topology';

async function pidsIn(netns: string): Promise<number[]> {
  const out = await run(['ip', 'netns', 'pids', netns]).catch(() => '');
  return out
    .split('\n')
    .map((l) => Number.parseInt(l.trim(), 10))
    .filter((n) => Number.isInteger(n) && n > 1 && n !== process.pid);
}

/** Where the engine keeps a node's saved guard state per network namespace (electron/engine). */
const NODE_STATE_DIR = '/var/lib/nodeport-guard/netns';

export async function labDown(log: (line: string) => void = () => undefined): Promise<void> {
  const state = await readState();
  for (const [node, procs] of Object.entries(state?.processes ?? {})) {
    for (const pid of [procs.sshd, procs.pods]) {
      if (pid === undefined) continue;
      await stopPid(pid, STATE_DIR);
      log(`stopped ${node} pid ${pid}`);
    }
  }
  const namespaces = (await listNetns()).filter((n) => n.startsWith(NETNS_PREFIX));
  for (const ns of namespaces) {
    // Whatever still runs inside a lab namespace is the lab's (e.g. after a crash lost the PIDs).
    for (const pid of await pidsIn(ns)) {
      await stopPid(pid, '', 1000);
      log(`stopped pid ${pid} in ${ns}`);
    }
    await deleteNetns(ns);
    log(`deleted netns ${ns}`);
  }
  for (const link of await labLinks()) {
    await deleteLink(link);
    log(`deleted link ${link}`);
  }
  await removeUsers();
  if (state?.createdPrivsepDir) await rm(PRIVSEP_DIR, { recursive: true, force: true });
  await rm(paths.root, { recursive: true, force: true });
  // What the engine saved on the lab's nodes (per network namespace, since the nodes share one
  // filesystem): a rebuilt lab must not inherit rollback state of the last one.
  for (const ns of await readdir(NODE_STATE_DIR).catch(() => [] as string[])) {
    if (!ns.startsWith(NETNS_PREFIX)) continue;
    await rm(join(NODE_STATE_DIR, ns), { recursive: true, force: true });
    log(`removed saved guard state of ${ns}`);
  }
  log('lab is down');
}
