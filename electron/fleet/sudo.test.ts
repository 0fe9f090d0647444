import { describe, expect, it } from 'vitest';
import { classifySudoFailure, commandText } from './sudo';

describe('sudo wrapping', () => {
  it('prefixes sudo -n -- only when asked, after LC_ALL=C', () => {
    expect(commandText(['iptables-save', '-t', 'nat'], true)).toBe(
      'LC_ALL=C sudo -n -- iptables-save -t nat',
    );
    expect(commandText(['id', '-u'], false)).toBe('LC_ALL=C id -u');
    expect(commandText(['cat', "it's"], true)).toBe(`LC_ALL=C sudo -n -- cat 'it'\\''s'`);
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
