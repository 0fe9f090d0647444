// How an argv becomes the text sent to the node's login shell, and how sudo's refusals are told
// apart from the command's own failures.
//
// LC_ALL=C keeps sudo's messages (and the tools' output) in the untranslated form we parse.
//
// `timeout -k 5 N` makes the node itself enforce the command's time limit. Closing the channel
// does not stop a command (sshd only hangs up its pipes), and sshd ignores our SIGKILL request for
// root logins (OpenSSH honours "signal" only under post-auth privilege separation, which root
// sessions skip), so without it a command blocked on a lock (iptables-restore -w) could act long
// after we reported it stopped. timeout stands outside sudo so that sudoers rules need name only
// the real commands: timeout sends TERM to sudo, sudo relays it to the command, and KILL follows
// 5 s later. Exit status 124 means the node's deadline hit.
//
// Non-root users go through `sudo -n` (never a password prompt: there is no terminal and no one
// to type); sudo's refusals arrive as exit status 1 with a message on stderr.
import { quoteShellArg, quoteShellArgv } from './shell-quote';

/** Exit status of `timeout` when the deadline hit. */
export const NODE_TIMEOUT_EXIT = 124;

/**
 * The full command text for the remote shell. argv must already have passed checkArgv.
 * `deadlineMs` undefined: no node-side deadline, for commands that only read (RunRequest.readOnly):
 * if we stop waiting, letting them run to their end harms nothing, and `timeout` is one more
 * process per command (~2 ms of CPU on a small VM, on every node of every warm verify).
 */
export function commandText(argv: readonly string[], sudo: boolean, deadlineMs: number | undefined): string {
  const deadline =
    deadlineMs === undefined ? '' : `timeout -k 5 ${Math.max(1, Math.ceil(deadlineMs / 1000))} `;
  return `LC_ALL=C ${deadline}${sudo ? 'sudo -n -- ' : ''}${quoteShellArgv(argv)}`;
}

/**
 * The text for the node's persistent `/bin/sh` (shell-channel.ts). A shipped script without sudo
 * or deadline runs in a subshell of that shell, `eval`'d with its arguments as positional
 * parameters: one fork instead of a fork and an exec of a new `sh`. Only there: the exec channel's
 * login shell may not be a POSIX shell, so it always gets commandText.
 */
export function shellCommandText(
  argv: readonly string[],
  sudo: boolean,
  deadlineMs: number | undefined,
): string {
  if (sudo || deadlineMs !== undefined || argv[0] !== 'sh' || argv[1] !== '-c' || argv[2] === undefined)
    return commandText(argv, sudo, deadlineMs);
  return `(LC_ALL=C; export LC_ALL; set -- ${quoteShellArgv(argv.slice(4))}; eval ${quoteShellArg(argv[2])})`;
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
