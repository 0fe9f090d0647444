// kube-proxy builds restore input as space-joined words, with comments that contain spaces
// pre-quoted by the caller (proxyutil.LineBuffer). Same here, so the text matches byte for byte.

export type Word = string | readonly string[];

export class LineBuffer {
  readonly lines: string[] = [];

  write(...words: Word[]): void {
    this.lines.push(words.flat().join(' '));
  }
}

/** `:CHAIN - [0:0]` (utiliptables.MakeChainLine). */
export function chainLine(chain: string): string {
  return `:${chain} - [0:0]`;
}

/** kube-proxy quotes comments itself when they contain spaces: `"ns/svc:p cluster IP"`. */
export function quoted(text: string): string {
  return `"${text}"`;
}

/** fmt.Sprintf("%0.10f", 1/n): 3 -> 0.3333333333 (iptables-save later shows 0.33333333349). */
export function probability(n: number): string {
  return (1 / n).toFixed(10);
}

/** fmt.Sprintf("%#08x", 1<<bit) is e.g. 0x004000; kube-proxy's tests and most dumps read 0x4000. */
export function markHex(bit: number): string {
  return `0x${(1 << bit).toString(16)}`;
}

export function hostCidr(ip: string): string {
  return ip.includes(':') ? `${ip}/128` : `${ip}/32`;
}
