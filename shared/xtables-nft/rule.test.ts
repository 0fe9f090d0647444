// One nft rule line of an iptables-nft table to the iptables-save rule it came from. The left
// sides are lines nft 1.0.6 printed for rules loaded with iptables-nft-restore (README.md, "Fixtures");
// the right sides are what iptables-save printed for them, comments aside.
import { describe, expect, it } from 'vitest';
import { probabilityOf, readRule } from './rule';

const line = (chain: string, text: string, family: 'ip' | 'ip6' = 'ip') => {
  const r = readRule(chain, text, family);
  return r.ok ? r.line : `refused: ${r.message}`;
};

describe('readRule', () => {
  it.each([
    [
      'meta l4proto tcp ip daddr 198.19.128.10  tcp dport 80 counter packets 3 bytes 180 jump KUBE-SVC-CDGGSHYLG3RE2FKL',
      '[3:180] -A C -d 198.19.128.10/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-CDGGSHYLG3RE2FKL',
    ],
    [
      ' fib daddr type local counter packets 0 bytes 0 jump KUBE-NODEPORTS',
      '[0:0] -A C -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
    ],
    [
      'meta l4proto tcp ip saddr != 198.19.0.0/17 ip daddr 198.19.128.16  tcp dport 8443 counter packets 0 bytes 0 jump KUBE-MARK-MASQ',
      '[0:0] -A C ! -s 198.19.0.0/17 -d 198.19.128.16/32 -p tcp -m tcp --dport 8443 -j KUBE-MARK-MASQ',
    ],
    [
      ' meta random & 2147483647 < 715827883 counter packets 0 bytes 0 jump KUBE-SEP-4DRJRB6QQEGQJZEC',
      '[0:0] -A C -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-4DRJRB6QQEGQJZEC',
    ],
    [
      'meta l4proto tcp   counter packets 0 bytes 0 dnat to 198.19.2.13:8080',
      '[0:0] -A C -p tcp -j DNAT --to-destination 198.19.2.13:8080',
    ],
    [
      'counter packets 0 bytes 0 meta mark set mark or 0x4000',
      '[0:0] -A C -j MARK --set-xmark 0x4000/0x4000',
    ],
    ['counter packets 0 bytes 0 meta mark set mark xor 0x4000', '[0:0] -A C -j MARK --set-xmark 0x4000/0x0'],
    [
      'counter packets 0 bytes 0 meta mark set mark and 0xffffff00 xor 0x1',
      '[0:0] -A C -j MARK --set-xmark 0x1/0xff',
    ],
    [
      'counter packets 0 bytes 0 meta mark set mark and 0xffff0000',
      '[0:0] -A C -j MARK --set-xmark 0x0/0xffff',
    ],
    [
      'meta mark & 0x00004000 != 0x00004000 counter packets 0 bytes 0 return',
      '[0:0] -A C -m mark ! --mark 0x4000/0x4000 -j RETURN',
    ],
    [' counter packets 0 bytes 0 masquerade fully-random', '[0:0] -A C -j MASQUERADE --random-fully'],
    [
      'meta l4proto tcp  fib daddr type local tcp dport 30004 counter packets 0 bytes 0 reject',
      '[0:0] -A C -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 30004 -j REJECT --reject-with icmp-port-unreachable',
    ],
    [
      'ct state related,established counter packets 0 bytes 0 accept',
      '[0:0] -A C -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    ],
    [
      'ip daddr 192.168.0.100  counter packets 77 bytes 4824 jump KUBE-NODEPORTS',
      '[77:4824] -A C -d 192.168.0.100/32 -j KUBE-NODEPORTS',
    ],
    [' counter packets 0 bytes 0', '[0:0] -A C'],
    [
      'udp sport 68 udp dport 67 oifname "eth0" counter accept',
      '-A C -o eth0 -p udp -m udp --sport 68 --dport 67 -j ACCEPT',
    ],
    [
      'meta l4proto tcp  tcp dport { 80, 443 } counter packets 0 bytes 0 drop',
      '[0:0] -A C -p tcp -m multiport --dports 80,443 -j DROP',
    ],
    [
      'ip saddr 198.18.0.1-198.18.0.9 ip daddr != 198.18.1.1-198.18.1.9 counter packets 0 bytes 0 accept',
      '[0:0] -A C -m iprange --src-range 198.18.0.1-198.18.0.9 -m iprange ! --dst-range 198.18.1.1-198.18.1.9 -j ACCEPT',
    ],
    [
      'tcp dport 22 counter packets 0 bytes 0 redirect to :65535',
      '[0:0] -A C -p tcp -m tcp --dport 22 -j REDIRECT --to-ports 65535',
    ],
    [
      'tcp flags syn / syn,rst counter reject with tcp reset',
      'refused: `tcp flags syn /` is not an nft form of an iptables rule this reader knows',
    ],
    [
      'meta l4proto tcp ip daddr 198.19.128.10 tcp dport 80 counter packets 0 bytes 0 jump KUBE-SVC-X comment "default/web:http cluster IP"',
      '[0:0] -A C -d 198.19.128.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-X',
    ],
  ])('%s', (nft, save) => expect(line('C', nft)).toBe(save));

  it('IPv6: host addresses get /128, `dnat to [a]:p`, reject says icmp6', () => {
    expect(
      line(
        'C',
        'ip6 daddr != ::1  fib daddr type local counter packets 0 bytes 0 jump KUBE-NODEPORTS',
        'ip6',
      ),
    ).toBe('[0:0] -A C ! -d ::1/128 -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
    expect(line('C', 'meta l4proto tcp counter dnat to [2001:2:0:101::a]:8080', 'ip6')).toBe(
      '-A C -p tcp -j DNAT --to-destination [2001:2:0:101::a]:8080',
    );
    expect(line('C', 'counter reject', 'ip6')).toBe('-A C -j REJECT --reject-with icmp6-port-unreachable');
    expect(line('C', 'ip daddr 198.18.0.1 counter accept', 'ip6')).toBe(
      'refused: `ip daddr` in a table of family ip6',
    );
  });

  it('`xt match recent` is kept as `-m recent` (kube-proxy affinity), saying its options are not shown', () => {
    const r = readRule('KUBE-SVC-X', ' xt match recent counter packets 0 bytes 0 jump KUBE-SEP-Y', 'ip');
    expect(r).toMatchObject({
      ok: true,
      line: '[0:0] -A KUBE-SVC-X -m recent -j KUBE-SEP-Y',
      notes: ['nft printed `xt match recent` without its options: kept as `-m recent`, options not shown'],
    });
    expect(
      line(
        'KUBE-SEP-X',
        'meta l4proto sctp  xt match sctp counter packets 0 bytes 0 dnat to 198.19.1.13:9000',
      ),
    ).toBe('[0:0] -A KUBE-SEP-X -p sctp -m sctp -j DNAT --to-destination 198.19.1.13:9000');
  });

  it('probabilityOf undoes xt_statistic scaling as iptables-save prints it', () => {
    expect([536870912, 715827883, 1073741824].map(probabilityOf)).toEqual([
      '0.25000000000',
      '0.33333333349',
      '0.50000000000',
    ]);
  });
});
