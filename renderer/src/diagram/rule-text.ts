// Reading iptables-save rule text, as far as the diagram needs: where a rule jumps, and whether two
// texts are the same rule.

/** `-j TARGET` / `-g TARGET` of an iptables-save rule. */
export function jumpTarget(rule: string | undefined): string | undefined {
  if (!rule) return undefined;
  return /(?:^|\s)(?:-j|-g|--jump|--goto)\s+(\S+)/.exec(rule)?.[1];
}

/** Rule texts compare equal whatever their spacing and counters prefix (`[12:345]`). */
export function sameRule(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const norm = (s: string) =>
    s
      .replace(/^\s*\[\d+:\d+\]\s*/, '')
      .replace(/\s+/g, ' ')
      .trim();
  return norm(a) === norm(b);
}
