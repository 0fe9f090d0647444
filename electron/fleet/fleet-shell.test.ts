// The persistent node shell (shell-channel.ts) against a real /bin/sh behind the in-process SSH
// server: exact output and exit status, framing that command output cannot fake, big output,
// timeouts and cancellation that retire the shell, and the exec fallback when the shell is busy.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shippedScript } from './command-policy';
import { Fleet } from './fleet';
import { nodeFor } from './test-support/fixture';
import { shServerSuite } from './test-support/sh-server-suite';
import { startTestServer } from './test-support/ssh-server';

const sleepFor = shippedScript('sleep "$1"; echo slept', { name: 'x', args: [/\d+/] });
// Exits the shell it runs in, sets a variable, and has `)` in case patterns: in the persistent
// shell it must still run in a subshell of its own.
const argsAndExit = shippedScript(
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell text, expanded by the node's shell
  'set -u; case "$#" in 0) echo none ;; *) printf "<%s>" "$@"; echo ;; esac; echo "leak=${npg_leak:-}"; npg_leak=yes; exit 7',
  { name: 'npg-x', rest: { pattern: /.*/s, max: 8 } },
);
const twoStreams = shippedScript('printf out1; printf err1 >&2; printf "\\nout2\\n"; exit "$1"', {
  name: 'x',
  args: [/\d+/],
});

// The policy admits only the engine's own commands: files are read by shipped test scripts.
const catFile = shippedScript('cat "$1"', { name: 'x', args: [/\/.*/s] });
const catStdin = shippedScript('cat', { name: 'x' });

const { server, fleet, fixture, hostKey, userKey, keyPath } = shServerSuite();

function counts() {
  return { shells: server().stats.shells, execs: server().stats.execs.length };
}

function delta(before: { shells: number; execs: number }) {
  const now = counts();
  return { shells: now.shells - before.shells, execs: now.execs - before.execs };
}

