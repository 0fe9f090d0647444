// Priming the rule checks (rule-check.ts) before a large dump, for the JIT's sake.
import { createLineTokens, scanLineTokens } from './line-tokens.js';
import { checkRule, createRuleScan } from './rule-check.js';

/**
 * One rule of each shape kube-proxy writes. A large dump brings them in blocks (10,000 KUBE-EXT
 * rules, then the KUBE-NODEPORTS ones, then 30,000 KUBE-SEP ones, ...), so the rule checks were
 * optimised on the first shape and thrown away at each new one, several times per run, each
 * recompilation costing tens of milliseconds of a cold `npg inspect`. Checking these few lines
 * first lets the first optimisation see every shape.
 */
const SHAPES = [
  '-A KUBE-EXT-X -m comment --comment "masquerade traffic for ns/svc:http external destinations" -j KUBE-MARK-MASQ',
  '-A KUBE-EXT-X -j KUBE-SVC-X',
  '-A KUBE-EXT-X -s 198.19.0.0/17 -m comment --comment "pod traffic for ns/svc:http external destinations" -j KUBE-SVC-X',
  '-A KUBE-EXT-X -m comment --comment "route LOCAL traffic" -m addrtype --src-type LOCAL -j KUBE-SVC-X',
  '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
  '-A KUBE-NODEPORTS -p tcp -m comment --comment "ns/svc:http" -m tcp --dport 30001 -j KUBE-EXT-X',
  '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
  '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  '-A KUBE-SEP-X -s 198.19.1.10/32 -m comment --comment "ns/svc:http" -j KUBE-MARK-MASQ',
  '-A KUBE-SEP-X -p tcp -m comment --comment "ns/svc:http" -m tcp -j DNAT --to-destination 198.19.1.10:8080',
  '-A KUBE-SERVICES -d 198.19.128.10/32 -p tcp -m comment --comment "ns/svc:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-X',
  '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
  '-A KUBE-SVC-X ! -s 198.19.0.0/17 -d 198.19.128.10/32 -p tcp -m comment --comment "ns/svc:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ',
  '-A KUBE-SVC-X -m comment --comment "ns/svc:http -> 198.19.1.10:8080" -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-X',
  '-A KUBE-SVC-X -m comment --comment "ns/svc:http -> 198.19.1.10:8080" -j KUBE-SEP-X',
  '-A KUBE-FW-X -m comment --comment "other traffic to ns/svc:https will be dropped by KUBE-PROXY-FIREWALL"',
].join('\n');
const PRIMING_ROUNDS = 4;
let primed = false;

/** Checks the sample rules a few times, once per process. */
export function primeRuleChecks(): void {
  if (primed) return;
  primed = true;
  const tokens = createLineTokens();
  const scan = createRuleScan();
  for (let round = 0; round < PRIMING_ROUNDS; round++) {
    for (let pos = 0; pos < SHAPES.length; ) {
      let end = SHAPES.indexOf('\n', pos);
      if (end < 0) end = SHAPES.length;
      if (scanLineTokens(SHAPES, pos, end, tokens)) checkRule(SHAPES, tokens, 2, scan);
      pos = end + 1;
    }
  }
}
