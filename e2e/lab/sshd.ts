// OpenSSH on every lab node: its own sshd on the node address with its own host key, one lab key
// for root and the two test users (one with password-less sudo, one without). Host keys go into
// known_hosts, so clients check them for real.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { LAB_USERS, PRIVSEP_DIR, paths, SUDOERS_FILE } from './state';
import { run, runRaw } from './sys/exec';
import { isAlive, startDaemon, stopPid, waitFor } from './sys/processes';
import type { LabNode } from './topology';

const SSHD = '/usr/sbin/sshd';
const STD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

async function fileExists(path: string): Promise<boolean> {
  try {
    await readFile(path);
    return true;
  } catch {
    return false;
  }
}

async function keygen(file: string, comment: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o755 });
  if (await fileExists(file)) return;
  await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}

/**
 * The two test users. Users live in the shared /etc/passwd (namespaces do not separate them).
 * Password field `*`: no password login, but not "locked", so sshd accepts their keys.
 */
export async function ensureUsers(): Promise<void> {
  for (const user of [LAB_USERS.sudo, LAB_USERS.nosudo]) {
    if ((await runRaw(['id', '-u', user])).code === 0) continue;
    await run([
      'useradd',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/bin/sh',
      '--password',
      '*',
      user,
    ]);
  }
  // !secure_path: sudo keeps the session's PATH, which sshd sets per node (see sshdConfig), so
  // a node's restore-fail shim also catches `sudo iptables-restore`.
  const sudoers = `# NodePort Guard lab (e2e/lab); removed by lab:down\n${LAB_USERS.sudo} ALL=(ALL:ALL) NOPASSWD: ALL\nDefaults:${LAB_USERS.sudo} !secure_path\n`;
  const tmp = `${SUDOERS_FILE}.tmp`;
  await writeFile(tmp, sudoers, { mode: 0o440 });
  await run(['visudo', '-c', '-q', '-f', tmp]);
  await run(['mv', '-f', tmp, SUDOERS_FILE]);
}

export async function removeUsers(): Promise<void> {
  await rm(SUDOERS_FILE, { force: true });
  await rm(`${SUDOERS_FILE}.tmp`, { force: true });
  for (const user of [LAB_USERS.sudo, LAB_USERS.nosudo]) {
    if ((await runRaw(['id', '-u', user])).code === 0) await runRaw(['userdel', user]);
  }
}

/** The lab key (root and both users accept it). */
export async function ensureLabKey(): Promise<string> {
  await keygen(paths.labKey, 'npg-lab');
  const pub = await readFile(`${paths.labKey}.pub`, 'utf8');
  await mkdir(paths.authorizedKeysDir, { recursive: true, mode: 0o755 });
  for (const user of ['root', LAB_USERS.sudo, LAB_USERS.nosudo]) {
    await writeFile(`${paths.authorizedKeysDir}/${user}`, pub, { mode: 0o644 });
  }
  return pub.trim();
}

/** Returns `true` when the directory had to be created (then `down` removes it). */
export async function ensurePrivsepDir(): Promise<boolean> {
  try {
    await mkdir(PRIVSEP_DIR, { mode: 0o755 });
    return true;
  } catch {
    return false;
  }
}

export function sshdConfig(node: LabNode): string {
  const listen = [`ListenAddress ${node.ipv4}:22`];
  if (node.ipv6) listen.push(`ListenAddress [${node.ipv6}]:22`);
  return `${[
    `# sshd of lab ${node.name} (${node.netns}); written by e2e/lab/sshd.ts`,
    ...listen,
    `HostKey ${paths.hostKey(node.name)}`,
    `PidFile ${paths.sshdPid(node.name)}`,
    `AuthorizedKeysFile ${paths.authorizedKeysDir}/%u`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes yes',
    `AllowUsers root ${LAB_USERS.sudo} ${LAB_USERS.nosudo}`,
    // The node's own bin dir first: empty, unless `lab fault restore-fail` put a shim there.
    `SetEnv PATH=${paths.nodeBin(node.name)}:${STD_PATH}`,
    'MaxStartups 100:30:200',
    'MaxSessions 64',
    'ClientAliveInterval 0',
    'LogLevel VERBOSE',
    'Subsystem sftp internal-sftp',
  ].join('\n')}\n`;
}

export async function prepareNodeSshd(node: LabNode): Promise<string> {
  await mkdir(paths.nodeBin(node.name), { recursive: true, mode: 0o755 });
  await mkdir(paths.nodeRootHome(node.name), { recursive: true, mode: 0o700 });
  await keygen(paths.hostKey(node.name), `${node.name}-host`);
  await writeFile(paths.sshdConfig(node.name), sshdConfig(node), { mode: 0o644 });
  await run([SSHD, '-t', '-f', paths.sshdConfig(node.name)]);
  return (await readFile(`${paths.hostKey(node.name)}.pub`, 'utf8')).trim();
}

/** Reads the SSH banner from the node's port 22 (from the root namespace, over the bridge). */
export function sshBanner(host: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port: 22, timeout: timeoutMs });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.once('data', (d) => done(d.toString('latin1').startsWith('SSH-')));
    sock.once('timeout', () => done(false));
    sock.once('error', () => done(false));
  });
}

export async function startSshd(node: LabNode): Promise<number> {
  // Each node gets its own (empty) /root, as real nodes have: the machine's /root/.bashrc (here it
  // runs `pyenv init`, ~3.5 s) would otherwise run for every command sshd starts as root, since
  // bash sources ~/.bashrc for ssh commands. A private mount namespace keeps it to this sshd.
  const pid = await startDaemon(
    node.netns,
    [
      'unshare',
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      'mount --bind "$1" /root && exec "$2" -D -e -f "$3"',
      'sh',
      paths.nodeRootHome(node.name),
      SSHD,
      paths.sshdConfig(node.name),
    ],
    paths.sshdLog(node.name),
  );
  await waitFor(`sshd of ${node.name} on ${node.ipv4}:22`, () => sshBanner(node.ipv4), 5000, 50);
  return pid;
}

export async function stopSshd(pid: number | undefined): Promise<void> {
  if (pid !== undefined) await stopPid(pid, paths.root);
}

export async function sshdRunning(pid: number | undefined): Promise<boolean> {
  return pid !== undefined && (await isAlive(pid, paths.root));
}

/** known_hosts: one line per node address, with that node's host key. */
export function knownHostsText(entries: readonly { node: LabNode; hostKey: string }[]): string {
  const lines: string[] = [];
  for (const { node, hostKey } of entries) {
    const key = hostKey.split(' ').slice(0, 2).join(' ');
    lines.push(`${node.ipv4} ${key}`);
    if (node.ipv6) lines.push(`${node.ipv6} ${key}`);
  }
  return `${lines.join('\n')}\n`;
}
