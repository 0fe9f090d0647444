import { describe, expect, it } from 'vitest';
import { nftAnswerLength, nftListRequest } from './nft-resident';

// What interactive nft printed on stdout on a lab node for two list requests and the end request.
const ANSWER = [
  'table ip nat {',
  '\tchain PREROUTING { # handle 1',
  '\t\ttype nat hook prerouting priority dstnat; policy accept;',
  '\t\t counter packets 7 bytes 420 jump NPG-PREROUTING # handle 192',
  '\t\t counter packets 10 bytes 600 jump KUBE-SERVICES # handle 56',
  '\t}',
  '}',
  'table ip6 nat {',
  '\tchain NPG-TCP-30001 { # handle 131',
  '\t\tip6 saddr 2001:2:0:100::10  counter packets 0 bytes 0 return # handle 134',
  '\t\tmeta l4proto tcp  counter packets 0 bytes 0 redirect to :65535 # handle 135',
  '\t}',
  '}',
  '',
].join('\n');
const END = 'payload expression, datatype ipv4_addr (IPv4 address) (basetype integer), 32 bits\n';

describe('the resident nft framing', () => {
  it('ends the answer at the describe line, only once that line has arrived whole', () => {
    const all = Buffer.from(ANSWER + END);
    expect(nftAnswerLength(all)).toBe(ANSWER.length);
    // Every shorter prefix (output arrives in chunks) is not an answer yet.
    for (let n = 0; n < all.length; n++) expect(nftAnswerLength(all.subarray(0, n))).toBeUndefined();
    // An empty answer (every chain missing: nft's errors go to stderr).
    expect(nftAnswerLength(Buffer.from(END))).toBe(0);
    // The text inside a line is not the end.
    expect(nftAnswerLength(Buffer.from(`x ${END}`))).toBeUndefined();
  });

  it('told where the new bytes begin, finds the same end for every way the output is cut', () => {
    // A long answer in chunks of every size: searching from just before the new bytes must agree
    // with searching the whole, including a describe line split across chunks.
    const all = Buffer.from(ANSWER.repeat(40) + END);
    for (const size of [1, 7, 64, 300, 4096]) {
      let found: number | undefined;
      for (let from = 0; from < all.length && found === undefined; from += size) {
        const upTo = Math.min(all.length, from + size);
        found = nftAnswerLength(all.subarray(0, upTo), '', from);
        if (upTo < all.length) expect(found, `chunks of ${size}, at ${upTo}`).toBeUndefined();
      }
      expect(found, `chunks of ${size}`).toBe(ANSWER.length * 40);
    }
  });

  it('lists our chains only: a name that could carry another nft command is refused', () => {
    expect(nftListRequest('ip', ['PREROUTING', 'NPG-PREROUTING'])).toBe(
      'list chain ip nat PREROUTING\nlist chain ip nat NPG-PREROUTING\n',
    );
    expect(nftListRequest('ip6', ['NPG-TCP-30001'])).toBe('list chain ip6 nat NPG-TCP-30001\n');
    for (const bad of ['KUBE-SERVICES', 'NPG-X\nflush ruleset', 'NPG-X; flush ruleset', 'npg-x'])
      expect(() => nftListRequest('ip', [bad]), bad).toThrow(/not a chain of ours/);
  });
});
