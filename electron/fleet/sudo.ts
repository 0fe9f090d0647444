// Commands for non-root users go through `sudo -n` (never a password prompt: there is no terminal
// and no one to type). sudo's refusals arrive as exit status 1 with a message on stderr; those
// messages are mapped to a typed sudo-denied error, anything else stays the command's own result.
// LC_ALL=C keeps sudo's messages (and the tools' output) in the untranslated form we parse.
import { quoteShellArgv } from './shell-quote';

/** The full command text for the remote shell. argv must already have passed checkArgv. */
export function commandText(argv: readonly string[], sudo: boolean): string {
  return `LC_ALL=C ${sudo ? 'sudo -n -- ' : ''}${quoteShellArgv(argv)}`;
}

export type SudoDenial = 'password-required' | 'not-allowed' | 'no-tty' | 'sudo-missing';

/** Whether a failed command's status and stderr are sudo refusing, and why. */
export function classifySudoFailure(code: number | null, stderr: string): SudoDenial | undefined {
  if (code === 127 && /(^|\s)sudo: (command )?not found|sudo: No such file/m.test(stderr))
    return 'sudo-missing';
  if (code !== 1) return undefined;
  if (/^sudo: (a password is required|no password was provided)/m.test(stderr)) return 'password-required';
  if (/^sudo: (sorry, )?you must have a tty|^sudo: a terminal is required/im.test(stderr)) return 'no-tty';
  if (
    /is not in the sudoers file|^Sorry, user \S+ (is not allowed to execute|may not run sudo)|^sudo: account validation failure/m.test(
      stderr,
    )
  ) {
    return 'not-allowed';
  }
  return undefined;
}
