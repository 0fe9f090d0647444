import { describe, expect, it } from 'vitest';
import { classifySudoFailure, commandText, shellCommandText } from './sudo';

describe('sudo wrapping', () => {
  it('puts the node-side deadline outside sudo -n --, and sudo only when asked', () => {
    expect(commandText(['iptables-save', '-t', 'nat'], true, 120_000)).toBe(
      'LC_ALL=C timeout -k 5 120 sudo -n -- iptables-save -t nat',
    );
    expect(commandText(['id', '-u'], false, 1500)).toBe('LC_ALL=C timeout -k 5 2 id -u');
    expect(commandText(['true'], false, 10)).toBe('LC_ALL=C timeout -k 5 1 true');
    expect(commandText(['cat', "it's"], true, 1000)).toBe(
      "LC_ALL=C timeout -k 5 1 sudo -n -- cat 'it'\\''s'",
    );
  });

  it('leaves the deadline out for reads, and runs unprivileged shipped scripts in a subshell of the persistent shell', () => {
    expect(commandText(['iptables-save', '-t', 'nat'], true, undefined)).toBe(
      'LC_ALL=C sudo -n -- iptables-save -t nat',
    );
    expect(shellCommandText(['sh', '-c', 'echo "$1$#"', 'npg-x', "a'b", 'c'], false, undefined)).toBe(
      `(LC_ALL=C; export LC_ALL; set -- 'a'\\''b' c; eval 'echo "$1$#"')`,
    );
    expect(shellCommandText(['sh', '-c', 'exit 3', 'npg-x'], false, undefined)).toBe(
      "(LC_ALL=C; export LC_ALL; set -- ; eval 'exit 3')",
    );
    // sudo, a deadline, or anything but a script: the plain command text.
    expect(shellCommandText(['sh', '-c', 'true', 'x'], true, undefined)).toBe(
      'LC_ALL=C sudo -n -- sh -c true x',
    );
    expect(shellCommandText(['sh', '-c', 'true', 'x'], false, 5000)).toBe(
      'LC_ALL=C timeout -k 5 5 sh -c true x',
    );
    expect(shellCommandText(['id', '-u'], false, undefined)).toBe('LC_ALL=C id -u');
  });

  it("maps sudo's refusals, and only those, to a reason", () => {
    expect(classifySudoFailure(1, 'sudo: a password is required\n')).toBe('password-required');
    expect(classifySudoFailure(1, 'sudo: a terminal is required to read the password; either use...')).toBe(
      'no-tty',
    );
    expect(classifySudoFailure(1, 'sudo: sorry, you must have a tty to run sudo\n')).toBe('no-tty');
    expect(classifySudoFailure(1, 'bob is not in the sudoers file.  This incident will be reported.\n')).toBe(
      'not-allowed',
    );
    expect(
      classifySudoFailure(
        1,
        "Sorry, user bob is not allowed to execute '/usr/sbin/iptables-save' as root on n1.\n",
      ),
    ).toBe('not-allowed');
    expect(classifySudoFailure(127, 'sh: 1: sudo: not found\n')).toBe('sudo-missing');
    expect(classifySudoFailure(1, 'iptables-restore: line 3 failed\n')).toBeUndefined();
    expect(classifySudoFailure(2, 'sudo: a password is required\n')).toBeUndefined();
    expect(classifySudoFailure(0, '')).toBeUndefined();
  });
});
