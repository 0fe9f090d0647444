// `nft list` of iptables-nft's tables read back into iptables-save, checked against the
// iptables-save of the same network namespace (README.md, "Fixtures", says how both were made).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeTopology, toInspectJson } from '../kube/index';
import { findTable, parseIptablesSave, type Ruleset } from '../netfilter/index';
import { readXtablesNft } from './read';

const fixture = (name: string): string => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');
const corpus = (name: string): string =>
  readFileSync(new URL(`../../e2e/lab/fixtures/corpus/${name}`, import.meta.url), 'utf8');

/**
 * What nft 1.0.6 cannot print, taken out of both sides: comments, an option-less `-m tcp`
 * (prints as nothing; matches what `-p tcp` matches), and `-m recent`'s options.
 */
function comparable(save: string): string[] {
  return save
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) =>
      l
        .replace(/^\[\d+:\d+\] /, '')
        .replace(/ -m comment --comment ("(?:[^"\\]|\\.)*"|\S+)/, '')
        .replace(/ -m (tcp|udp|sctp)(?= -j| -m|$)/, '')
        .replace(/ -m recent(?: (?!-m |-j )\S+)*/, ' -m recent'),
    );
}

function answer(rs: Ruleset) {
  const nat = findTable(rs, 'nat')!;
  const filter = findTable(rs, 'filter');
  const json = toInspectJson(
    analyzeTopology({ nat, ...(filter ? { filter } : {}), backend: rs.backend, headerComments: rs.comments }),
  );
  // nft prints no comments, so no service names: everything else must be the same.
  return { ...json, nodePorts: json.nodePorts.map((n) => ({ ...n, service: null })), warnings: [] };
}

function saved(name: string): Ruleset {
  const r = parseIptablesSave(fixture(name));
  if (!r.ok) throw new Error(r.error.message);
  return r.ruleset;
}

describe('nft list ruleset of kube-proxy iptables mode, against iptables-save of the same rules', () => {
  it.each([
    ['current', 'KUBE-EXT layout, eTP Local, LB firewall, sctp, no-endpoint reject'],
    ['legacy-layout', 'KUBE-NODEPORTS -> KUBE-MARK-MASQ + KUBE-SVC, KUBE-XLB'],
    ['affinity', 'sessionAffinity (-m recent), --nodeport-addresses (-d IP -j KUBE-NODEPORTS)'],
    ['guarded', "with this project's NPG-* guard chains in PREROUTING"],
  ])('%s (%s): same rules, same answer', (name) => {
    const r = readXtablesNft(fixture(`${name}.nft-list-ruleset.txt`));
    if (!r.ok) throw new Error(`line ${r.line}: ${r.message}`);
    const known = /--ctstatus DNAT|! --ctstate RELATED,ESTABLISHED,DNAT/;
    expect(comparable(r.text).filter((l) => !known.test(l))).toEqual(
      comparable(fixture(`${name}.iptables-save.txt`)).filter((l) => !known.test(l)),
    );
    expect(r.family).toBe('ipv4');
    expect(r.ruleset.backend).toBe('nft');
    const got = answer(r.ruleset);
    expect(got).toEqual(answer(saved(`${name}.iptables-save.txt`)));
    expect(got.mode).toBe('iptables');
    expect(r.warnings).toContain(
      "nft printed none of the rules' comments (`-m comment`): service names are not shown; iptables-save has them",
    );
  });

  it('the current layout: every NodePort and endpoint as iptables-save says', () => {
    const r = readXtablesNft(fixture('current.nft-list-ruleset.txt'));
    if (!r.ok) throw new Error(r.message);
    const j = answer(r.ruleset);
    expect(j.nodePorts.map((n) => [n.port, n.protocol, n.endpoints])).toEqual([
      [30001, 'tcp', ['198.19.1.10:8080', '198.19.1.11:8080', '198.19.2.10:8080', '198.19.3.10:8080']],
      [30002, 'udp', ['198.19.2.11:5353', '198.19.3.11:5353']],
      [30003, 'tcp', ['198.19.1.12:8080']],
      [30004, 'tcp', []],
      [30005, 'sctp', ['198.19.1.13:9000']],
      [30006, 'tcp', ['198.19.1.14:8080', '198.19.2.13:8080']],
      [30007, 'tcp', ['198.19.3.13:8080']],
    ]);
    // Counters come along, as `iptables-save -c` gives them.
    expect(r.text).toMatch(/^\[0:0\] -A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS$/m);
    expect(r.warnings).toContain('this listing also has ip6 tables: shown here are the ip tables only');
  });

  it.each([
    [
      'current.nft-list-ruleset-2and1.txt',
      '`2>&1`: the `# Warning` and `XT target ... not found` lines in between',
    ],
    ['current.nft-a-list-ruleset.txt', '`nft -a`: `# handle N` after each line'],
    ['current.nft-list-table-ip-nat.txt', '`nft list table ip nat`'],
  ])('%s (%s) reads as the plain listing', (name) => {
    const r = readXtablesNft(fixture(name));
    const plain = readXtablesNft(fixture('current.nft-list-ruleset.txt'));
    if (!r.ok || !plain.ok) throw new Error('not read');
    const nat = (t: string) => comparable(t.slice(t.indexOf('*nat'), t.indexOf('COMMIT', t.indexOf('*nat'))));
    expect(nat(r.text)).toEqual(nat(plain.text));
  });

  it('`nft list chain ip nat KUBE-SERVICES`: one chain, and which jumps lead out of it', () => {
    const r = readXtablesNft(fixture('current.nft-list-chain-ip-nat-KUBE-SERVICES.txt'));
    if (!r.ok) throw new Error(r.message);
    expect(r.text).toContain(
      '-A KUBE-SERVICES -d 198.19.128.10/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-CDGGSHYLG3RE2FKL',
    );
    expect(r.warnings).toContain(
      'this listing does not show chains its rules jump to: KUBE-NODEPORTS (line 10), KUBE-SVC-TJNQAFVVOGT7RPK2 (line 3), KUBE-SVC-WMXB4IV4XJUTQTS2 (line 4) and 5 more; what lies behind them is not shown',
    );
  });
});

