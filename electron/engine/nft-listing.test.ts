// guard-read.txt is a guard read as verify keeps it, from a dual-stack lab node holding a guard
// for tcp/30001 and udp/30002: the resident nft's listing of our chains (both families, taken
// first) as the `nft` section, then READ_SCRIPT's real output (`guard`).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { serializeRuleSpec } from '../../shared/netfilter/serialize';
import { nftCounters, nftFingerprint, refreshedOutput, spliceCounters } from './nft-listing';
import { parseScriptOutput } from './sections';
import { snapshotFromOutput } from './snapshot';

const READ = parseScriptOutput(readFileSync('electron/engine/test-support/guard-read.txt', 'utf8'));
const LISTING = READ.sections.get('nft')!.body;

/** What QUICK_SCRIPT prints: the listing (here with `edit` applied), sockets, pending state. */
function quick(edit: (listing: string) => string = (l) => l): ReturnType<typeof parseScriptOutput> {
  const listen = READ.sections.get('listen')!.body;
  return parseScriptOutput(
    `%%npg dir x\n%%npg begin nft\n${edit(LISTING)}\n%%npg end nft 0\n%%npg begin listen\n${listen}\n%%npg end listen 0\n`,
  );
}

describe('the nft listing of our chains', () => {
  it('counts every rule of every chain listed, in order', () => {
    const c = nftCounters(LISTING)!.get('ipv4')!;
    expect([...c.keys()]).toEqual(['PREROUTING', 'NPG-PREROUTING', 'NPG-TCP-30001', 'NPG-UDP-30002']);
    expect(c.get('NPG-TCP-30001')).toHaveLength(3);
    expect(c.get('PREROUTING')!.length).toBeGreaterThanOrEqual(2);
  });

  it('a fingerprint blind to counters only', () => {
    const moreTraffic = LISTING.replace(
      /counter packets (\d+) bytes (\d+)/g,
      'counter packets 7$1 bytes 9$2',
    );
    expect(nftFingerprint(moreTraffic)).toBe(nftFingerprint(LISTING));
    const replaced = LISTING.replace(/# handle 143$/m, '# handle 405');
    expect(nftFingerprint(replaced)).not.toBe(nftFingerprint(LISTING));
  });

  it('brings the read up to date when only counters moved: same findings, new counters, new sockets', () => {
    const moved = refreshedOutput(
      READ,
      quick((l) =>
        l.replace(
          /(meta l4proto tcp\s+counter packets )\d+ bytes \d+/,
          (_m, head: string) => `${head}12 bytes 720`,
        ),
      ),
    );
    expect(moved).toBeDefined();
    const before = snapshotFromOutput('node1', READ, 'guard');
    const after = snapshotFromOutput('node1', moved!, 'guard');
    if (!before.ok || !after.ok) throw new Error('snapshot');
    const rules = (s: typeof after) =>
      s.snapshot.families[0]!.state.chains.find((c) => c.name === 'NPG-TCP-30001')!.rules;
    expect(rules(after).map((r) => serializeRuleSpec(r))).toEqual(
      rules(before).map((r) => serializeRuleSpec(r)),
    );
    expect(rules(after)).toHaveLength(3);
    expect(rules(after)[2]!.counters).toEqual({ packets: 12, bytes: 720 });
    expect(moved!.sections.get('v4')!.body).toContain('-c 12 720 -j REDIRECT --to-ports 65535');
    expect(after.snapshot.listening).toEqual(before.snapshot.listening);
  });

  it('says "read again" when a rule was added, deleted, replaced or moved', () => {
    const lines = LISTING.split('\n');
    const at = lines.findIndex((l) => l.includes('# handle 144'));
    const deleted = [...lines.slice(0, at), ...lines.slice(at + 1)].join('\n');
    const added = [
      ...lines.slice(0, at),
      lines[at]!.replace('# handle 144', '# handle 300'),
      ...lines.slice(at),
    ].join('\n');
    const entry = lines.findIndex((l) => l.includes('jump NPG-PREROUTING'));
    const swapped = [...lines];
    [swapped[entry], swapped[entry + 1]] = [swapped[entry + 1]!, swapped[entry]!];
    for (const edited of [
      deleted,
      added,
      swapped.join('\n'),
      LISTING.replace('# handle 143', '# handle 301'),
    ])
      expect(
        refreshedOutput(
          READ,
          quick(() => edited),
        ),
      ).toBeUndefined();
    expect(
      refreshedOutput(READ, parseScriptOutput('%%npg begin nft\n\n%%npg end nft 127\n')),
    ).toBeUndefined();
  });

  it('splices only when every chain has as many rules in the listing as in the read', () => {
    const text = '-N NPG-X\n-A NPG-X -s 198.18.0.1/32 -m comment --comment "a -c 1 2" -c 3 4 -j RETURN\n';
    expect(spliceCounters(text, new Map([['NPG-X', [{ packets: 5, bytes: 6 }]]]))).toBe(
      '-N NPG-X\n-A NPG-X -s 198.18.0.1/32 -m comment --comment "a -c 1 2" -c 5 6 -j RETURN\n',
    );
    expect(spliceCounters(text, new Map([['NPG-X', []]]))).toBeUndefined();
    expect(
      spliceCounters(
        text,
        new Map([
          [
            'NPG-X',
            [
              { packets: 1, bytes: 1 },
              { packets: 2, bytes: 2 },
            ],
          ],
        ]),
      ),
    ).toBeUndefined();
    expect(
      nftCounters(
        'table ip nat {\n\tchain NPG-X { # handle 1\n\t\tip saddr 1.2.3.4 return # handle 2\n\t}\n}\n',
      ),
    ).toBeUndefined();
  });
});
