// Each node's own sshd with its own host key (checked against the lab's known_hosts), the three
// accounts, and the fault switches. Every test switches its fault back off.
import { beforeAll, describe, expect, it } from 'vitest';
import { currentLab, fault, type LabNode, type LabTopology, paths, probeLab } from './lab';
import { runRaw } from './sys/exec';

let topo: LabTopology;
beforeAll(async () => {
  topo = await currentLab();
});

/** The system OpenSSH client, strict about host keys, with the lab key only. */
function ssh(user: string, node: LabNode, command: string, input?: string, timeoutMs = 10_000) {
  return runRaw(
    [
      'ssh',
      '-F',
      '/dev/null',
      '-o',
      'BatchMode=yes',
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `UserKnownHostsFile=${paths.knownHosts}`,
      '-o',
      'ConnectTimeout=3',
      '-i',
      paths.labKey,
      `${user}@${node.ipv4}`,
      command,
    ],
    { timeoutMs, ...(input !== undefined ? { input } : {}) },
  );
}

describe('sshd per node', () => {
  it('lets root in with the lab key and a verified host key, into that node’s namespace', async () => {
    for (const node of topo.nodes) {
      const r = await ssh('root', node, 'ip -o -4 addr show dev eth0');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`${node.ipv4}/16`);
    }
  });

  it('rejects a host key that does not match (known_hosts is real)', async () => {
    const [a, b] = topo.nodes;
    if (!a || !b) return;
    // Ask for node b under node a's address in known_hosts terms: use HostKeyAlias to swap.
    const r = await runRaw([
      'ssh',
      '-F',
      '/dev/null',
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `UserKnownHostsFile=${paths.knownHosts}`,
      '-o',
      `HostKeyAlias=${a.ipv4}`,
      '-i',
      paths.labKey,
      `root@${b.ipv4}`,
      'true',
    ]);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
  });

  it('has a user with password-less sudo and one without sudo', async () => {
    const node = topo.nodes[0]!;
    const withSudo = await ssh('npglab-sudo', node, 'sudo -n iptables -t nat -S PREROUTING');
    expect(withSudo.code, withSudo.stderr).toBe(0);
    // The chain's policy line: there in every kube-proxy mode (nftables mode leaves PREROUTING empty).
    expect(withSudo.stdout).toContain('-P PREROUTING ACCEPT');
    const noSudo = await ssh('npglab-nosudo', node, 'sudo -n iptables -t nat -S PREROUTING');
    expect(noSudo.code).not.toBe(0);
    expect(noSudo.stderr).toMatch(/password is required|not in the sudoers|may not run sudo/);
    const plain = await ssh('npglab-nosudo', node, 'iptables -t nat -S PREROUTING');
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toMatch(/Permission denied|must be root/);
  });
});

describe('faults', () => {
  it('sshd-stop refuses connections until sshd-start', async () => {
    const node = topo.nodes[1]!;
    await fault('sshd-stop', node.name);
    try {
      const r = await ssh('root', node, 'true');
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/Connection refused/);
    } finally {
      await fault('sshd-start', node.name);
    }
    expect((await ssh('root', node, 'true')).code).toBe(0);
  });

  it('cut makes the node unreachable (ssh and NodePorts) until uncut', async () => {
    const node = topo.nodes[2]!;
    await fault('cut', node.name);
    try {
      expect((await ssh('root', node, 'true', undefined, 8000)).code).toBe(255);
      const r = await probeLab({
        from: topo.clients[0]!.ipv4[0]!,
        node: node.name,
        port: 30001,
        timeoutMs: 800,
      });
      expect(r.outcome).toBe('timeout');
    } finally {
      await fault('uncut', node.name);
    }
    expect((await ssh('root', node, 'true')).code).toBe(0);
  });

  it('restore-fail makes iptables-restore fail for root and sudo sessions on that node only', async () => {
    const [node, other] = topo.nodes;
    if (!node || !other) return;
    const input = '*nat\nCOMMIT\n';
    await fault('restore-fail', node.name);
    try {
      const root = await ssh('root', node, 'iptables-restore --noflush', input);
      expect(root.code).not.toBe(0);
      expect(root.stderr).toContain('restore-fail');
      const sudo = await ssh('npglab-sudo', node, 'sudo -n iptables-restore --noflush', input);
      expect(sudo.code).not.toBe(0);
      expect((await ssh('root', other, 'iptables-restore --noflush', input)).code).toBe(0);
    } finally {
      await fault('restore-ok', node.name);
    }
    expect((await ssh('root', node, 'iptables-restore --noflush', input)).code).toBe(0);
  });
});