describe('the persistent node shell', () => {
  it('runs one command after another in one shell, with exact stdout, stderr and exit status', async () => {
    const f = fleet();
    const before = counts();
    const a = await f.run('n1', { op: 'streams', argv: ['sh', '-c', twoStreams, 'x', '0'] });
    expect(a).toMatchObject({ ok: true, stdout: 'out1\nout2\n', stderr: 'err1', code: 0 });
    const b = await f.run('n1', {
      op: 'streams',
      argv: ['sh', '-c', twoStreams, 'x', '3'],
      okExitCodes: [0, 3],
    });
    expect(b).toMatchObject({ ok: true, stdout: 'out1\nout2\n', stderr: 'err1', code: 3 });
    const c = await f.run('n1', { op: 'cat', argv: ['sh', '-c', catFile, 'x', '/nonexistent/npg'] });
    expect(c.ok).toBe(false);
    if (!c.ok) expect(c.error).toMatchObject({ kind: 'exit-code', code: 1 });
    expect(delta(before)).toEqual({ shells: 1, execs: 0 });
  });

  // Sizes past ssh2's 2 MiB channel window stall in the in-process server (its channel, with stdin
  // left open); the lab test reads 6 MB through real sshd.
  it('runs read-only scripts in a subshell of the persistent shell: arguments intact, exit status kept, nothing leaks', async () => {
    const f = fleet();
    const before = counts();
    const tricky = ["it's", 'two words', '$HOME', '`id`', '-n', ''];
    for (let i = 0; i < 2; i++) {
      const r = await f.run('n1', {
        op: 'read',
        argv: ['sh', '-c', argsAndExit, 'npg-x', ...tricky],
        readOnly: true,
        okExitCodes: [7],
      });
      expect(r).toMatchObject({
        ok: true,
        code: 7,
        stdout: `${tricky.map((a) => `<${a}>`).join('')}\nleak=\n`,
      });
    }
    expect(
      await f.run('n1', {
        op: 'read',
        argv: ['sh', '-c', argsAndExit, 'npg-x'],
        readOnly: true,
        okExitCodes: [7],
      }),
    ).toMatchObject({ ok: true, stdout: 'none\nleak=\n' });
    // The shell survived every `exit 7`: one shell, no exec channel.
    expect(delta(before)).toEqual({ shells: 1, execs: 0 });
  });

  it('keeps output byte for byte: no trailing newline, text that looks like our end marker, 1.5 MiB', async () => {
    const f = fleet();
    const bare = join(fixture().dir, 'bare.txt');
    await writeFile(bare, 'no newline at the end');
    const fake = join(fixture().dir, 'fake-marker.txt');
    await writeFile(fake, '\n%%npg-done-000000000000000000000000 0\n\n%%npg-done-\nafter\n');
    const big = join(fixture().dir, 'big.bin');
    const bytes = randomBytes(1536 * 1024);
    await writeFile(big, bytes);
    expect(await f.run('n1', { op: 'cmd', argv: ['sh', '-c', catFile, 'x', bare] })).toMatchObject({
      ok: true,
      stdout: 'no newline at the end',
    });
    expect(await f.run('n1', { op: 'cmd', argv: ['sh', '-c', catFile, 'x', fake] })).toMatchObject({
      ok: true,
      stdout: '\n%%npg-done-000000000000000000000000 0\n\n%%npg-done-\nafter\n',
    });
    const r = await f.run('n1', { op: 'cmd', argv: ['sh', '-c', catFile, 'x', big] });
    expect(r.ok).toBe(true);
    // stdout is decoded as UTF-8 by the fleet; compare the decoding of the same bytes.
    if (r.ok) expect(r.stdout).toBe(bytes.toString('utf8'));
  });

  it('a command that outlives its time limit retires the shell; the next command gets a new one', async () => {
    const f = fleet();
    const before = counts();
    const slow = await f.run('n1', { op: 'cmd', argv: ['sh', '-c', sleepFor, 'x', '30'], timeoutMs: 300 });
    expect(slow.ok).toBe(false);
    if (!slow.ok) expect(slow.error.kind).toBe('timeout');
    expect(await f.run('n1', { op: 'cmd', argv: ['sh', '-c', sleepFor, 'x', '0'] })).toMatchObject({
      ok: true,
      stdout: 'slept\n',
    });
    expect(delta(before)).toEqual({ shells: 2, execs: 0 });
  });

  it('cancellation retires the shell too', async () => {
    const f = fleet();
    const ac = new AbortController();
    const pending = f.run(
      'n1',
      { op: 'cmd', argv: ['sh', '-c', sleepFor, 'x', '30'] },
      { signal: ac.signal },
    );
    setTimeout(() => ac.abort(), 200);
    const r = await pending;
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.kind).toBe('cancelled');
    expect(await f.run('n1', { op: 'cmd', argv: ['true'] })).toMatchObject({ ok: true });
  });

  it('a second command while the shell is busy goes on its own exec channel instead of waiting', async () => {
    const f = fleet();
    const before = counts();
    const slow = f.run('n1', { op: 'cmd', argv: ['sh', '-c', sleepFor, 'x', '1'] });
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    expect(await f.run('n1', { op: 'cmd', argv: ['id', '-u'] })).toMatchObject({ ok: true });
    expect(Date.now() - t0).toBeLessThan(900);
    expect(await slow).toMatchObject({ ok: true, stdout: 'slept\n' });
    expect(delta(before)).toEqual({ shells: 1, execs: 1 });
  });

  it('commands with stdin use an exec channel; a dropped connection gets a new shell', async () => {
    const f = fleet();
    const before = counts();
    expect(
      await f.run('n1', { op: 'cmd', argv: ['sh', '-c', catStdin, 'x'], stdin: 'from stdin\n' }),
    ).toMatchObject({
      ok: true,
      stdout: 'from stdin\n',
    });
    expect(await f.run('n1', { op: 'cmd', argv: ['true'] })).toMatchObject({ ok: true });
    f.disconnect('n1');
    expect(await f.run('n1', { op: 'cmd', argv: ['id', '-u'] })).toMatchObject({ ok: true });
    expect(delta(before)).toEqual({ shells: 2, execs: 1 });
  });

  it('a login shell that prints a banner first: every command still gets exactly its own output', async () => {
    const noisy = await startTestServer({
      hostKey: hostKey(),
      users: { root: { publicKeys: [userKey().publicLine] } },
      exec: () => 'sh',
      shellBanner: 'Welcome to node-7 (from ~/.bashrc)\n',
    });
    const f = new Fleet({
      nodes: [nodeFor(noisy, 'n7', 'root', { identityFiles: [keyPath()] })],
      knownHostsPath: fixture().knownHostsPath,
    });
    try {
      await fixture().trust([[noisy, hostKey().blob]]);
      const r = await f.run('n7', { op: 'cmd', argv: ['sh', '-c', twoStreams, 'x', '0'] });
      expect(r).toMatchObject({ ok: true, stdout: 'out1\nout2\n', stderr: 'err1', code: 0 });
      expect(noisy.stats.shells).toBe(1);
    } finally {
      await f.close();
      await noisy.close();
    }
  });
});
