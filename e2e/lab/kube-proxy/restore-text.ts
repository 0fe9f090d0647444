// Turning argv into iptables-restore words: restore splits on blanks and honours double quotes,
// so any argument with a blank or quote is quoted (as iptables-save does for comments).

export function restoreWord(arg: string): string {
  if (arg !== '' && /^[^\s"'\\]+$/.test(arg)) return arg;
  return `"${arg.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function restoreLine(chain: string, args: readonly string[]): string {
  return ['-A', chain, ...args.map(restoreWord)].join(' ');
}