describe('other iptables shapes, against iptables-save of the same rules', () => {
  it('everything reads back except what nft 1.0.6 prints lossily (README: known losses)', () => {
    const r = readXtablesNft(fixture('shapes.nft-list-ruleset.txt'));
    if (!r.ok) throw new Error(r.message);
    const got = comparable(r.text);
    const want = comparable(fixture('shapes.iptables-save.txt'));
    expect(got.filter((l) => !want.includes(l))).toEqual([
      '-A X -m addrtype --src-type LOCAL -j RETURN',
      '-A X -m conntrack --ctstatus DNAT -j RETURN',
      '-A X -m conntrack --ctstate NEW -j RETURN',
    ]);
    expect(want.filter((l) => !got.includes(l))).toEqual([
      '-A X -m addrtype --src-type LOCAL --dst-type LOCAL -j RETURN',
      '-A X -m conntrack --ctstate DNAT -j RETURN',
      '-A X -m state --state NEW -j RETURN',
    ]);
  });
});

describe('what nft could not print is refused in one line naming it', () => {
  it('IPv6 DNAT printed as nothing (`XT target DNAT not found`): refused at the first such rule', () => {
    const text = fixture('current.nft-list-ruleset.txt');
    const r = readXtablesNft(text, { family: 'ipv6' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(text.split('\n')[r.line - 1]).toBe('\t\t counter packets 0 bytes 0 ');
    expect(r.message).toBe(
      'nft printed this KUBE-POSTROUTING rule without its target, so what it does is not shown; give iptables-save (ip6tables-save) of the node',
    );
    // The node's ip6tables-save has the target nft lost.
    expect(fixture('current.ip6tables-save.txt')).toMatch(
      /^-A KUBE-SEP-5QCO5KBKVP6FDIHN -p sctp -m comment --comment \S+ -m sctp -j DNAT --to-destination \[2001:2:0:101::d\]:9000$/m,
    );
    // With nft's stderr pasted in, the message says what nft said; trimmed lines are still caught.
    const both = readXtablesNft(fixture('current.nft-list-ruleset-2and1.txt'), { family: 'ipv6' });
    expect(both.ok ? '' : both.message).toMatch(
      /without its target \(nft said: XT target MASQUERADE not found\)/,
    );
    const trimmed = text
      .split('\n')
      .map((l) => l.trimEnd())
      .join('\n');
    const t = readXtablesNft(trimmed, { family: 'ipv6' });
    expect(t.ok ? '' : `${t.line} ${t.message}`).toMatch(
      /^\d+ nft printed this KUBE-SEP-5QCO5KBKVP6FDIHN rule without/,
    );
  });

  it.each([
    [
      '\t\tmeta l4proto tcp  xt match set counter packets 0 bytes 0 jump KUBE-MARK-MASQ',
      'nft printed `xt match set` without the ipset name the rule matches; give iptables-save (and `ipset list`)',
    ],
    [
      '\t\tiifname "lo" counter packets 0 bytes 0 xt target CT',
      'nft printed `xt target CT` without its options, so the rule cannot be read back; give iptables-save',
    ],
    [
      '\t\tcounter packets 0 bytes 0 log prefix "x "',
      '`log prefix "x "` is not an nft form of an iptables rule this reader knows',
    ],
    ['\t\tip daddr 198.18.0.1 jump', '`jump` is not an nft form of an iptables rule this reader knows'],
  ])('%s', (rule, message) => {
    const text = `table ip nat {\n\tchain KUBE-SERVICES {\n${rule}\n\t}\n}\n`;
    expect(readXtablesNft(text)).toEqual({ ok: false, line: 3, text: rule.trim(), message });
  });

  it('the corpus paste of two nodes (saifsust/DevOps): one line, not one node made of two', () => {
    const r = readXtablesNft(corpus('trap-iptables-nft-kube-services.saifsust-devops.nft-list.txt'));
    expect(r).toMatchObject({ ok: false, line: 13, text: 'chain KUBE-SERVICES {' });
    expect(r.ok ? '' : r.message).toMatch(/^chain KUBE-SERVICES is listed twice .*iptables-save$/);
  });

  it('one node of that paste: iptables mode, the ClusterIP rules, and NodePorts not shown', () => {
    const text = corpus('trap-iptables-nft-kube-services.saifsust-devops.nft-list.txt')
      .split('\n')
      .slice(0, 9)
      .join('\n');
    const r = readXtablesNft(text);
    if (!r.ok) throw new Error(r.message);
    expect(r.text).toContain('-A KUBE-SERVICES -d 192.168.0.100/32 -j KUBE-NODEPORTS');
    expect(r.text).toContain(
      '-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m udp --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU',
    );
    expect(r.warnings.join('\n')).toMatch(
      /does not show chains its rules jump to: KUBE-NODEPORTS \(line 8\)/,
    );
    expect(answer(r.ruleset)).toMatchObject({ mode: 'iptables', nodePorts: [] });
  });

  it.each([
    ['table ip nat {\n\tchain X {\n', 0, 'the listing ends inside a chain or table (a `}` is missing)'],
    [
      'table ip nat {\n}\ntable ip nat {\n}\n',
      3,
      'table ip nat is listed twice (two listings pasted together?)',
    ],
    ['table ip nat {\nfoo\n}\n', 2, 'not a line of `nft list` output for iptables-nft tables'],
  ])('%j: line %i', (text, line, message) => {
    expect(readXtablesNft(text)).toMatchObject({ ok: false, line, message });
  });

  it("other tables are skipped, saying so (they are not iptables')", () => {
    const text = `table inet nodeport-guard {\n\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat - 10; policy accept;\n\t}\n}\n${fixture('current.nft-list-table-ip-nat.txt')}`;
    const r = readXtablesNft(text);
    expect(r.ok && r.warnings[0]).toBe(
      "line 1: table inet nodeport-guard is not one of iptables' tables and was not read",
    );
  });
});
