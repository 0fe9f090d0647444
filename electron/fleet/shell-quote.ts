// The one function that turns an argv into text for the remote POSIX shell. sshd hands the exec
// request to the user's login shell as `$SHELL -c TEXT`, so every argument must survive one round
// of POSIX shell parsing unchanged. Single quotes are the only quoting in which no character is
// special; a single quote itself is written as '\'' (close, escaped quote, reopen).

/** Characters that need no quoting anywhere in a word (no globbing, expansion, or assignment). */
const BARE_SAFE = /^[A-Za-z0-9_@%+:,./-]+$/;

/** Quotes one argument so that a POSIX shell reads it back as exactly this string. */
export function quoteShellArg(arg: string): string {
  if (arg.includes('\0')) {
    // A NUL cannot travel in a C string argv; callers validate first, this is the last line.
    throw new RangeError('shell argument contains NUL');
  }
  if (BARE_SAFE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Quotes every argument and joins them with spaces: the text of one simple command. */
export function quoteShellArgv(argv: readonly string[]): string {
  return argv.map(quoteShellArg).join(' ');
}
