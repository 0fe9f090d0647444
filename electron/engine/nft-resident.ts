// Interactive nft kept running on each node for the session (Fleet.ask): verify's repeats list
// our chains through it instead of starting nft every time (~25 ms of CPU to start on a small VM,
// where listing a few chains costs ~1 ms). Pure: the program's framing and the request text.
//
// nft prints nothing of its own between answers, so each request ends with `describe ip saddr`,
// which prints one fixed line on stdout:
//   payload expression, datatype ipv4_addr (IPv4 address) (basetype integer), 32 bits
// and the answer is what came before it. A listing cannot hold that line (its lines are `table`,
// tab-indented chains and rules, and braces), and answers cannot mix up: the fleet asks one
// request at a time and retires a resident it stopped waiting for, so no late answer is ever
// read as the next one. The nonce is not needed (nft has nothing that would echo it on stdout;
// its errors go to stderr, dropped, see NFT_RESIDENT_SCRIPT).
import type { ResidentProgram } from '../fleet/index.js';
import { NFT_RESIDENT_SCRIPT } from './node-scripts.js';

const CHAIN = /^(PREROUTING|NPG-[A-Z0-9-]+)$/;
const END = Buffer.from('payload expression, datatype ipv4_addr');

/** Longer than the whole `describe` line: how far before new bytes its start may lie. */
const END_LINE_MAX = 256;

/** Where the answer ends, once the whole `describe` line has arrived. */
export function nftAnswerLength(output: Buffer, _nonce = '', newFrom = 0): number | undefined {
  for (let from = Math.max(0, newFrom - END_LINE_MAX); ; ) {
    const at = output.indexOf(END, from);
    if (at < 0) return undefined;
    if (at === 0 || output[at - 1] === 0x0a) return output.indexOf(0x0a, at) < 0 ? undefined : at;
    from = at + 1;
  }
}

/**
 * One resident per family: nft 1.0.6 translates an xt target (REDIRECT) for the first family it
 * meets and prints it empty for the other family from then on, in the same process.
 */
function resident(family: 'ip' | 'ip6'): ResidentProgram {
  return {
    name: `nft ${family} (resident)`,
    argv: ['sh', '-c', NFT_RESIDENT_SCRIPT, `npg-nft-${family}`],
    endRequest: () => 'describe ip saddr\n',
    answerLength: nftAnswerLength,
  };
}

export const NFT_RESIDENTS = { ip: resident('ip'), ip6: resident('ip6') } as const;

/**
 * The listing request for chains of one nat table. Names come back from a node's output, and a
 * newline or `;` in one would be an nft command of its own: anything but our names throws.
 */
export function nftListRequest(family: 'ip' | 'ip6', chains: readonly string[]): string {
  return chains
    .map((c) => {
      if (!CHAIN.test(c)) throw new RangeError(`not a chain of ours: ${JSON.stringify(c)}`);
      return `list chain ${family} nat ${c}\n`;
    })
    .join('');
}
