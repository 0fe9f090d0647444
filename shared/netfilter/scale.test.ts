// A kube-proxy-shaped dump of realistic size (the speed itself is measured by `npm run bench`;
// the bound here only guards against accidental quadratic behaviour or hangs).

import { describe, expect, it } from 'vitest';
import { findChain } from './chain-index.js';
import { findTable } from './model.js';
import { parseIptablesSave } from './parse.js';
import { serializeRuleset } from './serialize.js';

/** kube-proxy >= 1.24 nat layout: per service KUBE-SVC + KUBE-EXT, per endpoint KUBE-SEP. */
function kubeProxyDump(services: number, endpoints: number): string {
  const decl = [
    ':PREROUTING ACCEPT [0:0]',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-NODEPORTS - [0:0]',
    ':KUBE-MARK-MASQ - [0:0]',
  ];
  const rules = ['-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'];
  for (let s = 0; s < services; s++) {
    const name = `ns${s % 40}/svc-${s}:http`;
    const id = `S${s.toString(36).toUpperCase().padStart(15, '0')}`;
    const cip = `198.19.${(s >> 8) & 255}.${s & 255}`;
    decl.push(`:KUBE-SVC-${id} - [0:0]`, `:KUBE-EXT-${id} - [0:0]`);
    rules.push(
      `-A KUBE-SERVICES -d ${cip}/32 -p tcp -m comment --comment "${name} cluster IP" -m tcp --dport 80 -j KUBE-SVC-${id}`,
      `-A KUBE-NODEPORTS -p tcp -m comment --comment "${name}" -m tcp --dport ${30000 + (s % 2700)} -j KUBE-EXT-${id}`,
      `-A KUBE-EXT-${id} -m comment --comment "masquerade traffic for ${name} external destinations" -j KUBE-MARK-MASQ`,
      `-A KUBE-EXT-${id} -j KUBE-SVC-${id}`,
    );
    for (let e = 0; e < endpoints; e++) {
      const sep = `${id.slice(-14)}E${e}`;
      const ip = `198.18.${128 + (((s * endpoints + e) >> 8) % 128)}.${(s * endpoints + e) & 255}`;
      const left = endpoints - e;
      const stat = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(11)}` : '';
      decl.push(`:KUBE-SEP-${sep} - [0:0]`);
      rules.push(
        `-A KUBE-SVC-${id} -m comment --comment "${name} -> ${ip}:8080"${stat} -j KUBE-SEP-${sep}`,
        `-A KUBE-SEP-${sep} -s ${ip}/32 -m comment --comment "${name}" -j KUBE-MARK-MASQ`,
        `-A KUBE-SEP-${sep} -p tcp -m comment --comment "${name}" -m tcp -j DNAT --to-destination ${ip}:8080`,
      );
    }
  }
  return ['*nat', ...decl, ...rules, 'COMMIT', ''].join('\n');
}

describe('a large kube-proxy dump', () => {
  it('parses 1,000 services x 3 endpoints and reads its own printout back', { timeout: 60_000 }, () => {
    const text = kubeProxyDump(1000, 3);
    const t0 = performance.now();
    const r = parseIptablesSave(text);
    expect(performance.now() - t0).toBeLessThan(20_000); // hang guard only
    if (!r.ok) throw new Error(r.error.message);
    const nat = findTable(r.ruleset, 'nat')!;
    expect(nat.chains).toHaveLength(4 + 1000 * 5);
    expect(findChain(nat, 'KUBE-NODEPORTS')!.rules).toHaveLength(1000);
    const again = parseIptablesSave(serializeRuleset(r.ruleset));
    expect(again.ok && again.ruleset.tables[0]!.chains.map((c) => c.rules.length)).toEqual(
      nat.chains.map((c) => c.rules.length),
    );
  });
});
