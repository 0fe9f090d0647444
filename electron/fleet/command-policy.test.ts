import { describe, expect, it } from 'vitest';
import { checkArgv, MAX_COMMAND_CHARS, shippedScript } from './command-policy';

const restoreScript = shippedScript('exec iptables-restore -w --noflush < "$1"');

describe('checkArgv', () => {
  it('accepts the commands the engine uses', () => {
    expect(checkArgv(['iptables-save', '-t', 'nat'])).toEqual({ ok: true });
    expect(checkArgv(['ip6tables-restore', '-w', '--noflush'])).toEqual({ ok: true });
    expect(checkArgv(['ss', '-Hltn'])).toEqual({ ok: true });
  });

  it('refuses unknown commands, sudo, empty argv, NUL and non-strings', () => {
    expect(checkArgv(['rm', '-rf', '/'])).toMatchObject({ ok: false, reason: 'command not allowed: "rm"' });
    expect(checkArgv(['sudo', 'iptables-save'])).toMatchObject({ ok: false, reason: /added by the fleet/ });
    expect(checkArgv([])).toMatchObject({ ok: false });
    expect(checkArgv(['iptables-save', 'a\0b'])).toMatchObject({ ok: false, reason: /NUL/ });
    expect(checkArgv(['iptables-save', 5])).toMatchObject({ ok: false, reason: /not a string/ });
    expect(checkArgv(['/usr/sbin/iptables-save'])).toMatchObject({ ok: false });
  });

  it('refuses command text too long for one packet', () => {
    expect(checkArgv(['cat', 'x'.repeat(MAX_COMMAND_CHARS)])).toMatchObject({ ok: false, reason: /stdin/ });
  });

  it('lets sh run only scripts that ship with us', () => {
    expect(checkArgv(['sh', '-c', restoreScript, 'npg', '/tmp/x'])).toEqual({ ok: true });
    expect(checkArgv(['sh', '-eu', '-c', restoreScript])).toEqual({ ok: true });
    expect(checkArgv(['sh', '-c', 'rm -rf /'])).toMatchObject({ ok: false, reason: /ship/ });
    expect(checkArgv(['sh', '-s'])).toMatchObject({ ok: false });
    expect(checkArgv(['sh', '/tmp/evil.sh'])).toMatchObject({ ok: false });
  });

  it('checks the command that flock and systemd-run start', () => {
    expect(checkArgv(['flock', '-w', '10', '/run/npg.lock', 'iptables-restore', '--noflush'])).toEqual({
      ok: true,
    });
    expect(checkArgv(['flock', '--timeout=10', '-x', '/run/npg.lock', 'true'])).toEqual({ ok: true });
    expect(checkArgv(['flock', '/run/npg.lock', 'rm', 'x'])).toMatchObject({ ok: false, reason: /"rm"/ });
    expect(checkArgv(['flock', '/run/npg.lock', '-c', 'rm x'])).toMatchObject({ ok: false });
    expect(checkArgv(['flock', '-c', 'rm x', '/run/npg.lock'])).toMatchObject({ ok: false, reason: /-c/ });
    expect(checkArgv(['flock', 'relative.lock', 'true'])).toMatchObject({ ok: false, reason: /absolute/ });
    expect(checkArgv(['flock', '/run/npg.lock'])).toMatchObject({ ok: false });
    expect(
      checkArgv([
        'systemd-run',
        '--unit=npg-confirm',
        '--on-active=60',
        '-q',
        'sh',
        '-c',
        restoreScript,
        'npg',
        'f',
      ]),
    ).toEqual({ ok: true });
    expect(checkArgv(['systemd-run', '-p', 'X=1', 'true'])).toMatchObject({
      ok: false,
      reason: /--name=value/,
    });
    expect(checkArgv(['systemd-run', '--unit=x', 'bash', '-c', 'id'])).toMatchObject({
      ok: false,
      reason: /"bash"/,
    });
    expect(checkArgv(['systemd-run', '--unit=x', 'sudo', 'true'])).toMatchObject({ ok: false });
  });
});
